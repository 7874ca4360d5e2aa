"""Deliveries are Standard Webhooks: the `standardwebhooks` package verifies them unmodified,
whatever the sandbox clock shows, and under both secrets while a rotation overlaps."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from o2o.events import signing
from tests.builders import ADMIN_KEY, Api, deliver, recorded_event, webhook_endpoint
from tests.webhooks.receiver import Received, receiving

DAY = 24 * 3600


def verified(secret: str, request: Received) -> dict[str, object]:
    """What the README's receiver does with a delivery."""
    payload: dict[str, object] = Webhook(secret).verify(request.body, request.headers)
    return payload


def test_a_delivery_verifies_with_the_standardwebhooks_package(app: Flask, api: Api) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        event_id = recorded_event(app, api)
        deliver(app)

    [request] = receiver.received
    payload = verified(endpoint["secret"], request)
    assert payload["id"] == event_id == request.headers["webhook-id"]
    assert payload["type"] == "campaign.exhausted"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("o2o-webhooks/")
    assert payload == json.loads(request.body)


def test_a_delivery_still_verifies_after_the_sandbox_clock_moved_days_ahead(
    app: Flask, api: Api
) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        api.clock(advance_seconds=9 * DAY)
        recorded_event(app, api)
        deliver(app)

    [request] = receiver.received
    payload = verified(endpoint["secret"], request)
    assert str(payload["created_at"]) > endpoint["created_at"]  # the event's time is service time
    # … while the signed timestamp is real time: that is what receivers check freshness by
    assert abs(int(request.headers["webhook-timestamp"]) - _real_unix()) < 60


def test_during_a_rotation_both_secrets_verify_and_after_a_day_only_the_new_one(
    app: Flask, api: Api
) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        old = endpoint["secret"]
        rotated = api.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret", ADMIN_KEY)
        new = rotated.get_json()["secret"]
        recorded_event(app, api)
        deliver(app)
        api.clock(advance_seconds=DAY)
        recorded_event(app, api)
        deliver(app)

    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verified(old, during) == verified(new, during)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verified(new, after)
    with pytest.raises(WebhookVerificationError):
        verified(old, after)


def test_a_tampered_body_does_not_verify(app: Flask, api: Api) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        recorded_event(app, api)
        deliver(app)

    [request] = receiver.received
    tampered = Received(request.path, request.headers, request.body.replace(b"5000", b"9000"))
    with pytest.raises(WebhookVerificationError):
        verified(endpoint["secret"], tampered)


def test_the_signature_is_the_reference_libraries_own() -> None:
    secret = signing.new_secret()
    body = '{"id":"evt_1","data":{"object":{"name":"¥50"}}}'

    ours = signing.signature(secret, "evt_1", 1_700_000_000, body.encode())

    at = datetime.fromtimestamp(1_700_000_000, UTC)
    assert ours == Webhook(secret).sign("evt_1", at, body)
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64


def _real_unix() -> int:
    return int(datetime.now(UTC).timestamp())
