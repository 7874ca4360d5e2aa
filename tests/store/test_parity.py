"""Parity: every scenario leaves the same rows whichever composition of the hot path ran.

Each scenario runs on SQLite (its composition), on PostgreSQL with the one-statement
composition, and on PostgreSQL again with SQLite's composition (blocks one by one), with ids
drawn from a counter so the runs can be compared row by row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from o2o import events, store, tokens
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent, Event, Order, Payment, Refund
from tests.builders import ADMIN_KEY, Api
from tests.conftest import build_app

FROZEN_AT = "2026-03-01T10:00:00+00:00"
Scenario = Callable[[Api], None]


def claim(api: Api) -> None:
    api.coupon(api.shopper())


def reserve(api: Api) -> None:
    api.reserved_sale()


def cancel(api: Api) -> None:
    sale = api.reserved_sale()
    canceled = api.post(f"/orders/{sale['order']['id']}/cancel", sale["clerk"]["api_key"])
    assert canceled.status_code == 200


def lapse(api: Api) -> None:
    api.reserved_sale()
    api.clock(advance_seconds=3600)


def pay_clerk_scan(api: Api) -> None:
    api.checkout()


def pay_shopper_scan(api: Api) -> None:
    sale = api.reserved_sale()
    body = {"method": "alipay", "flow": "shopper_scan"}
    path = f"/orders/{sale['order']['id']}/payments"
    payment = api.post(path, sale["clerk"]["api_key"], json=body).get_json()
    confirmed = api.post(f"/payments/{payment['id']}/confirm", sale["shopper"]["api_key"])
    assert confirmed.get_json()["status"] == "succeeded"


def pay_online(api: Api) -> None:
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    order = api.online_order(shopper, code=code)
    assert api.pay(order, shopper).get_json()["status"] == "succeeded"


def pay_without_coupon(api: Api) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    assert api.pay(api.order(clerk), shopper, clerk).get_json()["status"] == "succeeded"


def partial_refund(api: Api) -> None:
    payment = api.checkout()["payment"]
    refund = api.post(f"/payments/{payment['id']}/refunds", ADMIN_KEY, json={"amount": 1000})
    assert refund.status_code == 201


def full_refund_restores(api: Api) -> None:
    sale = api.checkout()
    assert api.post(f"/payments/{sale['payment']['id']}/refunds", ADMIN_KEY).status_code == 201
    assert api.coupon_status(sale["code"]) == "available"


def expiry(api: Api) -> None:
    api.coupon(api.shopper(), valid_days_after_claim=1)
    api.clock(advance_seconds=2 * 86400)


def settle_on_clock_move(api: Api) -> None:
    sale = api.reserved_sale()
    paying = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying")
    assert paying.get_json()["status"] == "pending"
    api.clock(advance_seconds=60)


def decline(api: Api) -> None:
    sale = api.reserved_sale()
    declined = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="declined")
    assert declined.get_json()["status"] == "failed"


SCENARIOS: dict[str, Scenario] = {
    fn.__name__: fn
    for fn in (
        claim,
        reserve,
        cancel,
        lapse,
        pay_clerk_scan,
        pay_shopper_scan,
        pay_online,
        pay_without_coupon,
        partial_refund,
        full_refund_restores,
        expiry,
        settle_on_clock_move,
        decline,
    )
}
TABLES = (Campaign, Coupon, CouponEvent, Order, Payment, Refund, Event)


def _columns(row: Any) -> dict[str, Any]:
    """A row's columns; an event's `data` as the columns it restores to (PostgreSQL's JSON
    text and Python's differ in spacing and trailing zeros, never in what they hold)."""
    columns = {c.key: getattr(row, c.key) for c in row.__table__.columns}
    if isinstance(row, Event):
        columns["data"] = events.columns_of(events.restore(row))
    return columns


def rows_after(app: Flask, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the scenario from a frozen clock with counted ids; every row it left, by table."""
    counter = itertools.count(1)
    alphabet = tokens.CODE_ALPHABET
    monkeypatch.setattr(
        tokens, "_random_symbols", lambda n: str(next(counter)).rjust(n, alphabet[0])
    )
    api = Api(app.test_client())
    api.clock(now=FROZEN_AT)
    scenario(api)
    with app.app_context():
        return {
            model.__tablename__: [
                _columns(row)
                for row in db.session.scalars(select(model).order_by(*model.__table__.primary_key))
            ]
            for model in TABLES
        }


@pytest.fixture
def fresh_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Flask]]:
    """`fresh_app("sqlite" | "postgresql")`: an app on that database with empty tables."""
    apps: list[Flask] = []

    def build(database: str) -> Flask:
        if database == "postgresql":
            request.getfixturevalue("postgres_schema")()
            url = str(request.getfixturevalue("postgres_url"))
        else:
            url = f"sqlite:///{tmp_path / f'parity-{len(apps)}.sqlite3'}"
        apps.append(build_app(url))
        with apps[-1].app_context():
            db.create_all()
        return apps[-1]

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_leaves_the_same_rows_on_every_composition(
    name: str, fresh_app: Callable[[str], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = SCENARIOS[name]
    on_sqlite = rows_after(fresh_app("sqlite"), scenario, monkeypatch)
    one_statement = rows_after(fresh_app("postgresql"), scenario, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(store, "_composition", lambda: store.sqlite)
        blocks_one_by_one = rows_after(fresh_app("postgresql"), scenario, monkeypatch)
    assert one_statement == on_sqlite
    assert blocks_one_by_one == on_sqlite
    assert any(on_sqlite.values()), "the scenario wrote nothing"
