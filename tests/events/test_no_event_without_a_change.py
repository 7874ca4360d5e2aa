"""No change, no event: a rolled-back request, a read, a lost race leave none; a won one, one."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from o2o import faults
from o2o.services import housekeeping, sandbox
from tests.builders import ADMIN_KEY, MOCK_PAYING_SECONDS, ORDER_TTL, Api, error_code
from tests.services.test_checkout_concurrency import auth, race


def _types(api: Api) -> Counter[str]:
    return Counter(event["type"] for event in api.all_events())


def test_a_refund_exceeding_the_payment_leaves_no_event(api: Api) -> None:
    payment = api.checkout()["payment"]
    before = api.event_count()

    response = api.post(
        f"/payments/{payment['id']}/refunds", ADMIN_KEY, json={"amount": payment["amount"] + 1}
    )

    assert error_code(response) == "refund_exceeds_payment"
    assert api.event_count() == before


def test_claims_past_the_budget_or_the_limit_leave_no_event(api: Api) -> None:
    campaign = api.campaign(total_quantity=1, per_shopper_limit=1)
    shopper = api.shopper()
    api.claim(shopper, campaign["id"])
    before = api.event_count()

    again = api.post(f"/campaigns/{campaign['id']}/claims", shopper["api_key"])
    other = api.post(f"/campaigns/{campaign['id']}/claims", api.shopper()["api_key"])

    assert (again.status_code, other.status_code) == (409, 409)
    assert api.event_count() == before


def test_a_keyed_request_failing_after_its_writes_leaves_no_event_and_its_retry_one_set(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = api.reserved_sale()
    path = f"/orders/{sale['order']['id']}/payments"
    body = {"method": "wechat_pay", "flow": "clerk_scan"}
    headers = {"Idempotency-Key": "pay-once"}
    before = _types(api)

    def crash(point: str, setting: str | None) -> None:
        if point == "before_commit":
            raise RuntimeError("the process died before its commit")

    with monkeypatch.context() as patch:
        patch.setattr(faults, "reached", crash)
        code = api.payment_code(sale["shopper"])
        failed = api.post(
            path, sale["clerk"]["api_key"], json=body | {"auth_code": code}, headers=headers
        )
    assert failed.status_code == 500
    assert _types(api) == before

    retried = api.post(
        path, sale["clerk"]["api_key"], json=body | {"auth_code": code}, headers=headers
    )

    assert retried.status_code == 201, retried.get_json()
    added = _types(api) - before
    assert added == Counter(["order.paid", "coupon.redeemed", "payment.succeeded"])


def _lapse_without_catching_up(api: Api, monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(sandbox, "catch_up", lambda now: 0)
        api.clock(advance_seconds=seconds)


def test_reading_lapsed_coupons_and_orders_creates_no_event(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = api.reserved_sale()
    unused = api.coupon(sale["shopper"], valid_days_after_claim=1)
    _lapse_without_catching_up(api, monkeypatch, 2 * 86400)
    before = api.event_count()

    order = api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()
    coupon = api.get(f"/coupons/{unused['code']}", sale["shopper"]["api_key"]).get_json()
    mine = api.get("/me/coupons", sale["shopper"]["api_key"]).get_json()

    assert (order["status"], coupon["status"]) == ("expired", "expired")
    assert len(mine["items"]) == 2
    assert api.event_count() == before


def _pending(api: Api, outcome: str) -> dict[str, Any]:
    sale = api.reserved_sale()
    paying = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome=outcome)
    assert paying.get_json()["status"] == "pending"
    return {**sale, "payment": paying.get_json()}


@pytest.mark.parametrize(
    ("outcome", "settled"), [("user_paying", "succeeded"), ("timeout", "failed")]
)
def test_a_due_payment_read_by_racing_callers_settles_once_with_one_event(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch, outcome: str, settled: str
) -> None:
    sale = _pending(api, outcome)
    _lapse_without_catching_up(api, monkeypatch, MOCK_PAYING_SECONDS + 1)
    before = _types(api)
    path = f"/api/v1/payments/{sale['payment']['id']}"

    responses = race(app, 20, lambda c, _: c.get(path, headers=auth(sale["shopper"]["api_key"])))

    assert {r.get_json()["status"] for r in responses} == {settled}
    added = _types(api) - before
    if settled == "succeeded":
        assert added == Counter(["payment.succeeded", "order.paid", "coupon.redeemed"])
    else:
        assert added == Counter(["payment.failed"])


def test_housekeeping_settles_due_payments_and_writes_their_events_unread(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = _pending(api, "user_paying")
    _lapse_without_catching_up(api, monkeypatch, MOCK_PAYING_SECONDS + 1)
    before = _types(api)

    with app.app_context():
        swept = housekeeping.sweep()

    assert swept == 1
    assert _types(api) - before == Counter(["payment.succeeded", "order.paid", "coupon.redeemed"])
    (succeeded,) = api.all_events(type="payment.succeeded")
    made = datetime.fromisoformat(sale["payment"]["created_at"])
    assert datetime.fromisoformat(succeeded["created_at"]) == made + timedelta(
        seconds=MOCK_PAYING_SECONDS
    )  # dated when its delay ended, not when housekeeping came by


def test_a_clock_move_past_an_orders_lifetime_writes_its_expiry_once(api: Api) -> None:
    sale = api.reserved_sale()
    before = _types(api)

    api.clock(advance_seconds=ORDER_TTL + 1)
    api.clock(advance_seconds=1)
    api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY)

    assert _types(api) - before == Counter(["order.expired", "coupon.released"])


def test_racing_claims_write_one_claim_event_per_coupon_and_one_exhaustion(
    app: Flask, api: Api
) -> None:
    campaign = api.campaign(total_quantity=5, per_shopper_limit=1)
    keys = [api.shopper()["api_key"] for _ in range(20)]
    path = f"/api/v1/campaigns/{campaign['id']}/claims"

    responses = race(app, 20, lambda c, i: c.post(path, headers=auth(keys[i]), json={}))

    won = sorted(r.get_json()["code"] for r in responses if r.status_code == 201)
    claimed = api.all_events(type="coupon.claimed")
    assert sorted(e["data"]["object"]["code"] for e in claimed) == won
    assert len(won) == 5
    assert len(api.all_events(type="campaign.exhausted")) == 1


def test_racing_payments_for_one_order_write_the_winners_events_once(app: Flask, api: Api) -> None:
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    order = api.online_order(shopper, code=code)
    path = f"/api/v1/orders/{order['id']}/payments"
    body = {"method": "wechat_pay", "flow": "online"}
    before = _types(api)

    race(app, 20, lambda c, _: c.post(path, headers=auth(shopper["api_key"]), json=body))

    added = _types(api) - before
    assert added == Counter(["order.paid", "coupon.redeemed", "payment.succeeded"])


def test_housekeeping_calls_off_a_shopper_scan_payment_whose_order_lapsed_unread(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = api.reserved_sale()
    body = {"method": "alipay", "flow": "shopper_scan"}
    shown = api.post(f"/orders/{sale['order']['id']}/payments", sale["clerk"]["api_key"], json=body)
    assert shown.get_json()["status"] == "pending"  # the merchant QR, never scanned
    _lapse_without_catching_up(api, monkeypatch, ORDER_TTL + 1)
    before = _types(api)

    with app.app_context():
        housekeeping.sweep()

    assert _types(api) - before == Counter(["payment.canceled", "order.expired", "coupon.released"])
    (canceled,) = api.all_events(type="payment.canceled")
    assert canceled["data"]["object"]["failure_code"] == "order_not_payable"
