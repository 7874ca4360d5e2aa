"""Payment codes: kept only as their keyed hash, looked up by it, one unused code per shopper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from o2o.extensions import db
from o2o.models import PaymentCode
from o2o.services.payments import codes
from o2o.tokens import hash_payment_code
from tests.builders import SECRET, Api, error_code
from tests.services.test_checkout_concurrency import race


def unused_codes(app: Flask, shopper: dict[str, Any]) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count())
                .select_from(PaymentCode)
                .where(PaymentCode.shopper_id == shopper["id"], PaymentCode.used_at.is_(None))
            )
            or 0
        )


@pytest.fixture
def bound_values(app: Flask) -> Iterator[list[str]]:
    """Every value bound to every statement the app sends, as text."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any) -> None:
        many = isinstance(parameters, list)  # executemany: a list of parameter sets
        for row in parameters if many else [parameters]:
            seen.extend(str(value) for value in (row.values() if isinstance(row, dict) else row))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_payment_code_is_stored_only_as_its_hmac_under_the_instance_secret(
    api: Api, app: Flask
) -> None:
    shopper = api.shopper()
    code = api.payment_code(shopper)
    with app.app_context():
        (row,) = db.session.scalars(select(PaymentCode)).all()
    assert row.code_hash == hash_payment_code(SECRET, code)
    assert row.code_hash != hash_payment_code("another secret", code)
    assert code not in row.code_hash


@pytest.mark.parametrize("outcome", ["success", "declined"])
def test_paying_with_a_code_binds_its_hash_never_the_code(
    api: Api, sale: dict[str, Any], bound_values: list[str], outcome: str
) -> None:
    code = api.payment_code(sale["shopper"])
    bound_values.clear()
    body = {"method": "card", "flow": "clerk_scan", "auth_code": code}
    response = api.post(
        f"/orders/{sale['order']['id']}/payments",
        sale["clerk"]["api_key"],
        json=body,
        headers={"O2O-Mock-Outcome": outcome},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == ("succeeded" if outcome == "success" else "failed")
    assert hash_payment_code(SECRET, code) in bound_values
    assert not [value for value in bound_values if code in value]


def test_minting_a_new_code_retires_the_shoppers_older_unused_one(
    api: Api, sale: dict[str, Any]
) -> None:
    older = api.payment_code(sale["shopper"])
    newer = api.payment_code(sale["shopper"])
    path, key = f"/orders/{sale['order']['id']}/payments", sale["clerk"]["api_key"]

    refused = api.post(path, key, json={"method": "card", "flow": "clerk_scan", "auth_code": older})
    assert refused.status_code == 422
    assert error_code(refused) == "invalid_payment_code"
    paid = api.post(path, key, json={"method": "card", "flow": "clerk_scan", "auth_code": newer})
    assert paid.status_code == 201
    assert paid.get_json()["status"] == "succeeded"


def test_however_often_a_shopper_asks_they_hold_one_unused_code(api: Api, app: Flask) -> None:
    shopper, other = api.shopper(), api.shopper()
    api.payment_code(other)
    for _ in range(25):
        api.payment_code(shopper)
    assert unused_codes(app, shopper) == 1
    assert unused_codes(app, other) == 1  # another shopper's code is untouched


def test_racing_mints_for_one_shopper_leave_one_unused_code(api: Api, app: Flask) -> None:
    shopper = api.shopper()
    headers = {"Authorization": f"Bearer {shopper['api_key']}"}

    responses = race(app, 10, lambda c, _: c.get("/api/v1/me/payment-code", headers=headers))

    assert [r.status_code for r in responses] == [200] * 10
    assert unused_codes(app, shopper) == 1


def test_a_drawn_code_equal_to_a_stored_one_is_drawn_again(
    api: Api, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["123456789012345678", "123456789012345678", "109876543210987654"])
    monkeypatch.setattr(codes, "new_payment_code", lambda: next(draws))
    first, second = api.shopper(), api.shopper()
    assert api.payment_code(first) == "123456789012345678"
    assert api.payment_code(second) == "109876543210987654"
    assert unused_codes(app, first) == unused_codes(app, second) == 1


@pytest.fixture
def sale(api: Api) -> dict[str, Any]:
    """A clerk, a shopper, and an in-store order (no coupon) awaiting payment."""
    clerk, shopper = api.clerk(), api.shopper()
    return {"clerk": clerk, "shopper": shopper, "order": api.order(clerk)}


def test_a_payment_code_asked_for_as_a_qr_decodes_to_the_very_code_it_pays_with(
    api: Api, app: Flask
) -> None:
    import base64

    from tests.api.test_coupons import decode_qr

    sale = api.reserved_sale()
    answer = api.get("/me/payment-code?qr=png", sale["shopper"]["api_key"]).get_json()
    prefix = "data:image/png;base64,"
    assert answer["qr"].startswith(prefix)
    scanned = decode_qr(base64.b64decode(answer["qr"].removeprefix(prefix)))
    assert scanned == answer["auth_code"]
    assert unused_codes(app, sale["shopper"]) == 1  # one code minted, shown twice
    paid = api.post(
        f"/orders/{sale['order']['id']}/payments",
        sale["clerk"]["api_key"],
        json={"method": "wechat_pay", "flow": "clerk_scan", "auth_code": scanned},
    )
    assert paid.get_json()["status"] == "succeeded"
    assert api.get("/me/payment-code", sale["shopper"]["api_key"]).get_json()["qr"] is None
    wrong = api.get("/me/payment-code?qr=svg", sale["shopper"]["api_key"])
    assert error_code(wrong) == "validation_error"
