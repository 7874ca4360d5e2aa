"""Fixtures: apps on throwaway databases (SQLite and, when configured, PostgreSQL), their clients.

Every database-dependent test runs once per database, with ids `[sqlite]` and `[postgresql]`:
`app` / `api` (and `app_factory` for apps with extra settings) are parametrized through
`database_url`. The PostgreSQL case starts from empty tables: the schema is created once per run
in a throwaway database and every table is truncated before each test, which is much faster than
dropping and creating the schema each time. Apps are built from pinned settings only: nothing
the caller exported (O2O_ORDER_TTL, O2O_DATABASE_URL, …) reaches them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import o2o.models  # noqa: F401  # the tables, before any fixture creates them
from o2o import create_app
from o2o.client import InProcess, Service
from o2o.extensions import db
from tests.builders import PINNED_SETTINGS, Api

PG_URL = os.environ.get("O2O_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("O2O_REQUIRE_POSTGRES") == "1"
DATABASES = ["sqlite", "postgresql"]

AppFactory = Callable[..., Flask]


def build_app(database_url: str, **config: Any) -> Flask:
    """An app on `database_url` from the pinned settings (and `config`), never os.environ."""
    settings = {
        **PINNED_SETTINGS,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        **config,
    }
    return create_app(settings, environ={})


def _close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Callable[[], str]]:
    """Make throwaway PostgreSQL databases on O2O_TEST_DATABASE_URL's server; all dropped after.

    Without O2O_TEST_DATABASE_URL the PostgreSQL cases skip, or fail when O2O_REQUIRE_POSTGRES=1.
    """
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("O2O_REQUIRE_POSTGRES=1 but O2O_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL suite: set O2O_TEST_DATABASE_URL to run it")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def new_database() -> str:
        name = f"o2o_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    try:
        yield new_database
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Callable[[], str]) -> str:
    """A throwaway PostgreSQL database for this run (empty: no schema)."""
    return postgres_server()


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> Iterator[Callable[[], None]]:
    """The run's PostgreSQL database with the schema created once; yields `reset()`: empty it."""
    engine = create_engine(postgres_url)
    db.metadata.create_all(engine)
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)

    def reset() -> None:
        with engine.begin() as conn:
            # A connection left open by the previous test would block TRUNCATE: fail instead.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    yield reset
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database the suite must hold on, with empty tables: SQLite, and PostgreSQL."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_schema")()
        return str(request.getfixturevalue("postgres_url"))
    url = f"sqlite:///{tmp_path / 'o2o.sqlite3'}"
    engine = create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all (for migrations): SQLite, and PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_server")())
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def app_factory(database_url: str) -> Iterator[AppFactory]:
    """Build apps on this test's database (its tables empty at the start); closed after."""
    apps: list[Flask] = []

    def factory(**config: Any) -> Flask:
        app = build_app(database_url, **config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        _close(app)


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    return app_factory()


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


# The o2o pytest plugin's fixtures, overridden: in this suite the flow tests run in process on
# each database, with the pinned settings, whatever --o2o-url or O2O_TEST_URL says.
@pytest.fixture
def o2o_app(app: Flask) -> Flask:
    return app


@pytest.fixture
def o2o_admin(o2o_app: Flask) -> Service:
    return Service(InProcess(o2o_app.test_client()), o2o_app.config["O2O_ADMIN_KEY"])
