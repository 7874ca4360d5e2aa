"""The events the hot statements write keep the changed row exactly as Python would snapshot it.

On PostgreSQL the JSON is built in SQL (json_build_object over the columns a block RETURNS); on
SQLite in Python from the returned row. Either way `o2o.events.restore` gives back the row's
columns as the database holds them, and the event's object is the API's view of the row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from o2o import events
from o2o.extensions import db
from o2o.models import Coupon, Event, Order, Payment
from o2o.store import postgres
from o2o.store.blocks import ORDERS
from o2o.vocabulary import CouponEventType, EventType, Role
from tests.builders import ADMIN_KEY, Api

SQL_FILES = Path(postgres.__file__).parent / "sql"

UNCHANGED_AFTER = {"coupon.redeemed": Coupon, "order.paid": Order, "payment.succeeded": Payment}


def test_the_tills_events_restore_to_the_rows_as_stored(app: Flask, api: Api) -> None:
    api.checkout()

    with app.app_context():
        written = db.session.scalars(select(Event).where(Event.type.in_(UNCHANGED_AFTER))).all()
        assert sorted(e.type for e in written) == sorted(UNCHANGED_AFTER)
        for event in written:
            row = db.session.get_one(UNCHANGED_AFTER[event.type], event.object_id)
            kept = events.columns_of(events.restore(event))
            assert kept == events.columns_of(row), event.type
            python_side = json.loads(events.snapshot(events.columns_of(row)))
            assert set(json.loads(event.data)) == set(python_side)  # the same keys


def test_the_hot_statements_keep_writing_their_events_once_prepared(api: Api) -> None:
    """psycopg prepares a statement on its fifth run on a connection; the larger statements
    with their event CTEs run prepared as before."""
    sales = [api.checkout() for _ in range(8)]

    paid = api.all_events(type="order.paid")

    assert sorted(e["data"]["object"]["id"] for e in paid) == sorted(
        s["order"]["id"] for s in sales
    )
    for sale in sales:
        order = api.get(f"/orders/{sale['order']['id']}", ADMIN_KEY).get_json()
        assert order["status"] == "paid"


def test_a_hot_statements_kept_cache_key_is_the_one_sqlalchemy_would_compute() -> None:
    """postgres.built_once keeps each statement's cache key: it must be the key itself."""
    for statement in (
        postgres.till_statement(),
        postgres.move_statement(CouponEventType.RESERVED, ORDERS, EventType.ORDER_CREATED),
        postgres.pay_statement(Role.SHOPPER),
    ):
        kept = statement._generate_cache_key()
        assert kept is statement._generate_cache_key()
        assert kept == type(statement)._generate_cache_key(statement)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_psycopg_keeps_the_conversion_of_every_hot_statement(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psycopg import _queries

    uncached: list[bytes] = []
    convert = _queries._query2pg_nocache

    def counted(query: bytes, *args: Any) -> Any:
        uncached.append(query)
        return convert(query, *args)

    api.checkout()  # every statement of a purchase has run once
    monkeypatch.setattr(_queries, "_query2pg_nocache", counted)
    api.checkout()

    assert uncached == []  # none parsed again: the till's long statement is cached too
    longest = max(len(path.read_bytes()) for path in SQL_FILES.glob("*.sql"))
    assert longest <= _queries.MAX_CACHED_STATEMENT_LENGTH
