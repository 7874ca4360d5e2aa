"""Orders: reserving coupons, refusing unusable ones, cancelling, lapsing, and who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.builders import ADMIN_KEY, ORDER_TTL, Api, error_code


@pytest.fixture
def held(api: Api) -> dict[str, Any]:
    """A clerk, a shopper and an in-store order that holds the shopper's coupon."""
    return api.reserved_sale()


def test_an_order_reserves_its_coupon_and_records_it(api: Api, held: dict[str, Any]) -> None:
    assert held["order"]["coupon_code"] == held["code"]
    assert held["order"]["status"] == "awaiting_payment"
    assert api.coupon_status(held["code"]) == "reserved"
    assert api.events(held["code"]) == ["claimed", "reserved"]


def test_a_reserved_coupon_cannot_be_used_by_another_order(api: Api, held: dict[str, Any]) -> None:
    token = api.qr_token(held["shopper"], held["code"])
    response = api.post(
        "/orders", held["clerk"]["api_key"], json={"amount": 39900, "qr_token": token}
    )
    assert response.status_code == 409
    assert error_code(response) == "coupon_not_available"


def test_a_coupon_that_does_not_apply_is_refused_with_reasons(api: Api) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    code = api.coupon(shopper)["code"]
    response = api.post(
        "/orders",
        clerk["api_key"],
        json={"amount": 100, "qr_token": api.qr_token(shopper, code)},
    )
    assert response.status_code == 422
    assert error_code(response) == "coupon_not_applicable"
    assert response.get_json()["error"]["details"]["reasons"] == ["min_spend_not_met"]
    assert api.coupon_status(code) == "available"


