"""Coupon moves write their history, counters and rows the same way on SQLite and PostgreSQL.

PostgreSQL runs each move as one statement (data-modifying CTEs), SQLite as its blocks one by
one: these tests pin both compositions to the same outcome.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from o2o import clock, store
from o2o.extensions import db
from o2o.models import CouponEvent, Store, table
from o2o.store import CouponMove
from o2o.vocabulary import CouponEventType
from tests.builders import ADMIN_KEY, Api


def history(api: Api, code: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"/coupons/{code}/events", ADMIN_KEY).get_json()["items"]
    return items


def store_row(store_id: str) -> dict[str, Any]:
    """A row to insert along with a move (any table will do: a store needs no other row)."""
    return {
        "id": store_id,
        "name": "Moved along",
        "city": "Hangzhou",
        "address": None,
        "created_at": clock.now(),
    }


def redeemed_count(api: Api, campaign_id: str) -> int:
    return int(api.get(f"/campaigns/{campaign_id}", ADMIN_KEY).get_json()["redeemed_count"])


def test_every_move_writes_its_history_row_and_keeps_the_counter(api: Api) -> None:
    sale = api.reserved_sale()
    clerk, shopper, code = sale["clerk"], sale["shopper"], sale["code"]
    campaign_id = api.coupon_campaign(code)
    assert api.post(f"/orders/{sale['order']['id']}/cancel", clerk["api_key"]).status_code == 200

    order = api.order(clerk, token=api.qr_token(shopper, code))
    payment = api.pay(order, shopper, clerk).get_json()
    assert redeemed_count(api, campaign_id) == 1
    refund = api.post(f"/payments/{payment['id']}/refunds", ADMIN_KEY, json={})
    assert refund.status_code == 201

    rows = history(api, code)
    assert [row["type"] for row in rows] == [
        "claimed",
        "reserved",
        "released",
        "reserved",
        "redeemed",
        "restored",
    ]
    redeemed = rows[4]
    assert (redeemed["order_id"], redeemed["store_id"]) == (order["id"], clerk["store_id"])
    assert (redeemed["actor_role"], redeemed["actor_id"]) == ("clerk", clerk["id"])
    assert (rows[3]["actor_role"], rows[3]["actor_id"]) == ("clerk", clerk["id"])
    assert (rows[5]["actor_role"], rows[5]["order_id"]) == ("admin", order["id"])
    assert redeemed_count(api, campaign_id) == 0
    assert api.coupon_status(code) == "available"


def test_a_move_that_lost_its_race_writes_nothing(app: Flask) -> None:
    api = Api(app.test_client())
    sale = api.reserved_sale()
    code = sale["code"]
    campaign_id = api.coupon_campaign(code)

    with app.app_context():
        now = clock.now()
        row = (table(Store), store_row("st_lost"))
        redeemed, reserved = CouponEventType.REDEEMED, CouponEventType.RESERVED
        held_by_another = store.move_coupon(CouponMove(redeemed, now, "ord_someone_else"), row)
        not_available = store.move_coupon(CouponMove(reserved, now, "ord_x", code=code), row)
        db.session.commit()
        events = db.session.scalar(
            select(func.count()).select_from(CouponEvent).where(CouponEvent.coupon_code == code)
        )
        rows = db.session.scalar(select(func.count()).where(Store.id == "st_lost"))

    assert (held_by_another, not_available) == (None, None)
    assert (events, rows) == (2, 0)  # claimed, reserved; the row went with the lost move
    assert api.coupon_status(code) == "reserved"
    assert redeemed_count(api, campaign_id) == 0


def test_a_won_move_returns_the_campaign_counts_and_inserts_its_row(app: Flask) -> None:
    api = Api(app.test_client())
    sale = api.reserved_sale()
    code, order_id = sale["code"], sale["order"]["id"]
    campaign_id = api.coupon_campaign(code)

    with app.app_context():
        move = CouponMove(CouponEventType.REDEEMED, clock.now(), order_id)
        moved = store.move_coupon(move, (table(Store), store_row("st_won")))
        db.session.commit()
        rows = db.session.scalars(select(Store.id).where(Store.id == "st_won")).all()

    assert moved == campaign_id
    assert rows == ["st_won"]
    assert api.events(code) == ["claimed", "reserved", "redeemed"]
    assert redeemed_count(api, campaign_id) == 1
