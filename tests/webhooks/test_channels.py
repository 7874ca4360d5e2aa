"""Delivery channels: a channel a package registers (here a throwaway one, with a fanout that
queues a delivery for each `campaign.exhausted`) goes through the same engine, loop and
delivery log as the webhooks: its own headers and schedule, its own url, no endpoint; the
webhooks beside it unchanged; a broken fanout or an unknown channel holding up nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from standardwebhooks import Webhook

from o2o.events import delivery, transport
from o2o.events.channels import (
    Claim,
    DeliveryChannel,
    DeliverySpec,
    register_channel,
    register_fanout,
    registry,
)
from o2o.extensions import db
from o2o.models import Event, WebhookDelivery
from tests.builders import Api, deliver, deliveries, recorded_event, webhook_endpoint
from tests.conftest import AppFactory, build_app
from tests.webhooks.receiver import Answer, receiving

CHANNEL = "test-notify"
OWNER = "1900000109"
KEY = b"the merchant's key"
EXHAUSTED = ["campaign.exhausted"]


def notify_headers(claimed: Claim) -> dict[str, str]:
    """The throwaway channel's headers: its own signature of the bytes sent, and what the
    claim says of the attempt."""
    return {
        "content-type": "application/json",
        "x-test-signature": hmac.new(KEY, claimed.payload, hashlib.sha256).hexdigest(),
        "x-test-owner": claimed.owner or "",
        "x-test-attempt": str(claimed.attempt_count + 1),
    }


NOTIFY = DeliveryChannel(headers=notify_headers, schedule_key="O2O_WECHATPAY_NOTIFY_SCHEDULE")


def notifying(app: Flask, url: str, channel: DeliveryChannel = NOTIFY) -> None:
    """Register the throwaway channel on `app`, and a fanout queueing each `campaign.exhausted`
    event to `url` on it, for OWNER."""

    def fanout(event: Event) -> list[DeliverySpec]:
        if event.type != "campaign.exhausted":
            return []
        return [DeliverySpec(CHANNEL, url, json.dumps({"notified": event.id}), OWNER)]

    register_channel(CHANNEL, channel, app)
    register_fanout(fanout, app)


def channel_log(app: Flask, channel: str = CHANNEL) -> list[WebhookDelivery]:
    """A channel's deliveries, oldest first, with their attempts."""
    with app.app_context():
        query = select(WebhookDelivery).where(WebhookDelivery.channel == channel)
        order = (WebhookDelivery.created_at, WebhookDelivery.id)
        return list(db.session.scalars(query.order_by(*order)))


def notified(receiver_requests: list[Any]) -> list[str]:
    return [json.loads(request.body)["notified"] for request in receiver_requests]


def moment(text_: str) -> datetime:
    return datetime.fromisoformat(text_.replace("Z", "+00:00"))


