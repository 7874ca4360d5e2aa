"""The o2o pytest plugin (entry point `pytest11`): an app on a throwaway database and a flow API.

Fixtures: `o2o` (the merchant's Service: stores, clerks, shoppers, campaigns, stats), `o2o_admin`
(the same admin client, for raw calls), `o2o_clock` (the sandbox clock: freeze, advance),
`o2o_app` (the Flask app, in-process mode). With `--o2o-url URL` (or O2O_TEST_URL) the same tests
run against a live service started with O2O_SANDBOX=1; `--o2o-admin-key` gives its admin key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from o2o.client import Clock, InProcess, OverHttp, Service, Transport


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("o2o", "O2O coupon-and-payment service")
    group.addoption(
        "--o2o-url",
        default=os.environ.get("O2O_TEST_URL"),
        help="run o2o flow tests against this live service instead of in process",
    )
    group.addoption(
        "--o2o-admin-key",
        default=os.environ.get("O2O_TEST_ADMIN_KEY", os.environ.get("O2O_ADMIN_KEY")),
        help="admin API key of the live service",
    )


@pytest.fixture
def o2o_app(tmp_path: Path) -> Iterator[Flask]:
    """The service in process, on a fresh SQLite file, in sandbox mode."""
    from o2o import create_app
    from o2o.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o2o-test.sqlite3'}",
            "O2O_SANDBOX": True,
            "O2O_ADMIN_KEY": f"o2o-test-admin-{secrets.token_hex(8)}",
            "O2O_SECRET_KEY": secrets.token_hex(16),
            "TESTING": True,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def o2o_admin(request: pytest.FixtureRequest) -> Service:
    """An admin client: in process by default, or against --o2o-url."""
    url = request.config.getoption("--o2o-url")
    transport: Transport
    if url:
        key = request.config.getoption("--o2o-admin-key")
        if not key:
            pytest.fail("--o2o-url needs --o2o-admin-key (or O2O_TEST_ADMIN_KEY)")
        transport = OverHttp(url)
    else:
        app: Flask = request.getfixturevalue("o2o_app")
        transport, key = InProcess(app.test_client()), app.config["O2O_ADMIN_KEY"]
    return Service(transport, key)


@pytest.fixture
def o2o(o2o_admin: Service) -> Service:
    """The flow API: `o2o.store()`, `o2o.clerk(store)`, `o2o.shopper()`, `o2o.campaign()`…"""
    return o2o_admin


@pytest.fixture
def o2o_clock(o2o_admin: Service) -> Clock:
    """The sandbox clock: `o2o_clock.freeze(at)`, `o2o_clock.advance(days=1)`."""
    return o2o_admin.clock
