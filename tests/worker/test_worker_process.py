"""`o2o worker` as a real process: one per SQLite database, SIGTERM finishes the attempt in hand
and exits 0, and an attempt held by a worker killed with -9 goes to the other once its lease ends
(PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from o2o.extensions import db
from o2o.models import WebhookAttempt, WebhookDelivery
from o2o.testing.webhooks import Delivery, Receiver
from o2o.worker import sqlite_lock_path
from tests.builders import Api
from tests.conftest import build_app
from tests.live import stop
from tests.worker.support import (
    admin,
    campaign_event,
    start_worker,
    wait_for_lock,
    worker_environment,
)

BOUND = 30.0  # seconds: no wait in these tests lasts longer


class Holding:
    """A receiver handler that holds the first delivery until released (bounded)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, delivery: Delivery) -> None:
        if not self.arrived.is_set():
            self.arrived.set()
            self.release.wait(BOUND)


def registered(app: Flask, receiver: Receiver) -> Receiver:
    """`receiver` registered for every event on the app's service, its secret known."""
    created = Api(app.test_client())._created(
        "/webhook-endpoints", {"url": receiver.url, "events": ["*"]}
    )
    receiver.secrets.append(created["secret"])
    return receiver


def delivery_row(app: Flask, event_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    with app.app_context():
        row = db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
        ).one()
        attempts = db.session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == row.id)
        ).all()
        db.session.expunge_all()
        return row, list(attempts)


def test_a_second_worker_on_one_sqlite_database_is_refused_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    app = build_app(url)
    with app.app_context():
        db.create_all()
    environment = worker_environment(url)
    first = start_worker(tmp_path, environment, "first")
    try:
        lock = sqlite_lock_path(app)
        assert lock is not None
        wait_for_lock(lock, first)

        second = subprocess.run(
            [sys.executable, "-m", "o2o", "worker"],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=BOUND,
        )

        assert second.returncode == 1
        assert f"Another worker (pid {first.pid}" in second.stderr
        assert "On SQLite one worker at a time" in second.stderr
    finally:
        assert stop(first) == 0


def test_sigterm_lets_the_attempt_in_hand_finish_and_be_recorded_then_exits_0(
    tmp_path: Path, app: Flask
) -> None:
    holding = Holding()
    with Receiver(handlers=[holding]) as receiver:
        registered(app, receiver)
        event_id = campaign_event(admin(app))
        worker = start_worker(
            tmp_path, worker_environment(app.config["SQLALCHEMY_DATABASE_URI"]), "worker"
        )
        try:
            assert holding.arrived.wait(BOUND), "the worker never delivered"
            os.kill(worker.pid, signal.SIGTERM)
            holding.release.set()
            exit_code = worker.wait(timeout=BOUND)
        finally:
            stop(worker)

    row, attempts = delivery_row(app, event_id)
    assert exit_code == 0
    assert row.status == "succeeded"
    assert [attempt.status_code for attempt in attempts] == [200]
    assert [d.webhook_id for d in receiver.deliveries()] == [event_id]


def test_an_attempt_held_by_a_worker_killed_with_9_is_delivered_by_the_other_after_its_lease(
    tmp_path: Path, pg_app: Flask
) -> None:
    holding = Holding()
    environment = worker_environment(
        pg_app.config["SQLALCHEMY_DATABASE_URI"],
        O2O_WEBHOOK_LEASE_SECONDS="3",
        O2O_WEBHOOK_TIMEOUT="2.5",
    )
    with Receiver(handlers=[holding]) as receiver:
        registered(pg_app, receiver)
        event_id = campaign_event(admin(pg_app))
        doomed = start_worker(tmp_path, environment, "doomed")
        other: subprocess.Popen[bytes] | None = None
        try:
            assert holding.arrived.wait(BOUND), "the first worker never delivered"
            other = start_worker(tmp_path, environment, "other")
            doomed.kill()  # SIGKILL, with the attempt in hand and its lease live
            assert doomed.wait(timeout=BOUND) == -signal.SIGKILL
            holding.release.set()  # the answer goes to a dead socket

            assert receiver.wait_until(lambda: len(receiver.received()) == 2, BOUND)
            assert stop(other) == 0  # SIGTERM: the other records the attempt it holds
        finally:
            holding.release.set()
            stop(doomed)
            if other is not None:
                stop(other)

    row, attempts = delivery_row(pg_app, event_id)
    first, retry = receiver.deliveries()
    assert first.webhook_id == retry.webhook_id == event_id
    assert first.body == retry.body
    assert (retry.received_at - first.received_at).total_seconds() >= 3 - 0.5  # the lease ran out
    assert row.status == "succeeded"
    assert [attempt.status_code for attempt in attempts] == [200]  # the dead worker recorded none
