"""Refunds: never more than what is left; a full refund may give the coupon back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import ADMIN_KEY, Api, error_code


def refund(api: Api, payment_id: str, key: str = ADMIN_KEY, **body: Any) -> Any:
    return api.post(f"/payments/{payment_id}/refunds", key, json=body)


def test_partial_refunds_then_the_rest_by_default(api: Api) -> None:
    sale = api.checkout()  # pays 34900
    pay_id = sale["payment"]["id"]
    first = refund(api, pay_id, sale["clerk"]["api_key"], amount=10000, reason="one item back")
    assert first.status_code == 201
    assert (first.get_json()["amount"], first.get_json()["status"]) == (10000, "succeeded")
    order = api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()
    assert order["status"] == "partially_refunded"
    assert api.coupon_status(sale["code"]) == "redeemed"

    rest = refund(api, pay_id)
    assert rest.get_json()["amount"] == 24900
    assert api.get(f"/payments/{pay_id}", ADMIN_KEY).get_json()["refunded_amount"] == 34900
    assert api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"] == "refunded"


def test_a_full_refund_gives_the_coupon_back(api: Api) -> None:
    sale = api.checkout()
    refund(api, sale["payment"]["id"])
    assert api.coupon_status(sale["code"]) == "available"
    assert api.events(sale["code"]) == ["claimed", "reserved", "redeemed", "restored"]
    campaign = api.get(f"/campaigns/{sale['campaign_id']}", ADMIN_KEY).get_json()
    assert campaign["redeemed_count"] == 0


def test_no_coupon_back_when_the_campaign_says_so_or_it_lapsed(api: Api) -> None:
    kept = api.checkout(restore_on_refund=False)
    refund(api, kept["payment"]["id"])
    assert api.coupon_status(kept["code"]) == "redeemed"

    lapsed = api.checkout(valid_days_after_claim=1)
    api.clock(advance_seconds=86400)
    refund(api, lapsed["payment"]["id"])
    assert api.coupon_status(lapsed["code"]) == "redeemed"


def test_refunding_more_than_is_left_is_refused(api: Api) -> None:
    sale = api.checkout()
    refund(api, sale["payment"]["id"], amount=30000)
    response = refund(api, sale["payment"]["id"], amount=4901)
    assert response.status_code == 422
    assert error_code(response) == "refund_exceeds_payment"
    assert response.get_json()["error"]["details"]["refundable"] == 4900
    refund(api, sale["payment"]["id"])
    nothing_left = refund(api, sale["payment"]["id"])
    assert error_code(nothing_left) == "refund_exceeds_payment"


def test_a_failed_payment_has_nothing_to_refund(api: Api) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    order = api.order(clerk)
    failed = api.pay(order, shopper, clerk, outcome="declined").get_json()
    response = refund(api, failed["id"])
    assert response.status_code == 409
    assert error_code(response) == "payment_not_refundable"


def test_refunds_are_for_admins_and_the_stores_own_clerks(api: Api) -> None:
    sale = api.checkout()
    pay_id = sale["payment"]["id"]
    assert refund(api, pay_id, api.clerk()["api_key"], amount=1).status_code == 403
    assert refund(api, pay_id, sale["shopper"]["api_key"], amount=1).status_code == 403
    assert api.post(f"/payments/{pay_id}/refunds", json={}).status_code == 401
    assert refund(api, "pay_nope").status_code == 404


@pytest.mark.parametrize("amount", [0, -5, 10.5, "100"])
def test_a_refund_amount_is_a_positive_integer(api: Api, amount: Any) -> None:
    sale = api.checkout()
    response = refund(api, sale["payment"]["id"], amount=amount)
    assert response.status_code == 422
    assert "amount" in response.get_json()["error"]["details"]


def test_a_free_order_is_refunded_once_and_gives_its_coupon_back(api: Api) -> None:
    free = {"type": "amount_off", "amount_off": 5000, "min_spend": 0}
    sale = api.checkout(amount=5000, discount=free)  # the coupon pays for all of it
    assert (sale["payment"]["amount"], sale["payment"]["status"]) == (0, "succeeded")

    first = refund(api, sale["payment"]["id"])
    again = refund(api, sale["payment"]["id"])

    assert (first.status_code, first.get_json()["amount"]) == (201, 0)
    assert (again.status_code, error_code(again)) == (422, "refund_exceeds_payment")
    assert api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"] == "refunded"
    assert api.events(sale["code"]) == ["claimed", "reserved", "redeemed", "restored"]
    campaign = api.get(f"/campaigns/{sale['campaign_id']}", ADMIN_KEY).get_json()
    assert campaign["redeemed_count"] == 0
    assert refund(api, sale["payment"]["id"], amount=1).status_code == 422
