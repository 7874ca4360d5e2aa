"""The plugin's fixtures over `o2o.client`: an app on a throwaway database, or a live service.

`o2o` (the merchant's Service: stores, clerks, shoppers, campaigns, stats), `o2o_admin` (the same
admin client, for raw calls), `o2o_clock` (the sandbox clock: freeze, advance), `o2o_app` (the
Flask app, in-process mode), `o2o_url` (the live service, if any: override it in a conftest to
pin a suite in process). Registered by `o2o.testing.plugin` when pytest configures.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from o2o.client import Clock, InProcess, OverHttp, Service, Transport

if TYPE_CHECKING:
    from flask import Flask

# The settings the fixtures' flows rely on (the documented defaults), passed to create_app so
# that O2O_* variables exported in the shell running pytest cannot change them.
PINNED: dict[str, Any] = {
    "O2O_SANDBOX": True,
    "O2O_QR_TOKEN_TTL": 300,
    "O2O_ORDER_TTL": 900,
    "O2O_PAYMENT_CODE_TTL": 60,
    "O2O_MOCK_PAYING_SECONDS": 5,
    "O2O_IDEMPOTENCY_TTL": 24 * 3600,
}


@pytest.fixture
def o2o_app(tmp_path: Path) -> Iterator[Flask]:
    """The service in process, on a fresh SQLite file, in sandbox mode."""
    from o2o import create_app
    from o2o.extensions import db

    app = create_app(
        {
            **PINNED,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o2o-test.sqlite3'}",
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
def o2o_url(request: pytest.FixtureRequest) -> str | None:
    """The live service to test (--o2o-url, O2O_TEST_URL); None is in process. Override to pin."""
    url: str | None = request.config.getoption("--o2o-url")
    return url or None


@pytest.fixture
def o2o_admin(request: pytest.FixtureRequest, o2o_url: str | None) -> Service:
    """An admin client: in process by default, or against the live `o2o_url`."""
    transport: Transport
    if o2o_url:
        key = request.config.getoption("--o2o-admin-key")
        if not key:
            pytest.fail("--o2o-url needs --o2o-admin-key (or O2O_TEST_ADMIN_KEY)")
        transport = OverHttp(o2o_url)
    else:
        app: Flask = request.getfixturevalue("o2o_app")
        transport, key = InProcess(app.test_client()), app.config["O2O_ADMIN_KEY"]
    return Service(transport, key)


@pytest.fixture
def o2o(o2o_admin: Service) -> Service:
    """The client: `o2o.store()`, `o2o.clerk(store)`, `o2o.shopper()`, `o2o.campaign()`…"""
    return o2o_admin


@pytest.fixture
def o2o_clock(o2o_admin: Service) -> Clock:
    """The sandbox clock: `o2o_clock.freeze(at)`, `o2o_clock.advance(days=1)`."""
    return o2o_admin.clock
