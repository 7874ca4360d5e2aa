"""Payments: mock outcomes on the service clock, payment codes, flows and who may pay."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import (
    ADMIN_KEY,
    MOCK_PAYING_SECONDS,
    ORDER_TTL,
    PAYMENT_CODE_TTL,
    Api,
    error_code,
)


@pytest.fixture
def sale(api: Api) -> dict[str, Any]:
    """An in-store order holding a shopper's coupon, waiting to be paid."""
    return api.reserved_sale()


def order_status(api: Api, sale: dict[str, Any]) -> str:
    return str(api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"])


@pytest.mark.parametrize("outcome", ["declined", "insufficient_funds"])
def test_a_failed_payment_leaves_the_order_payable(
    api: Api, sale: dict[str, Any], outcome: str
) -> None:
    failed = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome=outcome)
    assert failed.status_code == 201
    assert (failed.get_json()["status"], failed.get_json()["failure_code"]) == ("failed", outcome)
    assert order_status(api, sale) == "awaiting_payment"
    assert api.coupon_status(sale["code"]) == "reserved"
    retry = api.pay(sale["order"], sale["shopper"], sale["clerk"], method="alipay")
    assert retry.get_json()["status"] == "succeeded"
    assert order_status(api, sale) == "paid"


def test_user_paying_succeeds_on_the_first_read_after_the_delay(
    api: Api, sale: dict[str, Any]
) -> None:
    payment = api.pay(
        sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying"
    ).get_json()
    assert payment["status"] == "pending"
    api.clock(advance_seconds=MOCK_PAYING_SECONDS - 1)
    assert (
        api.get(f"/payments/{payment['id']}", sale["clerk"]["api_key"]).get_json()["status"]
        == "pending"
    )
    assert order_status(api, sale) == "awaiting_payment"
    api.clock(advance_seconds=1)
    settled = api.get(f"/payments/{payment['id']}", sale["clerk"]["api_key"]).get_json()
    assert settled["status"] == "succeeded"
    assert settled["succeeded_at"] is not None
    assert order_status(api, sale) == "paid"
    assert api.coupon_status(sale["code"]) == "redeemed"


def test_timeout_fails_after_the_delay_and_the_order_stays_payable(
    api: Api, sale: dict[str, Any]
) -> None:
    payment = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="timeout").get_json()
    assert payment["status"] == "pending"
    api.clock(advance_seconds=MOCK_PAYING_SECONDS)
    settled = api.get(f"/payments/{payment['id']}", sale["shopper"]["api_key"]).get_json()
    assert (settled["status"], settled["failure_code"]) == ("failed", "timeout")
    assert order_status(api, sale) == "awaiting_payment"


def test_a_pending_payment_is_called_off_when_another_pays_first(
    api: Api, sale: dict[str, Any]
) -> None:
    slow = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying").get_json()
    assert (
        api.pay(sale["order"], sale["shopper"], sale["clerk"]).get_json()["status"] == "succeeded"
    )
    api.clock(advance_seconds=MOCK_PAYING_SECONDS)
    late = api.get(f"/payments/{slow['id']}", ADMIN_KEY).get_json()
    assert (late["status"], late["failure_code"]) == ("canceled", "order_not_payable")


def test_an_unknown_mock_outcome_is_a_validation_error(api: Api, sale: dict[str, Any]) -> None:
    response = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="maybe")
    assert response.status_code == 422
    assert "O2O-Mock-Outcome" in response.get_json()["error"]["details"]


def test_a_payment_code_is_18_digits_single_use_and_identifies_the_payer(
    api: Api, sale: dict[str, Any]
) -> None:
    code = api.get("/me/payment-code", sale["shopper"]["api_key"]).get_json()
    assert len(code["auth_code"]) == 18
    assert code["auth_code"].isdigit()
    body = {"method": "card", "flow": "clerk_scan", "auth_code": code["auth_code"]}
    path = f"/orders/{sale['order']['id']}/payments"
    declined = api.post(
        path, sale["clerk"]["api_key"], json=body, headers={"O2O-Mock-Outcome": "declined"}
    )
    assert declined.status_code == 201
    reused = api.post(path, sale["clerk"]["api_key"], json=body)
    assert reused.status_code == 422
    assert error_code(reused) == "invalid_payment_code"


@pytest.mark.parametrize("auth_code", ["123456789012345678", "not-a-code"])
def test_an_unknown_payment_code_is_refused(api: Api, sale: dict[str, Any], auth_code: str) -> None:
    body = {"method": "card", "flow": "clerk_scan", "auth_code": auth_code}
    response = api.post(
        f"/orders/{sale['order']['id']}/payments", sale["clerk"]["api_key"], json=body
    )
    assert response.status_code == 422
    assert error_code(response) == "invalid_payment_code"


