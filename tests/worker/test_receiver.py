"""The test receiver (o2o.testing.webhooks) checks signatures exactly as `standardwebhooks` does,
answers as told, and keeps every delivery, duplicates included."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from o2o.testing.webhooks import Delivery, Receiver, hmac_verify, library_verify

SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 24).decode()
BODY = json.dumps({"id": "evt_1", "type": "order.paid", "data": {"object": {}}}).encode()


def signed(
    body: bytes = BODY, secret: str = SECRET, msg_id: str = "evt_1", at: float | None = None
) -> dict[str, str]:
    """Headers signed by the reference library itself."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def case(headers: dict[str, str], body: bytes = BODY) -> tuple[bytes, dict[str, str]]:
    return body, headers


def cases() -> dict[str, tuple[tuple[bytes, dict[str, str]], bool]]:
    genuine = signed()
    return {
        "genuine": (case(genuine), True),
        "body altered": (case(genuine, BODY.replace(b"paid", b"PAID")), False),
        "id altered": (case({**genuine, "webhook-id": "evt_2"}), False),
        "timestamp altered": (
            case({**genuine, "webhook-timestamp": str(int(genuine["webhook-timestamp"]) + 1)}),
            False,
        ),
        "another secret": (case(signed(secret=OTHER)), False),
        "ten minutes old": (case(signed(at=time.time() - 600)), False),
        "ten minutes ahead": (case(signed(at=time.time() + 600)), False),
        "two signatures, one ours": (
            case(
                {
                    **genuine,
                    "webhook-signature": signed(secret=OTHER)["webhook-signature"]
                    + " "
                    + genuine["webhook-signature"],
                }
            ),
            True,
        ),
        "v2 only": (
            case(
                {**genuine, "webhook-signature": genuine["webhook-signature"].replace("v1", "v2")}
            ),
            False,
        ),
        "no signature": (
            case({k: v for k, v in genuine.items() if k != "webhook-signature"}),
            False,
        ),
        "no id": (case({k: v for k, v in genuine.items() if k != "webhook-id"}), False),
    }


@pytest.mark.parametrize("name", list(cases()))
def test_the_receivers_own_check_agrees_with_standardwebhooks(name: str) -> None:
    (body, headers), genuine = cases()[name]

    assert hmac_verify(SECRET, body, headers) is genuine
    assert library_verify(SECRET, body, headers) is genuine


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_receiver_fails_as_told_then_acknowledges_and_keeps_both_arrivals() -> None:
    with Receiver(secrets=[SECRET]) as receiver:
        receiver.fail_next(1, status=503)
        headers = signed()

        answers = [post(receiver.url, BODY, headers), post(receiver.url, BODY, headers)]

        assert answers == [503, 200]
        assert [event["id"] for event in receiver.received("order.paid")] == ["evt_1", "evt_1"]
        assert [d.status for d in receiver.deliveries()] == [503, 200]


def test_a_delivery_that_does_not_verify_is_refused_and_kept_apart() -> None:
    with Receiver(secrets=[SECRET]) as receiver:
        answer = post(receiver.url, BODY.replace(b"paid", b"PAID"), signed())

        assert answer == 400
        assert receiver.received() == []
        assert len(receiver.rejected()) == 1


def test_a_handler_sees_each_verified_delivery_and_may_answer_for_it() -> None:
    seen: list[str] = []

    def handler(delivery: Delivery) -> int:
        seen.append(delivery.webhook_id)
        return 202

    with Receiver(secrets=[SECRET]) as receiver:
        receiver.on_delivery(handler)

        answer = post(receiver.url, BODY, signed())

        assert (answer, seen) == (202, ["evt_1"])
