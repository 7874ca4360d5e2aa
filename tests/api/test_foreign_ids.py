"""Existence does not leak: another shopper's order or payment reads exactly as an unknown id
(status, code, message). A clerk of another store gets the 403 the contract names for another
store's orders and payments, one answer whatever is asked of the object."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.builders import Api


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
