"""A server that dies mid-request, retried with its Idempotency-Key: exactly one execution.

A real gunicorn server (one sync worker) is told to end its process with `os._exit` the
first time a keyed request reaches a point (o2o.faults): before the one commit, between the
commit and the response, or after the response was sent. gunicorn starts a new worker; the
client retries with the same key until it hears an answer, then twice more. The database
then holds exactly one execution, every answer is the first run's, and no retry is told the
key is in use by a process that is gone. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from o2o.client.transport import OverHttp, Reply
from o2o.extensions import db
from o2o.faults import POINTS
from o2o.models import Coupon, Payment
from tests.builders import Api
from tests.live import gunicorn_server

ATTEMPTS = 60  # each retry waits for the new worker; a minute of them is plenty
RETRIES_AFTER_ANSWER = 2


def send_until_answered(send: Callable[[], Reply]) -> tuple[int, list[Reply]]:
    """Send until a reply comes back (a dead worker resets the connection), then twice
    more; the number of attempts that died, and every reply."""
    died = 0
    for _ in range(ATTEMPTS):
        try:
            replies = [send()]
            break
        except OSError:  # the worker died with our request: retry, same key
            died += 1
            time.sleep(0.2)
    else:
        raise AssertionError(f"no answer after {ATTEMPTS} attempts")
    replies += [send() for _ in range(RETRIES_AFTER_ANSWER)]
    return died, replies


def replayed(reply: Reply) -> bool:
    return reply.headers.get("Idempotent-Replayed") == "true"


def expected_story(point: str, died: int, replies: list[Reply]) -> None:
    """Before the commit, the first answered attempt ran the request (nothing of the dead one
    survived); from the commit on, every answer is the stored one."""
    assert died == (0 if point == "after_response" else 1)
    first_answer_ran = point in ("before_commit", "after_response")
    assert [replayed(reply) for reply in replies] == [not first_answer_ran, True, True]
    assert len({reply.status for reply in replies}) == 1
    assert len({repr(reply.body) for reply in replies}) == 1


def count(app: Flask, statement: Any) -> int:
    with app.app_context():
        result = int(db.session.scalar(statement) or 0)
        db.session.remove()
        return result


def post_through_a_crash(
    database_url: str, workdir: Path, point: str, path: str, key: str, body: Any
) -> list[Reply]:
    """POST under one Idempotency-Key to a server told to die at `point`, until answered and
    twice more; asserts the server really died there and the retries tell the expected story."""
    headers = {"Idempotency-Key": f"crash-{uuid.uuid4()}"}
    marker = workdir / "crashed"
    with gunicorn_server(database_url, workdir, O2O_TEST_CRASH_AT=f"{point}:{marker}") as base:
        http = OverHttp(base)
        died, replies = send_until_answered(lambda: http.request("POST", path, key, body, headers))
    assert marker.exists(), "the server did not die where it was told to"
    expected_story(point, died, replies)
    return replies


@pytest.mark.parametrize("point", POINTS)
def test_a_payment_whose_server_dies_runs_once_and_every_answer_is_the_first(
    app: Flask, api: Api, database_url: str, tmp_path: Path, point: str
) -> None:
    sale = api.reserved_sale()
    body = {
        "method": "wechat_pay",
        "flow": "clerk_scan",
        "auth_code": api.payment_code(sale["shopper"]),
    }
    path = f"/orders/{sale['order']['id']}/payments"

    replies = post_through_a_crash(
        database_url, tmp_path, point, path, sale["clerk"]["api_key"], body
    )

    assert replies[0].status == 201
    assert replies[0].body["status"] == "succeeded"
    order_id = sale["order"]["id"]
    assert count(app, select(func.count()).where(Payment.order_id == order_id)) == 1
    assert api.get(f"/orders/{order_id}", sale["clerk"]["api_key"]).get_json()["status"] == "paid"
    assert api.coupon_status(sale["code"]) == "redeemed"


@pytest.mark.parametrize("point", POINTS)
def test_a_claim_whose_server_dies_claims_one_coupon_and_every_answer_is_the_first(
    app: Flask, api: Api, database_url: str, tmp_path: Path, point: str
) -> None:
    campaign = api.campaign(per_shopper_limit=5)
    shopper = api.shopper()
    path = f"/campaigns/{campaign['id']}/claims"

    replies = post_through_a_crash(database_url, tmp_path, point, path, shopper["api_key"], {})

    assert replies[0].status == 201
    held = select(func.count()).where(Coupon.shopper_id == shopper["id"])
    assert count(app, held) == 1
    claimed = api.get(f"/campaigns/{campaign['id']}", api.admin_key).get_json()["claimed_count"]
    assert claimed == 1
