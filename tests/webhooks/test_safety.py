"""Receivers must be public outside sandbox mode: refused at registration and again before each
attempt; sandbox mode allows loopback; O2O_WEBHOOK_ALLOW_PRIVATE allows all. The connection goes
to the address that was vetted, naming the host."""

from __future__ import annotations

import ipaddress

import pytest
from flask import Flask

from o2o.events import transport
from tests.builders import ADMIN_KEY, Api, deliver, deliveries, recorded_event, webhook_endpoint
from tests.conftest import AppFactory
from tests.webhooks.receiver import receiving

NOT_PUBLIC = [
    "http://127.0.0.1/hooks",
    "http://localhost:8080/hooks",
    "http://[::1]/hooks",
    "http://10.1.2.3/hooks",
    "http://192.168.0.10/hooks",
    "http://172.16.5.4/hooks",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://224.0.0.1/hooks",
    "http://240.0.0.1/hooks",
    "http://[fe80::1]/hooks",
    "http://[fc00::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
]


@pytest.fixture
def live_app(app_factory: AppFactory) -> Flask:
    """An app outside sandbox mode (a live service)."""
    return app_factory(O2O_SANDBOX=False)


@pytest.mark.parametrize("url", NOT_PUBLIC)
def test_non_public_receivers_are_refused_outside_sandbox_mode(live_app: Flask, url: str) -> None:
    api = Api(live_app.test_client())

    response = api.post("/webhook-endpoints", ADMIN_KEY, json={"url": url, "events": ["*"]})

    assert response.status_code == 422, url
    [message] = response.get_json()["error"]["details"]["url"]
    assert "address" in message


def test_a_public_receiver_is_accepted_outside_sandbox_mode(live_app: Flask) -> None:
    api = Api(live_app.test_client())

    created = webhook_endpoint(api, "https://93.184.215.14/hooks")

    assert created["url"] == "https://93.184.215.14/hooks"


def test_loopback_receivers_get_deliveries_in_sandbox_mode(app: Flask, api: Api) -> None:
    with receiving() as receiver:
        webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        event_id = recorded_event(app, api)
        deliver(app)

    assert receiver.ids() == [event_id]


def test_private_receivers_are_allowed_with_o2o_webhook_allow_private(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_SANDBOX=False, O2O_WEBHOOK_ALLOW_PRIVATE=True)
    api = Api(app.test_client())
    with receiving() as receiver:
        webhook_endpoint(api, "http://10.1.2.3/hooks", ["refund.succeeded"])  # accepted; unused
        webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        event_id = recorded_event(app, api)
        deliver(app)

    assert receiver.ids() == [event_id]


def test_the_address_is_checked_again_before_each_attempt(app_factory: AppFactory) -> None:
    permissive = app_factory(O2O_SANDBOX=False, O2O_WEBHOOK_ALLOW_PRIVATE=True)
    strict = app_factory(O2O_SANDBOX=False)  # the same database, without the allowance
    api = Api(permissive.test_client())
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        recorded_event(permissive, api)
        deliver(strict)

    assert receiver.received == []
    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "pending"
    assert logged["attempts"][0]["error"] == "refused: 127.0.0.1 is a loopback address."


def test_the_request_goes_to_the_vetted_address_and_names_the_host() -> None:
    with receiving() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        target = transport.parse(f"http://hooks.shop.example:{port}/in?x=1")
        answer = transport.post(target, ipaddress.ip_address("127.0.0.1"), {}, b"{}", 5)

    assert answer.status == 200
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.shop.example:{port}"
    assert request.path == "/in?x=1"


def test_a_name_with_any_private_answer_is_refused_before_connecting() -> None:
    target = transport.parse("http://localhost:9/hooks")

    with pytest.raises(transport.Refused, match="loopback"):
        transport.vet(target, transport.Policy())
    assert transport.vet(target, transport.Policy(loopback=True)).is_loopback
