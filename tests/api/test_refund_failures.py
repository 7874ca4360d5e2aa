"""Refunds the mock provider refuses (O2O-Mock-Outcome on POST /payments/{id}/refunds): recorded
`failed` with their failure code, moving no money, leaving the payment refundable."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from o2o.vocabulary import RefundOutcome
from o2o.wechatpay.refunds import MAGIC_REFUND_AMOUNTS
from tests.builders import ADMIN_KEY, Api, deliver, error_code, webhook_endpoint
from tests.test_docs_guide import DOCS, code_in, read, table_headed
from tests.webhooks.receiver import receiving


def refund(api: Api, payment_id: str, outcome: str, **body: Any) -> Any:
    headers = {"O2O-Mock-Outcome": outcome}
    return api.post(f"/payments/{payment_id}/refunds", ADMIN_KEY, json=body, headers=headers)


def local_day(moment: str) -> str:
    shown = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return shown.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.mark.parametrize("outcome", ["declined", "account_abnormal"])
def test_a_refused_refund_is_recorded_failed_and_moves_no_money(api: Api, outcome: str) -> None:
    sale = api.checkout(amount=39900)
    pay_id = sale["payment"]["id"]

    response = refund(api, pay_id, outcome, reason="changed my mind")

    assert response.status_code == 201
    failed = response.get_json()
    assert (failed["status"], failed["failure_code"]) == ("failed", outcome)
    assert (failed["amount"], failed["reason"]) == (sale["payment"]["amount"], "changed my mind")
    assert api.get(f"/payments/{pay_id}", ADMIN_KEY).get_json()["refunded_amount"] == 0
    assert api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"] == "paid"
    assert api.coupon_status(sale["code"]) == "redeemed"
    assert api.events(sale["code"]) == ["claimed", "reserved", "redeemed"]


def test_a_payment_whose_refund_was_declined_is_refunded_in_full_afterwards(api: Api) -> None:
    sale = api.checkout()
    pay_id = sale["payment"]["id"]
    refund(api, pay_id, "declined")

    done = refund(api, pay_id, "success")

    assert done.status_code == 201
    assert (done.get_json()["status"], done.get_json()["failure_code"]) == ("succeeded", None)
    assert done.get_json()["amount"] == sale["payment"]["amount"]
    payment = api.get(f"/payments/{pay_id}", ADMIN_KEY).get_json()
    assert payment["refunded_amount"] == payment["amount"]
    assert api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"] == "refunded"
    assert api.coupon_status(sale["code"]) == "available"


def test_a_refused_refund_writes_refund_failed_and_nothing_else(api: Api) -> None:
    sale = api.checkout()
    before = {event["id"] for event in api.all_events()}

    failed = refund(api, sale["payment"]["id"], "account_abnormal").get_json()

    written = [event for event in api.all_events() if event["id"] not in before]
    assert [event["type"] for event in written] == ["refund.failed"]
    assert written[0]["data"]["object"] == failed


def test_a_refused_refund_still_may_not_ask_for_more_than_is_left(api: Api) -> None:
    sale = api.checkout()
    pay_id = sale["payment"]["id"]

    response = refund(api, pay_id, "declined", amount=sale["payment"]["amount"] + 1)

    assert (response.status_code, error_code(response)) == (422, "refund_exceeds_payment")
    assert api.listed("/refunds") == []


def test_the_statement_the_stats_and_the_lists_leave_a_failed_refund_out(api: Api) -> None:
    sale = api.checkout()
    pay_id = sale["payment"]["id"]
    refund(api, pay_id, "success", amount=1000)
    failed = refund(api, pay_id, "declined", amount=2000).get_json()

    store_id = sale["order"]["store_id"]
    day = {"date": local_day(failed["created_at"])}
    statement = api.get(f"/stores/{store_id}/statement", ADMIN_KEY, query_string=day).get_json()
    assert [line["amount"] for line in statement["refunds"]] == [1000]
    assert (statement["totals"]["refunded_count"], statement["totals"]["refunded_amount"]) == (
        1,
        1000,
    )
    stats = api.get(f"/campaigns/{sale['campaign_id']}/stats", ADMIN_KEY).get_json()
    assert stats["gmv"] == sale["payment"]["amount"] - 1000
    assert [r["id"] for r in api.listed("/refunds", status="failed")] == [failed["id"]]
    assert [r["amount"] for r in api.listed("/refunds", status="succeeded")] == [1000]


def test_an_unknown_refund_outcome_is_a_validation_error_and_records_nothing(api: Api) -> None:
    sale = api.checkout()

    response = refund(api, sale["payment"]["id"], "user_paying")

    assert (response.status_code, error_code(response)) == (422, "validation_error")
    assert "O2O-Mock-Outcome" in json.dumps(response.get_json()["error"]["details"])
    assert api.listed("/refunds") == []
    payment = api.get(f"/payments/{sale['payment']['id']}", ADMIN_KEY).get_json()
    assert payment["refunded_amount"] == 0


def test_a_keyed_refused_refund_is_replayed_not_made_twice(api: Api) -> None:
    sale = api.checkout()
    path = f"/payments/{sale['payment']['id']}/refunds"
    headers = {"O2O-Mock-Outcome": "declined", "Idempotency-Key": "refund-once"}

    first = api.post(path, ADMIN_KEY, json={"amount": 500}, headers=headers)
    again = api.post(path, ADMIN_KEY, json={"amount": 500}, headers=headers)

    assert first.get_json() == again.get_json()
    assert [r["status"] for r in api.listed("/refunds")] == ["failed"]


def test_a_webhook_endpoint_gets_refund_failed(app: Flask, api: Api) -> None:
    sale = api.checkout()
    with receiving() as receiver:
        webhook_endpoint(api, receiver.url, ["refund.failed"])
        failed = refund(api, sale["payment"]["id"], "account_abnormal").get_json()
        deliver(app)

    [request] = receiver.received
    event = json.loads(request.body)
    assert event["type"] == "refund.failed"
    assert event["data"]["object"]["id"] == failed["id"]
    assert event["data"]["object"]["failure_code"] == "account_abnormal"


def test_the_refund_outcome_table_lists_exactly_the_refund_outcomes() -> None:
    rows = table_headed(read(DOCS / "guide.md"), "refund outcome")

    assert sorted(code_in(row[0]) for row in rows) == sorted(RefundOutcome)


def test_the_wechat_refund_amount_table_lists_exactly_the_magic_refund_amounts() -> None:
    rows = table_headed(read(DOCS / "wechatpay.md"), "refund ends in")
    documented = {code_in(row[0]): code_in(row[1]) for row in rows if row[0] != "anything else"}

    assert documented == {f"{fen:02d}": outcome for fen, outcome in MAGIC_REFUND_AMOUNTS.items()}
