"""Exactly once under contention, on SQLite and PostgreSQL, threads on separate connections."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from o2o.extensions import db
from o2o.models import Order, Payment, PaymentCode
from tests.builders import ADMIN_KEY, Api


def race(app: Flask, attempts: int, request: Callable[[FlaskClient, int], Any]) -> list[Any]:
    """Run `request` `attempts` times from as many threads released at once."""
    start = threading.Barrier(attempts)

    def attempt(i: int) -> Any:
        client = app.test_client()
        start.wait()
        return request(client, i)

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def test_50_checkouts_racing_for_one_coupon_leave_it_with_exactly_one_order(
    app: Flask,
) -> None:
    api = Api(app.test_client())
    clerk, shopper = api.clerk(), api.shopper()
    code = api.coupon(shopper)["code"]
    token = api.qr_token(shopper, code)

    responses = race(
        app,
        50,
        lambda c, _: c.post(
            "/api/v1/orders",
            headers=auth(clerk["api_key"]),
            json={"amount": 39900, "qr_token": token},
        ),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({201: 1, 409: 49})
    with app.app_context():
        holders = db.session.scalars(select(Order.id).where(Order.coupon_code == code)).all()
    winner = next(r.get_json()["id"] for r in responses if r.status_code == 201)
    assert holders == [winner]
    assert api.events(code) == ["claimed", "reserved"]


def test_50_payments_racing_for_one_order_succeed_exactly_once(app: Flask) -> None:
    api = Api(app.test_client())
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    order = api.online_order(shopper, code=code)

    responses = race(
        app,
        50,
        lambda c, _: c.post(
            f"/api/v1/orders/{order['id']}/payments",
            headers=auth(shopper["api_key"]),
            json={"method": "wechat_pay", "flow": "online"},
        ),
    )

    succeeded = [
        r for r in responses if r.status_code == 201 and r.get_json()["status"] == "succeeded"
    ]
    assert len(succeeded) == 1
    assert {r.status_code for r in responses} <= {201, 409}
    with app.app_context():
        paid = db.session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == "succeeded")
        )
    assert paid == 1
    assert api.events(code) == ["claimed", "reserved", "redeemed"]
    campaign = api.get(f"/campaigns/{api.coupon_campaign(code)}", ADMIN_KEY).get_json()
    assert campaign["redeemed_count"] == 1


def test_20_clerks_scans_racing_for_one_order_take_exactly_one_payment_code(
    app: Flask,
) -> None:
    api = Api(app.test_client())
    sale = api.reserved_sale()
    payers = [api.shopper() for _ in range(20)]
    codes = [api.payment_code(payer) for payer in payers]

    responses = race(
        app,
        20,
        lambda c, i: c.post(
            f"/api/v1/orders/{sale['order']['id']}/payments",
            headers=auth(sale["clerk"]["api_key"]),
            json={"method": "wechat_pay", "flow": "clerk_scan", "auth_code": codes[i]},
        ),
    )

    assert Counter(r.status_code for r in responses) == Counter({201: 1, 409: 19})
    with app.app_context():
        used = db.session.scalar(
            select(func.count()).select_from(PaymentCode).where(PaymentCode.used_at.is_not(None))
        )
    assert used == 1  # the 19 refused scans left their shoppers' codes unspent
    assert api.events(sale["code"]) == ["claimed", "reserved", "redeemed"]
    assert (
        api.get(f"/campaigns/{api.coupon_campaign(sale['code'])}", ADMIN_KEY).get_json()[
            "redeemed_count"
        ]
        == 1
    )


def test_one_payment_code_racing_across_20_orders_pays_exactly_one(app: Flask) -> None:
    api = Api(app.test_client())
    clerk, payer = api.clerk(), api.shopper()
    orders = [api.order(clerk) for _ in range(20)]
    body = {"method": "card", "flow": "clerk_scan", "auth_code": api.payment_code(payer)}

    responses = race(
        app,
        20,
        lambda c, i: c.post(
            f"/api/v1/orders/{orders[i]['id']}/payments",
            headers=auth(clerk["api_key"]),
            json=body,
        ),
    )

    assert Counter(r.status_code for r in responses) == Counter({201: 1, 422: 19})
    with app.app_context():
        paid = db.session.scalars(select(Order.id).where(Order.status == "paid")).all()
        payments = db.session.scalar(select(func.count()).select_from(Payment))
    assert (len(paid), payments) == (1, 1)


def test_one_payment_replayed_from_20_threads_with_one_key_is_one_payment(
    app: Flask,
) -> None:
    api = Api(app.test_client())
    clerk, shopper = api.clerk(), api.shopper()
    order = api.order(clerk)
    body = {"method": "alipay", "flow": "clerk_scan", "auth_code": api.payment_code(shopper)}

    responses = race(
        app,
        20,
        lambda c, _: c.post(
            f"/api/v1/orders/{order['id']}/payments",
            headers=auth(clerk["api_key"], **{"Idempotency-Key": "receipt-1"}),
            json=body,
        ),
    )

    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.get_json()["id"] for r in created} == {created[0].get_json()["id"]}
    assert {r.status_code for r in responses} <= {201, 409}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_20_partial_refunds_racing_never_exceed_the_payment(app: Flask) -> None:
    api = Api(app.test_client())
    sale = api.checkout()  # pays 34900
    pay_id = sale["payment"]["id"]

    responses = race(
        app,
        20,
        lambda c, _: c.post(
            f"/api/v1/payments/{pay_id}/refunds", headers=auth(ADMIN_KEY), json={"amount": 5000}
        ),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({201: 6, 422: 14})  # 6 × 5000 ≤ 34900 < 7 × 5000
    payment = api.get(f"/payments/{pay_id}", ADMIN_KEY).get_json()
    assert payment["refunded_amount"] == 30000
    assert sum(r.get_json()["amount"] for r in responses if r.status_code == 201) == 30000
