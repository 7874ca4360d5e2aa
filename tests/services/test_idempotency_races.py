"""Same-key requests at once, and a keyed request held far longer than any old staleness
window: one execution each time, on SQLite and PostgreSQL.

On PostgreSQL a same-key request that arrives while the first is running is told
`409 idempotency_key_in_use` (the first holds the key's advisory lock for as long as its
transaction lasts); on SQLite it waits for the writer lock and then replays the first answer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from o2o import clock
from o2o.extensions import db
from o2o.models import Coupon, Refund
from tests.builders import ADMIN_KEY, Api

THREADS = 8


def post(app: Flask, path: str, key: str, body: dict[str, Any], idempotency_key: str) -> Any:
    response = app.test_client().post(
        f"/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )
    return response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")


def rows(app: Flask, statement: Any) -> int:
    with app.app_context():
        found = int(db.session.scalar(statement) or 0)
        db.session.remove()
        return found


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def test_same_key_claims_at_once_claim_one_coupon(app: Flask, api: Api, database_url: str) -> None:
    campaign = api.campaign(per_shopper_limit=THREADS)
    shopper = api.shopper()
    start = threading.Barrier(THREADS)

    def claim(_: int) -> Any:
        start.wait()
        return post(app, f"/campaigns/{campaign['id']}/claims", shopper["api_key"], {}, "once")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(claim, range(THREADS)))

    assert rows(app, select(func.count()).where(Coupon.shopper_id == shopper["id"])) == 1
    created = [body for status, body, _ in answers if status == 201]
    assert len({body["code"] for body in created}) == 1
    ran = [body for status, body, replay in answers if status == 201 and replay is None]
    assert len(ran) == 1  # one ran; every other 201 is its replay
    refused = [body["error"]["code"] for status, body, _ in answers if status != 201]
    assert set(refused) <= {"idempotency_key_in_use"}
    if not is_postgres(database_url):  # SQLite's writer lock queues them: all replay
        assert refused == []


@contextmanager
def row_held(database_url: str, payment_id: str) -> Iterator[None]:
    """Another transaction holds the payment's row (PostgreSQL) or the writer lock (SQLite)."""
    if is_postgres(database_url):
        engine = create_engine(database_url)
        with engine.connect() as connection:
            connection.execute(
                text("SELECT id FROM payments WHERE id = :id FOR UPDATE"), {"id": payment_id}
            )
            yield
            connection.rollback()
        engine.dispose()
    else:
        path = make_url(database_url).database
        assert path is not None
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        yield
        writer.execute("ROLLBACK")
        writer.close()


def wait_until_blocked(database_url: str, running: Future[Any]) -> None:
    """Until the refund waits on the lock (PostgreSQL says so; SQLite gets a moment)."""
    if not is_postgres(database_url):
        time.sleep(0.5)
        return
    engine = create_engine(database_url)
    try:
        for _ in range(200):
            with engine.connect() as connection:
                waiting = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting or running.done():
                break
            time.sleep(0.05)
        assert waiting, "the refund never waited on the row lock"
    finally:
        engine.dispose()


def test_a_refund_held_by_a_row_lock_far_past_any_staleness_window_runs_once(
    app: Flask, api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = api.checkout()["payment"]
    path = f"/payments/{payment['id']}/refunds"
    body = {"amount": 1000, "reason": "one refund, however long it waits"}
    with ThreadPoolExecutor(2) as pool, row_held(database_url, payment["id"]):
        first = pool.submit(post, app, path, ADMIN_KEY, body, "refund-1")
        wait_until_blocked(database_url, first)
        # The retry comes an hour later by the real clock: no guard lapses with time.
        later = clock.real_now() + timedelta(hours=1)
        monkeypatch.setattr(clock, "real_now", lambda: later)
        retry: Future[Any] | None = pool.submit(post, app, path, ADMIN_KEY, body, "refund-1")
        if retry is not None and is_postgres(database_url):
            status, error, _ = retry.result(timeout=30)
            assert (status, error["error"]["code"]) == (409, "idempotency_key_in_use")
            retry = None  # asked again once the first has answered
    answers = [first.result(timeout=30)]
    if retry is None:
        answers.append(post(app, path, ADMIN_KEY, body, "refund-1"))
    else:  # SQLite: whichever got the writer lock first ran, the other replays it
        answers.append(retry.result(timeout=30))
    assert [status for status, _, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert sorted(str(replayed) for _, _, replayed in answers) == ["None", "true"]
    assert rows(app, select(func.count()).where(Refund.payment_id == payment["id"])) == 1
