"""Migrations build an empty database that matches the models exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from o2o.extensions import db
from tests.conftest import build_app


def test_upgrading_an_empty_database_leaves_no_pending_model_changes(
    empty_database_url: str,
) -> None:
    app = build_app(empty_database_url)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
                tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert tables == set(db.metadata.tables) | {"alembic_version"}
    finally:
        with app.app_context():
            db.engine.dispose()
