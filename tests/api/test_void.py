"""Voiding a coupon: an admin takes an available coupon out of circulation, for good."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from tests.builders import ADMIN_KEY, ORDER_TTL, Api, error_code


def test_voiding_an_available_coupon_makes_it_voided_with_its_history_row(api: Api) -> None:
    code = api.coupon()["code"]
    response = api.void(code.lower(), reason="Printed by mistake")
    assert response.status_code == 200, response.get_json()
    voided = response.get_json()
    assert (voided["code"], voided["status"], voided["void_reason"]) == (
        code,
        "voided",
        "Printed by mistake",
    )
    assert api.coupon_status(code) == "voided"
    events = api.get(f"/coupons/{code}/events", ADMIN_KEY).get_json()["items"]
    assert [event["type"] for event in events] == ["claimed", "voided"]
    assert events[-1]["actor_role"] == "admin"
    assert (events[-1]["order_id"], events[-1]["store_id"]) == (None, None)


def test_the_void_body_is_optional(api: Api) -> None:
    code = api.coupon()["code"]
    assert api.post(f"/coupons/{code}/void", ADMIN_KEY).status_code == 200
    assert api.void(api.coupon()["code"]).status_code == 200  # {}


def test_a_reason_longer_than_255_characters_is_refused_and_voids_nothing(api: Api) -> None:
    code = api.coupon()["code"]
    response = api.void(code, reason="x" * 256)
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["details"]
    assert api.coupon_status(code) == "available"


def test_a_voided_coupon_cannot_be_scanned_or_used_at_checkout(api: Api) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    code = api.coupon(shopper)["code"]
    token = api.qr_token(shopper, code)  # minted before the void: still genuine, now useless
    assert api.void(code).status_code == 200

    scan = api.post("/scans", clerk["api_key"], json={"qr_token": token, "amount": 39900})
    assert scan.status_code == 200
    assert scan.get_json()["applicable"] is False
    assert "coupon_not_available" in scan.get_json()["reasons"]
    in_store = api.post("/orders", clerk["api_key"], json={"amount": 39900, "qr_token": token})
    online = api.post("/orders", shopper["api_key"], json={"amount": 39900, "coupon_code": code})
    fresh_token = api.get(f"/coupons/{code}/qr-token", shopper["api_key"])
    for refused in (in_store, online, fresh_token):
        assert (refused.status_code, error_code(refused)) == (409, "coupon_not_available")
    assert api.events(code) == ["claimed", "voided"]


def test_a_redeemed_coupon_cannot_be_voided(api: Api) -> None:
    sale = api.checkout()
    response = api.void(sale["code"])
    assert (response.status_code, error_code(response)) == (409, "coupon_not_available")
    assert api.coupon_status(sale["code"]) == "redeemed"


def test_an_expired_coupon_cannot_be_voided(api: Api) -> None:
    code = api.coupon()["code"]  # valid 30 days after the claim
    api.clock(advance_seconds=30 * 86400)
    response = api.void(code)
    assert (response.status_code, error_code(response)) == (409, "coupon_not_available")
    assert response.get_json()["error"]["message"] == "This coupon is expired."
    assert "voided" not in api.events(code)


def test_a_voided_coupon_cannot_be_voided_again(api: Api) -> None:
    code = api.coupon()["code"]
    api.void(code)
    again = api.void(code)
    assert (again.status_code, error_code(again)) == (409, "coupon_not_available")
    assert api.events(code) == ["claimed", "voided"]


def test_a_coupon_reserved_by_an_order_awaiting_payment_cannot_be_voided(api: Api) -> None:
    sale = api.reserved_sale()
    response = api.void(sale["code"])
    assert (response.status_code, error_code(response)) == (409, "coupon_not_available")
    assert "cancel the order first" in response.get_json()["error"]["message"]
    assert api.coupon_status(sale["code"]) == "reserved"
    paid = api.pay(sale["order"], sale["shopper"], sale["clerk"])  # the order is still payable
    assert paid.get_json()["status"] == "succeeded"


def test_a_coupon_whose_order_lapsed_is_released_then_voided(api: Api) -> None:
    sale = api.reserved_sale()
    api.clock(advance_seconds=ORDER_TTL)
    assert api.void(sale["code"]).status_code == 200
    assert api.events(sale["code"]) == ["claimed", "reserved", "released", "voided"]
    order = api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()
    assert order["status"] == "expired"


def test_only_an_admin_voids_a_coupon(api: Api) -> None:
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    for key in (shopper["api_key"], api.clerk()["api_key"]):
        response = api.void(code, key)
        assert (response.status_code, error_code(response)) == (403, "forbidden")
    assert api.post(f"/coupons/{code}/void", json={}).status_code == 401
    assert api.coupon_status(code) == "available"


def test_voiding_an_unknown_coupon_is_a_404(api: Api) -> None:
    response = api.void("ZZZZZZZZZZZZ")
    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_a_retry_under_the_same_idempotency_key_replays_the_void(api: Api) -> None:
    code = api.coupon()["code"]
    headers = {"Idempotency-Key": "void-1"}
    first = api.post(f"/coupons/{code}/void", ADMIN_KEY, json={}, headers=headers)
    again = api.post(f"/coupons/{code}/void", ADMIN_KEY, json={}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert api.events(code) == ["claimed", "voided"]


def race(app: Flask, shopper: dict[str, Any], code: str) -> dict[str, int]:
    """Void the coupon and check out with it at once; each side's status code."""
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def void() -> None:
        client = Api(app.test_client())
        start.wait()
        answers["void"] = client.void(code).status_code

    def order() -> None:
        client, body = Api(app.test_client()), {"amount": 39900, "coupon_code": code}
        start.wait()
        answers["order"] = client.post("/orders", shopper["api_key"], json=body).status_code

    threads = [threading.Thread(target=void), threading.Thread(target=order)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_void_racing_a_checkout_leaves_exactly_one_of_them_done(api: Api, app: Flask) -> None:
    for _ in range(4):
        shopper = api.shopper()
        code = api.coupon(shopper)["code"]
        answers = race(app, shopper, code)
        assert sorted(answers.values()) in ([200, 409], [201, 409]), answers
        status = api.coupon_status(code)
        assert status == ("voided" if answers["void"] == 200 else "reserved")
        assert api.events(code)[-1] == status


def test_voiding_a_coupon_writes_its_coupon_voided_event_showing_it_voided(api: Api) -> None:
    coupon = api.coupon()

    voided = api.post(f"/coupons/{coupon['code']}/void", api.admin_key, json={}).get_json()

    listed = api.get("/events?type=coupon.voided", api.admin_key).get_json()["items"]
    assert [event["data"]["object"] for event in listed] == [voided]
