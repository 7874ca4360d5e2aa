"""The checkout hot path gives the same answers on SQLite and PostgreSQL.

On PostgreSQL an order is placed without BEGIN/COMMIT (reads, then one statement that reserves
the coupon and inserts the order), and a clerk_scan payment is one statement (code, order,
coupon, history, counter, payment); SQLite runs the same steps one by one in a transaction.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from o2o.extensions import db
from o2o.models import Order
from tests.builders import ADMIN_KEY, ORDER_TTL, Api, error_code


def order_of(api: Api, order_id: str) -> dict[str, object]:
    body: dict[str, object] = api.get(f"/orders/{order_id}", ADMIN_KEY).get_json()
    return body


def test_the_payment_code_names_the_payer_of_an_anonymous_order(api: Api) -> None:
    clerk, payer = api.clerk(), api.shopper()
    order = api.order(clerk)  # no coupon: nobody is known until the code is scanned

    payment = api.pay(order, payer, clerk)

    assert (payment.status_code, payment.get_json()["status"]) == (201, "succeeded")
    assert (order_of(api, order["id"])["status"], order_of(api, order["id"])["shopper_id"]) == (
        "paid",
        payer["id"],
    )
    path = f"/payments/{payment.get_json()['id']}"
    assert api.get(path, payer["api_key"]).status_code == 200
    assert api.get(path, api.shopper()["api_key"]).status_code == 404


def test_a_friend_may_pay_for_the_coupon_owners_order(api: Api) -> None:
    sale, friend = api.reserved_sale(), api.shopper()

    payment = api.pay(sale["order"], friend, sale["clerk"])

    assert payment.get_json()["status"] == "succeeded"
    order = order_of(api, sale["order"]["id"])
    assert (order["status"], order["shopper_id"]) == ("paid", sale["shopper"]["id"])
    assert api.coupon_status(sale["code"]) == "redeemed"
    assert api.get(f"/payments/{payment.get_json()['id']}", friend["api_key"]).status_code == 200


def test_a_refused_clerk_scan_changes_nothing(api: Api) -> None:
    sale = api.reserved_sale()
    path = f"/orders/{sale['order']['id']}/payments"
    auth_code = api.payment_code(sale["shopper"])
    body = {"method": "alipay", "flow": "clerk_scan", "auth_code": auth_code}

    unknown_code = {**body, "auth_code": "109999999999999999"}
    refused = api.post(path, sale["clerk"]["api_key"], json=unknown_code)
    foreign = api.post(path, api.clerk()["api_key"], json=body)

    assert (refused.status_code, error_code(refused)) == (422, "invalid_payment_code")
    assert foreign.status_code == 403
    assert order_of(api, sale["order"]["id"])["status"] == "awaiting_payment"
    assert api.coupon_status(sale["code"]) == "reserved"
    assert api.post(path, sale["clerk"]["api_key"], json=body).get_json()["status"] == "succeeded"


def orders_holding(app: Flask, code: str) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Order.coupon_code == code))
    return int(count or 0)


def test_a_refused_checkout_writes_nothing(app: Flask) -> None:
    api = Api(app.test_client())
    clerk, shopper = api.clerk(), api.shopper()
    code = api.coupon(shopper)["code"]  # ¥50 off from ¥300
    token = api.qr_token(shopper, code)

    too_little = api.post("/orders", clerk["api_key"], json={"amount": 100, "qr_token": token})

    assert (too_little.status_code, error_code(too_little)) == (422, "coupon_not_applicable")
    assert orders_holding(app, code) == 0
    assert (api.coupon_status(code), api.events(code)) == ("available", ["claimed"])
    first = api.order(clerk, token=token)
    taken = api.post("/orders", clerk["api_key"], json={"amount": 39900, "qr_token": token})
    assert (taken.status_code, error_code(taken)) == (409, "coupon_not_available")
    assert orders_holding(app, code) == 1
    assert order_of(api, first["id"])["status"] == "awaiting_payment"


def test_a_lapsed_reservation_is_released_for_the_next_checkout(app: Flask) -> None:
    api = Api(app.test_client())
    sale = api.reserved_sale()
    api.clock(advance_seconds=ORDER_TTL)

    second = api.order(sale["clerk"], token=api.qr_token(sale["shopper"], sale["code"]))

    assert second["coupon_code"] == sale["code"]
    assert api.events(sale["code"]) == ["claimed", "reserved", "released", "reserved"]
    assert order_of(api, sale["order"]["id"])["status"] == "expired"
    assert orders_holding(app, sale["code"]) == 2
    assert api.pay(second, sale["shopper"], sale["clerk"]).get_json()["status"] == "succeeded"
