"""The plugin's fixtures over `o2o.client`: an app on a throwaway database, or a live service.

`o2o` (the merchant's Service: stores, clerks, shoppers, campaigns, stats), `o2o_admin` (the same
admin client, for raw calls), `o2o_clock` (the sandbox clock: freeze, advance), `o2o_app` (the
Flask app, in-process mode), `o2o_url` (the live service, if any: override it in a conftest to
pin a suite in process), `o2o_webhooks` (a receiver registered for every event, its signatures
checked). Registered by `o2o.testing.plugin` when pytest configures.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from o2o.client import Clock, InProcess, OverHttp, Service, Transport
from o2o.testing.webhooks import Delivery, Handler, Receiver

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


class Webhooks:
    """The `o2o_webhooks` fixture: a Receiver registered (as admin, for `*`) on the service.

    In process, the app delivers right after each request (so after each clock move too) and
    `wait_for` only checks; against a live service its worker delivers and `wait_for` waits.
    """

    def __init__(self, receiver: Receiver, admin: Service, app: Flask | None) -> None:
        self.receiver = receiver
        self.admin = admin
        self.app = app
        self.endpoint: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return self.receiver.url

    @property
    def secret(self) -> str:
        return self.receiver.secrets[-1]

    def register(self) -> None:
        body = {"url": self.url, "events": ["*"], "description": "o2o_webhooks (pytest)"}
        self.endpoint = self.admin.post("/webhook-endpoints", body)
        self.receiver.secrets.append(self.endpoint["secret"])

    def unregister(self) -> None:
        if self.endpoint:
            self.admin.call("DELETE", f"/webhook-endpoints/{self.endpoint['id']}")

    def deliver(self) -> int:
        """In process: deliver whatever is due now; live: nothing (the server's worker does)."""
        if self.app is None:
            return 0
        from o2o.worker import deliver_pending

        return deliver_pending(self.app)

    def received(self, type: str | None = None) -> list[dict[str, Any]]:
        """The verified events' bodies in arrival order (a retried event shows each time)."""
        return self.receiver.received(type)

    def deliveries(self, type: str | None = None) -> list[Delivery]:
        """Every delivery with its headers (`webhook_id`, …), body bytes and our answer."""
        return self.receiver.deliveries(type)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` deliveries with `status`: the service retries them later."""
        self.receiver.fail_next(n, status)

    def on_delivery(self, handler: Handler) -> Handler:
        """Pass every verified delivery to `handler` (your webhook handler), in arrival order."""
        return self.receiver.on_delivery(handler)

    def wait_for(self, type: str, timeout: float = 10.0, count: int = 1) -> dict[str, Any]:
        """The `count`-th verified event of `type`. In process it delivers what is due and
        answers at once; live it waits up to `timeout` seconds. AssertionError if none."""
        self.deliver()
        if self.app is None:
            self.receiver.wait_until(lambda: len(self.received(type)) >= count, timeout)
        found = self.received(type)
        if len(found) < count:
            seen = [d.type for d in self.deliveries()]
            where = "in process" if self.app is not None else f"within {timeout:g} s"
            raise AssertionError(f"{count} {type!r} event(s) expected {where}; received {seen}")
        return found[count - 1]


@pytest.fixture
def o2o_webhooks(o2o_admin: Service) -> Iterator[Webhooks]:
    """A receiver on 127.0.0.1 registered for every event, verifying each signature (Standard
    Webhooks): `received(type)`, `wait_for(type)`, `fail_next(n, status)`, `deliver()`."""
    transport = o2o_admin.transport
    app = transport.client.application if isinstance(transport, InProcess) else None
    with Receiver() as receiver:
        webhooks = Webhooks(receiver, o2o_admin, app)
        if app is not None:
            app.config["O2O_DELIVER_AFTER_REQUEST"] = True
        webhooks.register()
        yield webhooks
        webhooks.unregister()
    if bad := receiver.rejected():
        pytest.fail(f"o2o_webhooks: {len(bad)} delivery(ies) failed signature verification")
