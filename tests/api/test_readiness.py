"""Readiness: /readyz asks the database (and a shared rate-limit store); while either is gone,
it and every request that needs it answer 503 service_unavailable with Retry-After, and both
recover without a restart. /healthz, the liveness probe, touches neither."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from o2o.api.errors import database_unreachable
from tests.builders import ADMIN_KEY, Api
from tests.conftest import PG_URL, AppFactory, _close, build_app
from tests.live import O2O, subprocess_environment
from tests.redis_server import redis_storage


def assert_unavailable(response: TestResponse) -> None:
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture
def unmigrated_app() -> Iterator[Callable[[str], Flask]]:
    """Apps built straight on a database URL (the test migrates it), closed after."""
    apps: list[Flask] = []

    def make(url: str) -> Flask:
        apps.append(build_app(url))
        return apps[-1]

    yield make
    for app in apps:
        _close(app)


def migrate(app: Flask) -> None:
    """`o2o db upgrade`, as an operator restores a database: in a process of its own, because
    Alembic's env.py reconfigures logging (sqlalchemy.engine to WARN) for whoever runs it."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    subprocess.run(
        [O2O, "db", "upgrade"],
        env=subprocess_environment(O2O_DATABASE_URL=url),
        check=True,
        capture_output=True,
    )


def test_readyz_is_ready_when_the_database_answers(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_asks_the_redis_that_rate_limits_count_in(app_factory: AppFactory) -> None:
    with redis_storage() as settings:
        app = app_factory(O2O_RATE_LIMITS="claims=30/minute", **settings)
        response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "rate_limit_storage": "ok"}


def test_an_unreachable_rate_limit_store_answers_503_but_healthz_stays_live(
    app_factory: AppFactory,
) -> None:
    app = app_factory(
        O2O_RATE_LIMITS="claims=30/minute", O2O_RATE_LIMIT_STORAGE="redis://127.0.0.1:1/0"
    )
    client = app.test_client()
    ready = client.get("/readyz")
    assert_unavailable(ready)
    assert ready.get_json()["error"]["details"]["checks"] == {
        "database": "ok",
        "rate_limit_storage": "unavailable",
    }
    assert_unavailable(Api(client).get("/stores", ADMIN_KEY))
    assert client.get("/healthz").status_code == 200


def test_a_dropped_postgresql_database_answers_503_and_recovers_without_a_restart(
    postgres_server: Callable[[], str], unmigrated_app: Callable[[str], Flask]
) -> None:
    assert PG_URL
    url = postgres_server()
    name = make_url(url).database
    app = unmigrated_app(url)
    migrate(app)
    client, api = app.test_client(), Api(app.test_client())
    assert client.get("/readyz").status_code == 200
    assert api.get("/stores", ADMIN_KEY).status_code == 200
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        # The pooled connection was terminated; then every new one finds no database.
        assert_unavailable(api.get("/stores", ADMIN_KEY))
        assert_unavailable(client.get("/readyz"))
        assert_unavailable(api.get("/stores", ADMIN_KEY))
        assert client.get("/healthz").status_code == 200
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    migrate(app)
    assert client.get("/readyz").status_code == 200
    assert api.get("/stores", ADMIN_KEY).get_json() == {"items": [], "next_cursor": None}


def test_a_sqlite_database_that_cannot_be_opened_answers_503_until_it_can(
    tmp_path: Path, unmigrated_app: Callable[[str], Flask]
) -> None:
    volume = tmp_path / "volume"  # e.g. a disk not mounted yet
    app = unmigrated_app(f"sqlite:///{volume / 'o2o.sqlite3'}")
    client, api = app.test_client(), Api(app.test_client())
    assert_unavailable(client.get("/readyz"))
    assert_unavailable(api.get("/stores", ADMIN_KEY))
    volume.mkdir()
    migrate(app)
    assert client.get("/readyz").status_code == 200
    assert api.get("/stores", ADMIN_KEY).status_code == 200


def test_a_database_lost_after_the_view_still_answers_503(app_factory: AppFactory) -> None:
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.after_request
    def pool_exhausted(_: object) -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")

    assert_unavailable(Api(app.test_client()).get("/stores", ADMIN_KEY))


def _wrapped(
    original: Exception, statement: str | None = "SELECT 1", connection_invalidated: bool = False
) -> Exception:
    return sa_exc.OperationalError(
        statement, None, original, connection_invalidated=connection_invalidated
    )


def _sqlite_busy(path: Path) -> sqlite3.OperationalError:
    """A real "database is locked" (SQLITE_BUSY): a second writer that will not wait."""
    holder, writer = sqlite3.connect(path), sqlite3.connect(path, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.commit()
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as busy:
            writer.execute("INSERT INTO t VALUES (1)")
    finally:
        holder.close()
        writer.close()
    return busy.value


def test_only_errors_that_mean_the_database_is_unreachable_answer_503(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as cannot_open:  # SQLITE_CANTOPEN
        sqlite3.connect(tmp_path / "no such folder" / "o2o.sqlite3")
    unreachable = {
        "connection lost mid-statement": _wrapped(
            psycopg.errors.AdminShutdown("terminating"), connection_invalidated=True
        ),
        "refused while connecting": _wrapped(psycopg.OperationalError("refused"), None),
        "no such database": _wrapped(psycopg.errors.InvalidCatalogName("no db"), None),
        "too many connections": _wrapped(psycopg.errors.TooManyConnections("full"), None),
        "sqlite cannot open its file": _wrapped(cannot_open.value, None),
        "pool exhausted": sa_exc.TimeoutError("QueuePool limit reached"),
    }
    statement_failures = {
        "serialization failure at COMMIT": _wrapped(
            psycopg.errors.SerializationFailure("could not serialize"), None
        ),
        "sqlite locked at COMMIT": _wrapped(_sqlite_busy(tmp_path / "busy.sqlite3"), None),
        "lock timeout": _wrapped(psycopg.errors.LockNotAvailable("lock timeout")),
        "unique violation": sa_exc.IntegrityError("INSERT", None, psycopg.errors.UniqueViolation()),
        "not a database error": RuntimeError("boom"),
    }
    assert {name: database_unreachable(e) for name, e in unreachable.items()} == dict.fromkeys(
        unreachable, True
    )
    assert {
        name: database_unreachable(e) for name, e in statement_failures.items()
    } == dict.fromkeys(statement_failures, False)
