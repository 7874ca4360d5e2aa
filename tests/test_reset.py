"""`o2o reset` (make reset): the demo database started over; only SQLite unless --force."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, func, inspect, select, text

from o2o.extensions import db
from o2o.models import ApiKey, Campaign, Clerk, Coupon, Shopper, Store
from tests.builders import Api
from tests.conftest import build_app

REPO = Path(__file__).resolve().parent.parent
MODELS = (Store, Clerk, Shopper, Campaign, Coupon, ApiKey)
DEMO_SHOPPER = {"api_key": "demo-shopper-001"}


def _rows(app: Flask) -> dict[str, Any]:
    """Each table's count, and the ids of the stores (the sample's are st_hz_…)."""
    with app.app_context():
        counts: dict[str, Any] = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in MODELS
        }
        counts["store ids"] = sorted(db.session.scalars(select(Store.id)))
        db.session.remove()
    return counts


def _reset(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["reset", *args])


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a SQLite file, migrated and seeded, as `make run` leaves it."""
    app = build_app(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with app.app_context():
        upgrade()
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    yield app
    with app.app_context():
        db.engine.dispose()


def _play(app: Flask) -> None:
    """Rows beyond the sample: a new store and shopper, a claimed coupon."""
    api = Api(app.test_client())
    api.store(name="Pop-up")
    api.shopper(name="Extra")
    api.claim(DEMO_SHOPPER, "cmp_50off300")


def test_resetting_after_play_leaves_only_the_seed_data(demo_app: Flask) -> None:
    seeded = _rows(demo_app)
    _play(demo_app)
    assert _rows(demo_app) != seeded

    result = _reset(demo_app)

    assert result.exit_code == 0, result.output
    assert _rows(demo_app) == seeded
    assert "Seeded " in result.output
    assert "demo-admin-key" in result.output  # the keys to start again with


def test_a_reset_says_what_it_resets_before_it_does(demo_app: Flask, tmp_path: Path) -> None:
    lines = _reset(demo_app).output.splitlines()
    assert lines[0].startswith(f"Resetting sqlite:///{tmp_path / 'demo.sqlite3'}: ")
    assert "dropping every table" in lines[0]
    assert lines[1].startswith("Dropped ")
    assert "coupons" in lines[1]


def test_a_reset_drops_tables_no_model_knows_and_migrates_to_the_latest_revision(
    demo_app: Flask,
) -> None:
    with demo_app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))
        head = conn.scalar(text("SELECT version_num FROM alembic_version"))

    assert _reset(demo_app).exit_code == 0

    with demo_app.app_context(), db.engine.connect() as conn:
        assert "leftover" not in inspect(conn).get_table_names()
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head


def test_a_reset_starts_even_an_empty_database(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        result = _reset(app)
        assert result.exit_code == 0, result.output
        assert _rows(app)["stores"] == 4
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_postgresql_url_without_force_is_refused_and_never_connected_to() -> None:
    app = build_app("postgresql+psycopg://o2o:hunter2@127.0.0.1:1/o2o_production")
    connections: list[object] = []
    with app.app_context():
        event.listen(db.engine, "connect", lambda connection, _: connections.append(connection))

    result = _reset(app)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "Refusing to reset postgresql+psycopg://o2o:***@127.0.0.1:1/o2o_production" in (
        result.output
    )
    assert "--force" in result.output
    assert "Nothing was changed." in result.output
    assert "hunter2" not in result.output
    assert connections == []


def test_force_resets_a_throwaway_postgresql_database(
    postgres_server: Callable[[], str],
) -> None:
    app = build_app(postgres_server())
    try:
        with app.app_context():
            upgrade()
        app.test_cli_runner().invoke(args=["seed"])
        seeded = _rows(app)
        _play(app)
        refused = _reset(app)
        assert refused.exit_code == 1
        assert _rows(app) != seeded  # untouched by the refusal

        result = _reset(app, "--force")

        assert result.exit_code == 0, result.output
        assert _rows(app) == seeded
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("force", "command"),
    [(None, "o2o reset"), ("0", "o2o reset"), ("1", "o2o reset --force")],
)
def test_make_reset_passes_force_only_when_force_is_1(force: str | None, command: str) -> None:
    assignment = [f"FORCE={force}"] if force is not None else []
    planned = subprocess.run(
        ["make", "-n", "-s", "reset", *assignment],
        cwd=REPO,
        env={name: value for name, value in os.environ.items() if name != "FORCE"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert planned[-1].endswith(f"/{command}"), planned
