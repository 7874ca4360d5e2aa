"""Existence does not leak: another shopper's order or payment reads exactly as an unknown id
(status, code, message). A clerk of another store gets the 403 the contract names for another
store's orders and payments, one answer whatever is asked of the object."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.builders import ADMIN_KEY, Api


@pytest.fixture
def sale(api: Api) -> dict[str, Any]:
    """A paid in-store purchase with a coupon, and an online order still awaiting payment."""
    sale = api.checkout()
    sale["online"] = api.online_order(sale["shopper"])
    return sale


def answer(response: TestResponse) -> tuple[int, Any]:
    return response.status_code, response.get_json()


def order_calls(api: Api, key: str, order_id: str) -> list[TestResponse]:
    """Everything a caller can do with an order id."""
    return [
        api.get(f"/orders/{order_id}", key),
        api.post(f"/orders/{order_id}/cancel", key),
        api.post(f"/orders/{order_id}/payments", key, json={"method": "card", "flow": "online"}),
    ]


def test_a_shopper_sees_another_shoppers_order_exactly_as_an_unknown_one(
    api: Api, sale: dict[str, Any]
) -> None:
    stranger = api.shopper()["api_key"]
    for order in (sale["order"], sale["online"]):
        foreign = order_calls(api, stranger, order["id"])
        unknown = order_calls(api, stranger, "ord_" + order["id"][4:][::-1])
        assert [answer(r) for r in foreign] == [answer(r) for r in unknown]
        assert {answer(r)[0] for r in foreign} == {404}
        assert {r.get_json()["error"]["message"] for r in foreign} == {"No order has this id."}
    assert api.get(f"/orders/{sale['online']['id']}", sale["shopper"]["api_key"]).status_code == 200


def test_a_shopper_asking_to_refund_another_shoppers_payment_hears_what_an_unknown_id_gets(
    api: Api, sale: dict[str, Any]
) -> None:
    stranger = api.shopper()["api_key"]
    foreign = api.post(f"/payments/{sale['payment']['id']}/refunds", stranger, json={})
    unknown = api.post("/payments/pay_nosuchpayment/refunds", stranger, json={})
    assert answer(foreign) == answer(unknown)
    assert foreign.status_code == 403  # refunds are for admins and clerks, whatever the id


def test_a_clerk_of_another_store_gets_the_contracts_403_for_orders_and_404_for_unknown_ids(
    api: Api, sale: dict[str, Any]
) -> None:
    other_clerk = api.clerk()["api_key"]
    foreign = api.get(f"/orders/{sale['order']['id']}", other_clerk)
    cancel = api.post(f"/orders/{sale['order']['id']}/cancel", other_clerk)
    unknown = api.get("/orders/ord_nosuchorder", other_clerk)
    assert answer(foreign) == answer(cancel)
    assert foreign.status_code == 403
    assert foreign.get_json()["error"]["message"] == "This order belongs to another store."
    assert answer(unknown)[0] == 404
    assert unknown.get_json()["error"]["message"] == "No order has this id."


def test_a_clerk_of_another_store_refunding_gets_the_answer_a_read_of_the_payment_gets(
    api: Api, sale: dict[str, Any]
) -> None:
    other_clerk = api.clerk()["api_key"]
    foreign = api.post(f"/payments/{sale['payment']['id']}/refunds", other_clerk, json={})
    read = api.get(f"/payments/{sale['payment']['id']}", other_clerk)
    unknown = api.post("/payments/pay_nosuchpayment/refunds", other_clerk, json={})
    assert answer(foreign) == answer(read)  # refund or read: one answer for another store's
    assert foreign.status_code == 403
    assert foreign.get_json()["error"]["message"] == "This order belongs to another store."
    assert answer(unknown)[0] == 404
    assert unknown.get_json()["error"]["message"] == "No payment has this id."


# A walk-in's order (a clerk's, without a coupon) has no shopper: its shopper_scan payment is
# paid by whoever scans the merchant QR, so any shopper sees it (and its order) until one pays.
# Its id is random (new_id): the QR on the till's screen is what lets a shopper in.


def payment_calls(api: Api, key: str, payment_id: str) -> list[TestResponse]:
    """Everything a shopper can do with a payment id."""
    return [
        api.get(f"/payments/{payment_id}", key),
        api.get(f"/payments/{payment_id}/qr", key),
        api.post(f"/payments/{payment_id}/confirm", key),
    ]


def unknown(some_id: str) -> str:
    prefix, _, rest = some_id.partition("_")
    return f"{prefix}_{rest[::-1]}"


def test_any_shopper_sees_a_walk_ins_pending_shopper_scan_payment_and_its_order(
    api: Api,
) -> None:
    sale = api.walk_in_sale()
    payment, order = sale["payment"], sale["order"]
    for shopper in (api.shopper(), api.shopper()):
        key = shopper["api_key"]
        seen = api.get(f"/payments/{payment['id']}", key)
        assert seen.status_code == 200
        assert seen.get_json()["amount"] == 39900
        shown = api.get(f"/orders/{order['id']}", key).get_json()
        assert (shown["store_id"], shown["amount"], shown["coupon_code"]) == (
            order["store_id"],
            39900,
            None,
        )
        assert api.get(f"/payments/{payment['id']}/qr", key).mimetype == "image/png"


def test_a_shopper_who_sees_a_walk_ins_order_can_neither_cancel_it_nor_pay_it_online(
    api: Api,
) -> None:
    sale = api.walk_in_sale()
    key = api.shopper()["api_key"]
    acts = order_calls(api, key, sale["order"]["id"])[1:]
    unknown_acts = order_calls(api, key, unknown(sale["order"]["id"]))[1:]
    assert [answer(r) for r in acts] == [answer(r) for r in unknown_acts]
    assert {answer(r)[0] for r in acts} == {404}
    assert api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()["status"] == (
        "awaiting_payment"
    )


@pytest.mark.parametrize("outcome", ["success", "user_paying", "declined"])
def test_once_a_shopper_confirmed_a_walk_ins_payment_another_sees_it_as_an_unknown_id(
    api: Api, outcome: str
) -> None:
    sale = api.walk_in_sale()
    payment, order = sale["payment"], sale["order"]
    payer, other = api.shopper(), api.shopper()
    assert api.confirm(payment["id"], payer, outcome).status_code == 200
    key = other["api_key"]
    foreign = payment_calls(api, key, payment["id"]) + order_calls(api, key, order["id"])
    unknowns = payment_calls(api, key, unknown(payment["id"]))
    unknowns += order_calls(api, key, unknown(order["id"]))
    assert [answer(r) for r in foreign] == [answer(r) for r in unknowns]
    assert {answer(r)[0] for r in foreign} == {404}
    # the payer still sees what they paid, and the order they paid it for
    assert api.get(f"/payments/{payment['id']}", payer["api_key"]).status_code == 200
    assert api.get(f"/orders/{order['id']}", payer["api_key"]).status_code == 200


def test_a_pending_shopper_scan_payment_of_another_shoppers_order_reads_as_an_unknown_id(
    api: Api,
) -> None:
    sale = api.reserved_sale()  # the order holds its shopper's coupon: it is theirs alone
    payment = api.post(
        f"/orders/{sale['order']['id']}/payments",
        sale["clerk"]["api_key"],
        json={"method": "alipay", "flow": "shopper_scan"},
    ).get_json()
    key = api.shopper()["api_key"]
    foreign = payment_calls(api, key, payment["id"]) + order_calls(api, key, sale["order"]["id"])
    unknowns = payment_calls(api, key, unknown(payment["id"]))
    unknowns += order_calls(api, key, unknown(sale["order"]["id"]))
    assert [answer(r) for r in foreign] == [answer(r) for r in unknowns]
    assert {answer(r)[0] for r in foreign} == {404}
    assert api.get(f"/payments/{payment['id']}", sale["shopper"]["api_key"]).status_code == 200
