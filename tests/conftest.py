"""Fixtures: an app on a throwaway database, its client and the API builders."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from o2o import create_app
from o2o.extensions import db
from tests.builders import ADMIN_KEY, SECRET, Api

PG_URL = os.environ.get("O2O_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("O2O_REQUIRE_POSTGRES") == "1"


def build_app(database_url: str, **config: Any) -> Flask:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "O2O_SECRET_KEY": SECRET,
        "O2O_ADMIN_KEY": ADMIN_KEY,
        "O2O_SANDBOX": True,
        "TESTING": True,
        **config,
    }
    return create_app(settings)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this run, dropped at the end."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("O2O_REQUIRE_POSTGRES=1 but O2O_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL suite: set O2O_TEST_DATABASE_URL to run it")
    name = f"o2o_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_schema(app: Flask) -> None:
    with app.app_context():
        db.drop_all()
        db.create_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database this suite must hold on: SQLite always, PostgreSQL when configured."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'o2o.sqlite3'}"


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[Any]:
    """Build apps on a given database with a fresh schema; their engines are closed after."""
    apps: list[Flask] = []

    def factory(database_url: str | None = None, **config: Any) -> Flask:
        app = build_app(database_url or f"sqlite:///{tmp_path / 'o2o.sqlite3'}", **config)
        _fresh_schema(app)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Any) -> Flask:
    return app_factory()  # type: ignore[no-any-return]


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


@pytest.fixture
def matrix_app(app_factory: Any, db_url: str) -> Flask:
    """The app on each database of the matrix."""
    return app_factory(db_url)  # type: ignore[no-any-return]


@pytest.fixture
def matrix_api(matrix_app: Flask) -> Api:
    return Api(matrix_app.test_client())