def test_a_registered_channel_gets_the_event_its_fanout_queued_with_the_channels_own_headers(
    app: Flask, api: Api
) -> None:
    with receiving("/notify") as receiver:
        notifying(app, receiver.url)
        event_id = recorded_event(app, api)
        deliver(app)

    [request] = receiver.received
    assert request.path == "/notify"
    assert json.loads(request.body) == {"notified": event_id}
    signature = hmac.new(KEY, request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-test-signature"] == signature
    assert request.headers["x-test-owner"] == OWNER
    assert request.headers["x-test-attempt"] == "1"
    assert "webhook-signature" not in request.headers
    [logged] = channel_log(app)
    assert (logged.status, logged.event_id, logged.endpoint_id) == ("succeeded", event_id, None)
    assert (logged.url, logged.owner) == (receiver.url, OWNER)
    assert [attempt.status_code for attempt in logged.attempts] == [200]


def test_a_channel_receiver_answering_500_is_retried_on_the_channels_schedule_by_the_sandbox_clock(
    app: Flask, api: Api
) -> None:
    waits: tuple[int, ...] = app.config["O2O_WECHATPAY_NOTIFY_SCHEDULE"]
    with receiving() as receiver:
        receiver.default = Answer(500, b"FAIL")
        notifying(app, receiver.url)
        start = moment(api.clock(now="2026-06-01T08:00:00Z"))
        recorded_event(app, api)
        deliver(app)
        for wait in waits:
            api.clock(advance_seconds=wait - 1)
            assert deliver(app) == 0  # a second early: not due yet
            api.clock(advance_seconds=1)
            assert deliver(app) == 1
        api.clock(advance_seconds=30 * 24 * 3600)
        assert deliver(app) == 0

    [logged] = channel_log(app)
    assert logged.status == "failed"
    assert logged.next_attempt_at is None
    assert [attempt.attempted_at - start for attempt in logged.attempts] == [
        timedelta(seconds=sum(waits[:done])) for done in range(len(waits) + 1)
    ]
    assert {(attempt.status_code, attempt.response_body) for attempt in logged.attempts} == {
        (500, "FAIL")
    }
    attempts = [request.headers["x-test-attempt"] for request in receiver.received]
    assert attempts == [str(n) for n in range(1, len(waits) + 2)]
    assert len({request.body for request in receiver.received}) == 1  # rendered once


def test_a_webhook_endpoint_gets_its_deliveries_as_before_beside_a_channel(
    app: Flask, api: Api
) -> None:
    with receiving() as hooks, receiving() as notify_url:
        hooks.script = [Answer(500)]
        endpoint = webhook_endpoint(api, hooks.url, EXHAUSTED)
        notifying(app, notify_url.url)
        event_id = recorded_event(app, api)
        deliver(app)
        api.clock(advance_seconds=5)  # the webhook schedule's first wait, not the channel's 15 s
        deliver(app)

    assert hooks.ids() == [event_id, event_id]
    for request in hooks.received:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert json.loads(request.body)["id"] == event_id
    [logged] = deliveries(api, endpoint["id"])  # the endpoint's log: its own delivery alone
    assert [attempt["status_code"] for attempt in logged["attempts"]] == [500, 200]
    assert notified(notify_url.received) == [event_id]


def test_a_fanout_that_fails_holds_up_neither_the_outbox_nor_the_endpoints_nor_other_fanouts(
    app: Flask, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with receiving() as hooks, receiving() as notify_url:
        webhook_endpoint(api, hooks.url, EXHAUSTED)
        broken = recorded_event(app, api)

        def half_done(event: Event) -> Iterator[DeliverySpec]:
            if event.id == broken:
                yield DeliverySpec(CHANNEL, notify_url.url, '{"notified": "half"}', OWNER)
                # On PostgreSQL a failed statement aborts the transaction it runs in.
                db.session.execute(text("SELECT * FROM no_such_table"))

        register_fanout(half_done, app)  # before the sound fanout: called first
        notifying(app, notify_url.url)
        sound = recorded_event(app, api)
        with caplog.at_level(logging.ERROR, logger="o2o.events.delivery"):
            while deliver(app):
                pass

    assert sorted(hooks.ids()) == sorted([broken, sound])
    assert sorted(notified(notify_url.received)) == sorted([broken, sound])  # not half_done's
    assert "half_done" in caplog.text
    assert broken in caplog.text


def test_a_fanout_asking_for_a_channel_nobody_registered_queues_nothing_and_is_logged(
    app: Flask, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    register_fanout(lambda event: [DeliverySpec("nowhere", "http://127.0.0.1:9/n", "{}")], app)
    recorded_event(app, api)

    with caplog.at_level(logging.ERROR, logger="o2o.events.delivery"):
        while deliver(app):
            pass

    assert channel_log(app, "nowhere") == []
    assert "no delivery channel 'nowhere' is registered" in caplog.text
    with app.app_context():
        assert db.session.scalars(select(Event.dispatched)).all() == [True, True]


def test_a_delivery_of_a_channel_this_worker_does_not_know_fails_clearly_in_its_log_and_is_retried(
    app_factory: AppFactory,
) -> None:
    app, bare = app_factory(), app_factory()  # bare: a worker without the package that sends it
    api = Api(app.test_client())
    with receiving() as hooks, receiving() as notify_url:
        webhook_endpoint(api, hooks.url, EXHAUSTED)
        notifying(app, notify_url.url)
        event_id = recorded_event(app, api)
        with app.app_context():
            delivery.dispatch()
        assert deliver(bare) == 2  # both attempted: the webhook sent, the notification not
        api.clock(advance_seconds=5)  # an unknown channel retries on the webhook schedule
        assert deliver(app) == 1

    assert hooks.ids() == [event_id]
    [logged] = channel_log(app)
    first, second = logged.attempts
    assert (first.status_code, first.response_body) == (None, None)
    assert first.error == "unknown channel 'test-notify': not registered in this worker; not sent"
    assert second.status_code == 200
    assert logged.status == "succeeded"
    assert notified(notify_url.received) == [event_id]


def test_a_channel_whose_headers_read_the_database_is_posted_outside_any_transaction(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reading(claimed: Claim) -> dict[str, str]:
        db.session.execute(select(Event.id).limit(1))  # as a channel reading a merchant's key
        return notify_headers(claimed)

    in_transaction: list[bool] = []
    post = transport.post

    def watched(*args: Any) -> transport.Response:
        in_transaction.append(db.session().in_transaction())
        return post(*args)

    monkeypatch.setattr(transport, "post", watched)
    with receiving() as receiver:
        notifying(app, receiver.url, DeliveryChannel(reading, NOTIFY.schedule_key))
        recorded_event(app, api)
        deliver(app)

    assert in_transaction == [False]
    assert len(receiver.received) == 1


def test_a_channel_is_registered_once_under_a_name_of_its_own_with_a_schedule_the_app_has() -> None:
    app = build_app("sqlite://")
    other = DeliveryChannel(notify_headers, "O2O_WEBHOOK_RETRY_SCHEDULE")

    register_channel(CHANNEL, NOTIFY, app)
    register_channel(CHANNEL, NOTIFY, app)  # the same channel again: nothing changes
    with pytest.raises(ValueError, match="another delivery channel is already registered"):
        register_channel(CHANNEL, other, app)
    for name in ("webhook", "", "x" * 33):
        with pytest.raises(ValueError, match="cannot name a channel"):
            register_channel(name, other, app)
    with pytest.raises(ValueError, match="no O2O_NO_SUCH_SCHEDULE in the app's config"):
        register_channel("other", DeliveryChannel(notify_headers, "O2O_NO_SUCH_SCHEDULE"), app)
    register_fanout(len, app)  # type: ignore[arg-type]
    register_fanout(len, app)  # type: ignore[arg-type]

    assert registry(app).channels[CHANNEL] == NOTIFY
    assert [fanout for fanout in registry(app).fanouts if fanout is len] == [len]  # once
    assert CHANNEL not in registry(build_app("sqlite://")).channels  # each app has its own


# PostgreSQL only: on SQLite one worker delivers (`o2o worker` refuses a second).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_racing_on_postgresql_never_send_an_attempt_of_either_channel_twice(
    app: Flask, api: Api
) -> None:
    with receiving() as hooks, receiving() as notify_url:
        hooks.default = notify_url.default = Answer(200, delay=0.02)
        webhook_endpoint(api, hooks.url, EXHAUSTED)
        notifying(app, notify_url.url)
        ids = {recorded_event(app, api) for _ in range(12)}
        with app.app_context():
            while delivery.dispatch():
                pass
        errors = race(app, workers=4)

    assert errors == []
    assert sorted(hooks.ids()) == sorted(ids)
    assert sorted(notified(notify_url.received)) == sorted(ids)


def race(app: Flask, workers: int) -> list[BaseException]:
    """`workers` threads delivering what is due, three at a time, until none is left; what
    they raised."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for _ in range(40):  # bounded: far more rounds than the work needs
                    if delivery.deliver_due(worker_id, limit=3) == 0:
                        break
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
