"""The client's objects name what they have when asked for what they do not."""

from __future__ import annotations

import copy
import pickle
from typing import assert_type, cast

import pytest

from o2o.client import (
    Campaign,
    Clerk,
    Clock,
    Coupon,
    Order,
    Payment,
    Refund,
    Scan,
    Shopper,
    Store,
    Transport,
)
from o2o.client.flow import Resource

NOWHERE = cast(Transport, object())  # no request is made

ORDER = {
    "id": "ord_1",
    "status": "paid",
    "channel": "in_store",
    "amount": 39900,
    "discount_amount": 5000,
    "payable_amount": 34900,
    "coupon_code": None,
}


def _error(thing: object, name: str) -> AttributeError:
    with pytest.raises(AttributeError) as raised:
        getattr(thing, name)
    return raised.value


def test_an_unknown_field_names_the_fields_the_object_has() -> None:
    error = _error(Order(ORDER), "colour")
    assert str(error) == (
        "Order has no field 'colour'; its fields are: "
        "id, status, channel, amount, discount_amount, payable_amount, coupon_code"
    )
    assert error.name == "colour"


def test_a_misspelt_field_is_answered_with_the_closest_one() -> None:
    assert str(_error(Order(ORDER), "amuont")).startswith(
        "Order has no field 'amuont' (did you mean 'amount'?); its fields are: id, status"
    )


def test_a_typed_field_the_response_lacks_names_the_fields_it_has() -> None:
    error = _error(Order({"id": "ord_1", "status": "paid"}), "amount")
    assert str(error) == "Order has no field 'amount'; its fields are: id, status"


@pytest.mark.parametrize("kind", [Store, Campaign, Coupon, Scan, Order, Payment, Refund])
def test_every_resource_names_its_own_kind_in_the_error(kind: type[Resource]) -> None:
    error = _error(kind({"id": "x_1"}), "nope")
    assert str(error) == f"{kind.__name__} has no field 'nope'; its fields are: id"


def test_typed_fields_untyped_keys_and_items_read_as_before() -> None:
    order = Order({**ORDER, "qr_url": "http://127.0.0.1:5000/x"})
    assert_type(order.amount, int)  # mypy checks the Field's type
    assert_type(order.coupon_code, str | None)
    assert order.amount == 39900
    assert order.qr_url == "http://127.0.0.1:5000/x"  # a key no Field declares: Any
    assert order["status"] == "paid"
    assert hasattr(order, "status")
    assert not hasattr(order, "colour")
    assert {"qr_url", "amount"} <= set(dir(order))  # what a REPL completes


def test_resources_still_copy_and_pickle() -> None:
    order = Order(ORDER)
    assert copy.copy(order).status == "paid"
    assert copy.deepcopy(order).data == ORDER
    assert pickle.loads(pickle.dumps(order)).data == ORDER


def test_a_caller_names_its_attributes_and_methods_on_an_unknown_one() -> None:
    shopper = Shopper(transport=NOWHERE, key="k", data={"id": "sh_1", "name": "Li Na"})
    message = str(_error(shopper, "clam"))
    assert message.startswith("Shopper has no attribute 'clam' (did you mean 'claim'?); ")
    assert "its attributes are: id, key, name, transport; " in message
    assert "claim, claimable" in message
    clerk = Clerk(transport=NOWHERE, key="k", data={"id": "cl_1", "store_id": "st_1"})
    assert "did you mean 'store_id'?" in str(_error(clerk, "storeid"))
    assert str(_error(Clock(shopper), "nw")).startswith(
        "Clock has no attribute 'nw' (did you mean 'now'?); its attributes are: admin; "
        "its methods are: advance, freeze, mode, now, real"
    )
    assert shopper.using(NOWHERE).id == "sh_1"  # copy.copy still works on callers
