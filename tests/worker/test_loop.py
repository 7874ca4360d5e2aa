"""One tick of the delivery loop: the sweep records what time has done, so its events go out
without anyone reading, and the tick delivers them (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from o2o.config import build_config
from o2o.events.channels import (
    Claim,
    DeliveryChannel,
    DeliverySpec,
    register_channel,
    register_fanout,
)
from o2o.models import Event
from o2o.testing.webhooks import Receiver
from o2o.worker import DeliveryLoop
from tests.builders import Api, webhook_endpoint
from tests.conftest import AppFactory
from tests.webhooks.receiver import receiving


def test_a_tick_settles_a_due_mock_payment_nobody_reads_and_delivers_its_events(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_MOCK_PAYING_SECONDS=0, O2O_WORKER_SWEEP_SECONDS=3600)
    api = Api(app.test_client())
    sale = api.reserved_sale()
    paying = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying")
    assert paying.get_json()["status"] == "pending"
    with Receiver() as receiver:
        receiver.secrets.append(webhook_endpoint(api, receiver.url)["secret"])
        loop = DeliveryLoop(app)

        assert loop.tick() > 0  # the sweep, then the deliveries

    types = [event["type"] for event in receiver.received()]
    assert {"payment.succeeded", "order.paid", "coupon.redeemed"} <= set(types)
    assert api.get(f"/payments/{paying.get_json()['id']}", api.admin_key).get_json()["status"] == (
        "succeeded"
    )


def test_a_tick_delivers_what_a_registered_channels_fanout_queued_for_a_settled_payment(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_MOCK_PAYING_SECONDS=0, O2O_WORKER_SWEEP_SECONDS=3600)
    api = Api(app.test_client())
    sale = api.reserved_sale()
    paying = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying")
    with receiving("/notify") as notify_url:

        def paid(event: Event) -> list[DeliverySpec]:
            succeeded = event.type == "payment.succeeded"
            return [DeliverySpec("test-notify", notify_url.url, event.data)] if succeeded else []

        def headers(claimed: Claim) -> dict[str, str]:
            return {"content-type": "application/json", "x-notified": claimed.event_id}

        channel = DeliveryChannel(headers, schedule_key="O2O_WECHATPAY_NOTIFY_SCHEDULE")
        register_channel("test-notify", channel, app)
        register_fanout(paid, app)

        assert DeliveryLoop(app).tick() > 0  # the sweep settles the payment, then delivers

    [request] = notify_url.received
    assert request.headers["x-notified"].startswith("evt_")
    assert b'"status": "succeeded"' in request.body
    assert paying.get_json()["id"].encode() in request.body


def test_a_tick_that_fails_is_logged_and_the_loop_carries_on(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from o2o.events import delivery

    def broken(worker_id: str) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(delivery, "run_once", broken)
    loop = DeliveryLoop(app)

    assert loop.tick() == 0
    assert "delivery tick failed" in caplog.text


@pytest.mark.parametrize("value", ["0", "-1", "nan", "86400"])
def test_a_poll_interval_that_cannot_work_is_refused_at_startup(value: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="O2O_WORKER_POLL_SECONDS"):
        build_config(str(tmp_path), {"O2O_SECRET_KEY": "k"}, {"O2O_WORKER_POLL_SECONDS": value})