def test_an_expired_payment_code_is_refused(api: Api, sale: dict[str, Any]) -> None:
    auth_code = api.payment_code(sale["shopper"])
    api.clock(advance_seconds=PAYMENT_CODE_TTL)
    body = {"method": "card", "flow": "clerk_scan", "auth_code": auth_code}
    response = api.post(
        f"/orders/{sale['order']['id']}/payments", sale["clerk"]["api_key"], json=body
    )
    assert response.status_code == 422
    assert error_code(response) == "invalid_payment_code"
    assert order_status(api, sale) == "awaiting_payment"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "bitcoin", "flow": "clerk_scan", "auth_code": "1"}, "method"),
        ({"method": "card", "flow": "teleport"}, "flow"),
        ({"method": "card", "flow": "clerk_scan"}, "auth_code"),
        ({"method": "card", "flow": "shopper_scan", "auth_code": "1"}, "auth_code"),
        ({"method": "card", "flow": "online"}, "flow"),  # an in-store order is not paid online
    ],
)
def test_bad_payment_requests_are_validation_errors(
    api: Api, sale: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    key = sale["shopper"]["api_key"] if body["flow"] == "online" else sale["clerk"]["api_key"]
    response = api.post(f"/orders/{sale['order']['id']}/payments", key, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_a_paid_order_cannot_be_paid_again(api: Api, sale: dict[str, Any]) -> None:
    api.pay(sale["order"], sale["shopper"], sale["clerk"])
    again = api.pay(sale["order"], sale["shopper"], sale["clerk"])
    assert again.status_code == 409
    assert error_code(again) == "order_not_payable"


def test_a_shopper_cannot_pay_or_see_another_shoppers_order(api: Api) -> None:
    owner, stranger = api.shopper(), api.shopper()
    order = api.online_order(owner)
    response = api.pay(order, stranger)
    assert response.status_code == 404
    payment = api.pay(order, owner).get_json()
    assert api.get(f"/payments/{payment['id']}", stranger["api_key"]).status_code == 404
    assert api.get(f"/payments/{payment['id']}", owner["api_key"]).status_code == 200


def test_flows_belong_to_roles(api: Api, sale: dict[str, Any]) -> None:
    path = f"/orders/{sale['order']['id']}/payments"
    body = {"method": "card", "flow": "shopper_scan"}
    assert api.post(path, sale["shopper"]["api_key"], json=body).status_code == 403
    online = api.online_order(sale["shopper"])
    response = api.post(
        f"/orders/{online['id']}/payments",
        sale["clerk"]["api_key"],
        json={"method": "card", "flow": "online"},
    )
    assert response.status_code == 403


def test_a_clerk_of_another_store_cannot_take_or_read_payments(
    api: Api, sale: dict[str, Any]
) -> None:
    other = api.clerk()
    assert api.pay(sale["order"], sale["shopper"], other).status_code == 403
    payment = api.pay(sale["order"], sale["shopper"], sale["clerk"]).get_json()
    assert api.get(f"/payments/{payment['id']}", other["api_key"]).status_code == 403


def test_shopper_scan_is_confirmed_only_once_and_only_by_the_orders_shopper(
    api: Api, sale: dict[str, Any]
) -> None:
    path = f"/orders/{sale['order']['id']}/payments"
    payment = api.post(
        path, sale["clerk"]["api_key"], json={"method": "wechat_pay", "flow": "shopper_scan"}
    ).get_json()
    assert (
        api.post(f"/payments/{payment['id']}/confirm", api.shopper()["api_key"]).status_code == 404
    )
    ok = api.post(f"/payments/{payment['id']}/confirm", sale["shopper"]["api_key"], json={})
    assert ok.get_json()["status"] == "succeeded"
    again = api.post(f"/payments/{payment['id']}/confirm", sale["shopper"]["api_key"])
    assert again.status_code == 409
    assert error_code(again) == "payment_not_pending"


def test_the_merchant_qr_of_a_shopper_scan_payment_encodes_the_wallet_link_to_pay_it(
    api: Api, sale: dict[str, Any]
) -> None:
    from tests.api.test_coupons import decode_qr

    payment = api.post(
        f"/orders/{sale['order']['id']}/payments",
        sale["clerk"]["api_key"],
        json={"method": "alipay", "flow": "shopper_scan"},
    ).get_json()
    image = api.client.get(
        payment["qr_url"], headers={"Authorization": f"Bearer {sale['clerk']['api_key']}"}
    )
    assert image.mimetype == "image/png"
    assert decode_qr(image.data) == f"http://127.0.0.1:5000/wallet/pay/{payment['id']}"


def test_replaying_a_payment_with_its_idempotency_key_charges_once(
    api: Api, sale: dict[str, Any]
) -> None:
    body = {"method": "card", "flow": "clerk_scan", "auth_code": api.payment_code(sale["shopper"])}
    path = f"/orders/{sale['order']['id']}/payments"
    headers = {"Idempotency-Key": "till-7-receipt-42"}
    first = api.post(path, sale["clerk"]["api_key"], json=body, headers=headers)
    again = api.post(path, sale["clerk"]["api_key"], json=body, headers=headers)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_payer_of_an_anonymous_in_store_order_sees_their_payment(api: Api) -> None:
    clerk, payer = api.clerk(), api.shopper()
    order = api.order(clerk)  # no coupon: the shopper is known only from the payment code
    pending = api.pay(order, payer, clerk, outcome="user_paying").get_json()
    assert api.get(f"/payments/{pending['id']}", payer["api_key"]).status_code == 200
    assert api.get(f"/payments/{pending['id']}", api.shopper()["api_key"]).status_code == 404


def test_a_walk_ins_shopper_scan_payment_is_paid_by_the_shopper_who_confirms_it_first(
    api: Api,
) -> None:
    sale = api.walk_in_sale()
    first, second = api.shopper(), api.shopper()
    paid = api.confirm(sale["payment"]["id"], first)
    assert paid.get_json()["status"] == "succeeded"
    order = api.get(f"/orders/{sale['order']['id']}", first["api_key"]).get_json()
    assert (order["status"], order["shopper_id"]) == ("paid", first["id"])  # theirs now
    assert [p["id"] for p in api.listed("/payments", first["api_key"])] == [paid.get_json()["id"]]
    assert api.confirm(sale["payment"]["id"], second).status_code == 404
    again = api.confirm(sale["payment"]["id"], first)
    assert (again.status_code, error_code(again)) == (409, "payment_not_pending")


def test_a_refused_payment_does_not_use_up_the_payment_code(api: Api, sale: dict[str, Any]) -> None:
    auth_code = api.payment_code(sale["shopper"])
    body = {"method": "wechat_pay", "flow": "clerk_scan", "auth_code": auth_code}
    path = f"/orders/{sale['order']['id']}/payments"
    assert api.post(path, api.clerk()["api_key"], json=body).status_code == 403
    other_sale = api.reserved_sale()
    other_path = f"/orders/{other_sale['order']['id']}/payments"
    assert api.post(other_path, sale["clerk"]["api_key"], json=body).status_code == 403

    paid = api.post(path, sale["clerk"]["api_key"], json=body)

    assert paid.status_code == 201
    assert (paid.get_json()["status"], order_status(api, sale)) == ("succeeded", "paid")


@pytest.mark.parametrize(
    ("order", "status", "code"),
    [
        ("unknown", 404, "not_found"),
        ("another_stores", 403, "forbidden"),
        ("paid", 409, "order_not_payable"),
        ("lapsed", 409, "order_not_payable"),
    ],
)
def test_what_is_wrong_with_the_order_is_said_before_a_bad_payment_code(
    api: Api, sale: dict[str, Any], order: str, status: int, code: str
) -> None:
    order_id = sale["order"]["id"]
    clerk_key = sale["clerk"]["api_key"]
    if order == "unknown":
        order_id = "ord_doesnotexist0000"
    elif order == "another_stores":
        clerk_key = api.clerk()["api_key"]
    elif order == "paid":
        api.pay(sale["order"], sale["shopper"], sale["clerk"])
    else:
        api.clock(advance_seconds=ORDER_TTL)
    body = {"method": "card", "flow": "clerk_scan", "auth_code": "109999999999999999"}

    response = api.post(f"/orders/{order_id}/payments", clerk_key, json=body)

    assert (response.status_code, error_code(response)) == (status, code)
    if order == "lapsed":
        assert order_status(api, sale) == "expired"
        assert api.coupon_status(sale["code"]) == "available"


def test_a_delayed_payment_succeeded_when_its_delay_ended_not_when_it_was_read(
    api: Api, sale: dict[str, Any]
) -> None:
    from datetime import datetime, timedelta

    pending = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying")
    payment = pending.get_json()
    api.clock(advance_seconds=MOCK_PAYING_SECONDS + 600)  # read ten minutes after it settled

    settled = api.get(f"/payments/{payment['id']}", sale["clerk"]["api_key"]).get_json()

    created = datetime.fromisoformat(payment["created_at"])
    ended = created + timedelta(seconds=MOCK_PAYING_SECONDS)
    assert settled["status"] == "succeeded"
    assert datetime.fromisoformat(settled["succeeded_at"]) == ended
    redeemed = api.get(f"/coupons/{sale['code']}/events", ADMIN_KEY).get_json()["items"][-1]
    assert (redeemed["type"], datetime.fromisoformat(redeemed["at"])) == ("redeemed", ended)


def test_the_redeemed_event_names_who_took_the_payment(api: Api, sale: dict[str, Any]) -> None:
    assert api.pay(sale["order"], sale["shopper"], sale["clerk"]).status_code == 201
    online = api.shopper()
    code = api.coupon(online)["code"]
    order = api.online_order(online, code=code)
    assert api.pay(order, online).status_code == 201

    def redeemed_by(coupon_code: str) -> tuple[str, str]:
        events = api.get(f"/coupons/{coupon_code}/events", ADMIN_KEY).get_json()["items"]
        redeemed = next(event for event in events if event["type"] == "redeemed")
        return redeemed["actor_role"], redeemed["actor_id"]

    assert redeemed_by(sale["code"]) == ("clerk", sale["clerk"]["id"])
    assert redeemed_by(code) == ("shopper", online["id"])