def test_cancelling_gives_the_coupon_back(api: Api, held: dict[str, Any]) -> None:
    response = api.post(f"/orders/{held['order']['id']}/cancel", held["clerk"]["api_key"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "canceled"
    assert api.coupon_status(held["code"]) == "available"
    assert api.events(held["code"]) == ["claimed", "reserved", "released"]
    again = api.post(f"/orders/{held['order']['id']}/cancel", held["clerk"]["api_key"], json={})
    assert again.status_code == 409
    assert error_code(again) == "order_not_cancelable"


def test_a_lapsed_reservation_is_released_for_the_next_checkout(
    api: Api, held: dict[str, Any]
) -> None:
    api.clock(advance_seconds=ORDER_TTL)
    order = api.get(f"/orders/{held['order']['id']}", ADMIN_KEY).get_json()
    assert order["status"] == "expired"
    token = api.qr_token(held["shopper"], held["code"])
    second = api.order(held["clerk"], token=token)
    assert second["coupon_code"] == held["code"]
    assert api.events(held["code"]) == ["claimed", "reserved", "released", "reserved"]
    pay = api.pay(held["order"], held["shopper"], held["clerk"])
    assert pay.status_code == 409
    assert error_code(pay) == "order_not_payable"


def test_a_shopper_checks_out_online_only_with_their_own_coupon(api: Api) -> None:
    owner, stranger = api.shopper(), api.shopper()
    code = api.coupon(owner)["code"]
    response = api.post("/orders", stranger["api_key"], json={"amount": 39900, "coupon_code": code})
    assert response.status_code == 404
    assert api.online_order(owner, code=code)["discount_amount"] == 5000


def test_an_online_order_respects_the_campaign_channels(api: Api) -> None:
    shopper = api.shopper()
    code = api.coupon(shopper, channels=["in_store"])["code"]
    response = api.post("/orders", shopper["api_key"], json={"amount": 39900, "coupon_code": code})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["reasons"] == ["channel_not_eligible"]


def test_orders_are_seen_by_their_shopper_their_store_and_admins(
    api: Api, held: dict[str, Any]
) -> None:
    path = f"/orders/{held['order']['id']}"
    assert api.get(path, held["shopper"]["api_key"]).status_code == 200
    assert api.get(path, held["clerk"]["api_key"]).status_code == 200
    assert api.get(path, ADMIN_KEY).status_code == 200
    assert api.get(path, api.shopper()["api_key"]).status_code == 404
    other_clerk = api.clerk()
    assert api.get(path, other_clerk["api_key"]).status_code == 403
    assert api.post(f"{path}/cancel", other_clerk["api_key"]).status_code == 403
    assert api.get("/orders/ord_nope", ADMIN_KEY).status_code == 404
    assert api.get(path).status_code == 401


@pytest.mark.parametrize(
    ("role", "body", "field"),
    [
        ("clerk", {"amount": -1}, "amount"),
        ("clerk", {"amount": 10.5}, "amount"),
        ("clerk", {"amount": "100"}, "amount"),
        ("clerk", {}, "amount"),
        ("clerk", {"amount": 100, "coupon_code": "X"}, "coupon_code"),
        ("shopper", {"amount": 100, "qr_token": "X"}, "qr_token"),
        ("shopper", {"amount": 100, "store_id": "st_nope"}, "store_id"),
    ],
)
def test_bad_orders_are_validation_errors(
    api: Api, role: str, body: dict[str, Any], field: str
) -> None:
    key = api.clerk()["api_key"] if role == "clerk" else api.shopper()["api_key"]
    response = api.post("/orders", key, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_admins_do_not_place_orders(api: Api) -> None:
    assert api.post("/orders", ADMIN_KEY, json={"amount": 100}).status_code == 403


def test_a_lapsed_reservation_reads_as_available_before_any_housekeeping(
    api: Api, held: dict[str, Any], app: Flask
) -> None:
    from datetime import timedelta

    from o2o.extensions import db
    from o2o.models import SandboxClock

    with app.app_context():  # time passes the way the real clock does: nobody sweeps
        row = db.session.get(SandboxClock, 1)
        assert row is not None  # the held sale read the clock, which starts it
        row.now = row.now + timedelta(seconds=ORDER_TTL + 60)
        db.session.commit()
    shopper, code = held["shopper"], held["code"]
    assert api.get(f"/coupons/{code}", shopper["api_key"]).get_json()["status"] == "available"
    listed = api.get("/me/coupons", shopper["api_key"], query_string={"status": "available"})
    assert [c["code"] for c in listed.get_json()["items"]] == [code]
    campaign_id = api.coupon_campaign(code)
    stats = api.get(f"/campaigns/{campaign_id}/stats", ADMIN_KEY).get_json()
    assert (stats["available"], stats["reserved"]) == (1, 0)
    token = api.qr_token(shopper, code)
    scan = api.post("/scans", held["clerk"]["api_key"], json={"qr_token": token, "amount": 39900})
    assert scan.get_json()["applicable"] is True
    assert api.order(held["clerk"], token=token)["coupon_code"] == code


def test_a_keyed_cancel_of_a_lapsed_order_records_the_lapse_and_replays_its_refusal(
    api: Api, held: dict[str, Any], app: Flask
) -> None:
    """The use case commits the lapse, then refuses: under an Idempotency-Key both commit
    together, as without one, and the retry hears the same refusal."""
    from datetime import timedelta

    from o2o.extensions import db
    from o2o.models import SandboxClock

    with app.app_context():  # nobody sweeps: the cancel is the first to see the lapse
        row = db.session.get(SandboxClock, 1)
        assert row is not None
        row.now = row.now + timedelta(seconds=ORDER_TTL + 60)
        db.session.commit()
    path = f"/orders/{held['order']['id']}/cancel"
    headers = {"Idempotency-Key": "cancel-1"}

    first = api.post(path, held["clerk"]["api_key"], headers=headers)
    again = api.post(path, held["clerk"]["api_key"], headers=headers)

    assert (first.status_code, error_code(first)) == (409, "order_not_cancelable")
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.events(held["code"]) == ["claimed", "reserved", "released"]
    assert api.get(f"/orders/{held['order']['id']}", ADMIN_KEY).get_json()["status"] == "expired"
