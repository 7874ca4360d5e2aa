"""The clerk_scan hot path gives the same answers on SQLite and PostgreSQL.

On PostgreSQL the payment code is spent and the order paid in one statement; on SQLite in two.
"""

from __future__ import annotations

from tests.builders import ADMIN_KEY, Api, error_code


def order_of(api: Api, order_id: str) -> dict[str, object]:
    body: dict[str, object] = api.get(f"/orders/{order_id}", ADMIN_KEY).get_json()
    return body


def test_the_payment_code_names_the_payer_of_an_anonymous_order(matrix_api: Api) -> None:
    api = matrix_api
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


def test_a_friend_may_pay_for_the_coupon_owners_order(matrix_api: Api) -> None:
    api = matrix_api
    sale, friend = api.reserved_sale(), api.shopper()

    payment = api.pay(sale["order"], friend, sale["clerk"])

    assert payment.get_json()["status"] == "succeeded"
    order = order_of(api, sale["order"]["id"])
    assert (order["status"], order["shopper_id"]) == ("paid", sale["shopper"]["id"])
    assert api.coupon_status(sale["code"]) == "redeemed"
    assert api.get(f"/payments/{payment.get_json()['id']}", friend["api_key"]).status_code == 200


def test_a_refused_clerk_scan_changes_nothing(matrix_api: Api) -> None:
    api = matrix_api
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
