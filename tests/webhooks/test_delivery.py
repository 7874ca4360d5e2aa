"""Delivery: at least once, retried on the service clock (time travel in sandbox mode), never
following redirects, bounded in time and in what it reads; safe with workers racing."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from standardwebhooks import Webhook

from o2o import clock
from o2o.events import delivery, transport
from o2o.extensions import db
from o2o.models import Event
from tests.builders import (
    Api,
    deliver,
    deliveries,
    recorded_event,
    webhook_endpoint,
)
from tests.conftest import AppFactory
from tests.webhooks.receiver import Answer, receiving

EXHAUSTED = ["campaign.exhausted"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_receiver_that_fails_twice_gets_the_event_three_times_at_the_scheduled_times(
    app: Flask, api: Api
) -> None:
    with receiving() as receiver:
        receiver.script = [Answer(500, b"boom"), Answer(500, b"boom")]
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        start = moment(api.clock(now="2026-06-01T08:00:00Z"))
        event_id = recorded_event(app, api)
        deliver(app)  # the first attempt: 500
        deliver(app)  # nothing due: the retry waits 5 s of service time
        api.clock(advance_seconds=4)
        deliver(app)
        api.clock(advance_seconds=1)
        deliver(app)  # the second attempt: 500; the next waits 5 min
        api.clock(advance_seconds=5 * 60)
        deliver(app)  # the third: 200
        api.clock(advance_seconds=24 * 3600)
        deliver(app)

    assert receiver.ids() == [event_id] * 3
    assert len({request.body for request in receiver.received}) == 1
    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "succeeded"
    assert logged["next_attempt_at"] is None
    attempts = logged["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [moment(a["attempted_at"]) - start for a in attempts] == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(seconds=5 + 300),
    ]
    assert attempts[0]["response_body"] == "boom"


def test_a_delivery_is_failed_after_the_last_retry_of_the_schedule(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_WEBHOOK_RETRY_SCHEDULE="5s,1m")
    api = Api(app.test_client())
    with receiving() as receiver:
        receiver.default = Answer(503)
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        deliver(app)
        assert deliveries(api, endpoint["id"])[0]["status"] == "pending"
        api.clock(advance_seconds=5)
        deliver(app)
        api.clock(advance_seconds=60)
        deliver(app)
        api.clock(advance_seconds=30 * 24 * 3600)
        deliver(app)

    assert len(receiver.received) == 3
    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "failed"
    assert logged["next_attempt_at"] is None
    assert deliveries(api, endpoint["id"], status="failed") == [logged]
    assert deliveries(api, endpoint["id"], status="pending") == []


def test_a_receiver_slower_than_the_timeout_counts_as_a_failure_and_is_retried(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_WEBHOOK_TIMEOUT=0.2)
    api = Api(app.test_client())
    with receiving() as receiver:
        receiver.script = [Answer(200, delay=1.0)]
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        deliver(app)
        api.clock(advance_seconds=5)
        deliver(app)

    [logged] = deliveries(api, endpoint["id"])
    first, second = logged["attempts"]
    assert first["status_code"] is None
    assert "timeout" in first["error"]
    assert first["duration_ms"] < 1000
    assert second["status_code"] == 200
    assert logged["status"] == "succeeded"


def test_an_answer_that_trickles_past_the_timeout_counts_as_a_failure(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_WEBHOOK_TIMEOUT=0.3)
    api = Api(app.test_client())
    with receiving() as receiver:
        receiver.script = [Answer(200, b"x" * 100, drip=0.1)]  # each piece in time, not all
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        deliver(app)

    [logged] = deliveries(api, endpoint["id"])
    [attempt] = logged["attempts"]
    assert attempt["status_code"] is None
    assert "timeout" in attempt["error"]
    assert attempt["duration_ms"] < 900
    assert logged["status"] == "pending"


def test_a_long_running_loop_sends_to_the_url_and_secret_as_they_are_now(
    app_factory: AppFactory,
) -> None:
    app, worker = app_factory(), app_factory()  # the API, and a loop's own long-lived session
    api = Api(app.test_client())
    with receiving() as before, receiving() as after, worker.app_context():
        endpoint = webhook_endpoint(api, before.url, EXHAUSTED)
        recorded_event(app, api)
        delivery.run_once("long-lived")
        path = f"/webhook-endpoints/{endpoint['id']}"
        assert api.patch(path, api.admin_key, json={"url": after.url}).status_code == 200
        secret = api.post(f"{path}/rotate-secret", api.admin_key).get_json()["secret"]
        api.clock(advance_seconds=2 * 24 * 3600)  # the old secret no longer signs
        recorded_event(app, api)
        delivery.run_once("long-lived")

    assert len(before.received) == 1
    [request] = after.received
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(secret).verify(request.body, request.headers)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(app: Flask, api: Api) -> None:
    with receiving() as elsewhere, receiving() as receiver:
        receiver.default = Answer(302, headers={"Location": elsewhere.url})
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        deliver(app)

    assert elsewhere.received == []
    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "pending"
    assert logged["attempts"][0]["status_code"] == 302
    assert logged["next_attempt_at"] is not None


def test_a_refused_connection_is_logged_and_retried(app: Flask, api: Api) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = webhook_endpoint(api, f"http://127.0.0.1:{port}/hooks", EXHAUSTED)
    recorded_event(app, api)

    deliver(app)

    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "pending"
    assert logged["attempts"][0]["error"] == "connection refused"
    assert logged["attempts"][0]["status_code"] is None


def test_at_most_64_kib_of_an_answer_is_read_and_its_first_kib_logged(app: Flask, api: Api) -> None:
    huge = b"\x00" + "é".encode() * (1024 * 1024)
    with receiving() as receiver:
        receiver.default = Answer(200, huge)
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        deliver(app)
        target = transport.parse(receiver.url)
        answer = transport.post(target, ipaddress.ip_address("127.0.0.1"), {}, b"{}", 5)

    assert len(answer.body) == transport.READ_LIMIT
    [logged] = deliveries(api, endpoint["id"])
    assert logged["status"] == "succeeded"
    logged_body = logged["attempts"][0]["response_body"]
    assert 500 < len(logged_body) <= 1024  # the first KiB of bytes, decoded
    assert logged_body[1:-1] == huge.decode()[1 : len(logged_body) - 1]
    assert logged_body.startswith("\ufffdé")  # NUL replaced, so any database stores it


def test_only_matching_enabled_endpoints_get_an_event_and_later_ones_do_not(
    app: Flask, api: Api
) -> None:
    with receiving() as wanted, receiving() as other, receiving() as paused:
        webhook_endpoint(api, wanted.url, ["campaign.*"])
        webhook_endpoint(api, other.url, ["payment.succeeded"])
        disabled = webhook_endpoint(api, paused.url, EXHAUSTED)
        off = {"status": "disabled"}
        assert (
            api.patch(f"/webhook-endpoints/{disabled['id']}", api.admin_key, json=off).status_code
            == 200
        )
        event_id = recorded_event(app, api)
        deliver(app)
        with receiving() as late:
            webhook_endpoint(api, late.url, ["*"])
            deliver(app)

    assert event_id in wanted.ids()
    assert event_id not in other.ids() + paused.ids() + late.ids()


def test_an_expired_lease_makes_the_attempt_claimable_again_and_the_late_worker_records_nothing(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, EXHAUSTED)
        recorded_event(app, api)
        with app.app_context():
            delivery.dispatch()
            [stuck] = delivery.claim("worker-that-died")
            assert delivery.deliver_due("worker-b") == 0  # the lease holds
            later = clock.real_now() + timedelta(seconds=61)
            monkeypatch.setattr(clock, "real_now", lambda: later)
            assert delivery.deliver_due("worker-b") == 1  # the lease ran out
            late = delivery.settle(stuck, delivery.Outcome(200, 1, "late", None))

    assert late is False
    assert len(receiver.received) == 1
    [logged] = deliveries(api, endpoint["id"])
    assert [a["response_body"] for a in logged["attempts"]] == ["ok"]


# PostgreSQL only: on SQLite one worker delivers (`o2o worker` refuses a second).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_racing_on_postgresql_never_send_one_attempt_twice(app: Flask, api: Api) -> None:
    with receiving() as receiver:
        receiver.default = Answer(200, delay=0.02)
        webhook_endpoint(api, receiver.url, EXHAUSTED)
        ids = {recorded_event(app, api) for _ in range(24)}
        with app.app_context():
            delivery.dispatch()
        barrier = threading.Barrier(4)
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

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert sorted(receiver.ids()) == sorted(ids)


def test_an_event_that_cannot_be_rendered_holds_up_none_of_the_events_behind_it(
    app: Flask, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with receiving() as receiver:
        webhook_endpoint(api, receiver.url, EXHAUSTED)
        broken = recorded_event(app, api)
        with app.app_context():
            db.session.execute(update(Event).where(Event.id == broken).values(data="{not json"))
            db.session.commit()
        sound = recorded_event(app, api)
        with caplog.at_level(logging.ERROR, logger="o2o.events.delivery"):
            while deliver(app):
                pass

    assert receiver.ids() == [sound]
    assert broken in caplog.text


def test_a_backlog_of_events_no_endpoint_wants_is_worked_through_without_pause(
    app: Flask, api: Api
) -> None:
    for _ in range(3):
        api.campaign()  # campaign.created, which nobody subscribes to

    with app.app_context():
        handled = delivery.dispatch(limit=2), delivery.dispatch(limit=2), delivery.dispatch()

    assert handled == (2, 1, 0)  # work done each time, so a loop goes on until it is idle
