"""An event keeps its object's row as of the change and shows it as the API shows the object."""

from __future__ import annotations

from typing import Any

from flask import Flask

from o2o import events
from o2o.extensions import db
from o2o.models import Campaign, Coupon, Event, Order
from o2o.vocabulary import EventType
from tests.builders import Api


def _recorded(app: Flask, type_: EventType, model: type[Any], key: str) -> Event:
    with app.app_context():
        event = events.record(type_, db.session.get_one(model, key))
        db.session.commit()
        return event


def _body(app: Flask, event: Event) -> dict[str, Any]:
    with app.app_context():
        return events.body(db.session.get_one(Event, event.id))


def test_an_event_shows_its_coupon_as_the_api_showed_it_at_the_change(app: Flask, api: Api) -> None:
    coupon = api.coupon()
    recorded = _recorded(app, EventType.COUPON_CLAIMED, Coupon, coupon["code"])
    api.clock(advance_seconds=40 * 24 * 3600)  # the coupon lapses afterwards

    body = _body(app, recorded)

    assert body["id"].startswith("evt_")
    assert body["type"] == "coupon.claimed"
    assert body["data"]["object"] == coupon  # still available, as when it was claimed
    assert api.coupon_status(coupon["code"]) == "expired"


def test_an_event_keeps_the_row_as_it_was_not_as_it_is_now(app: Flask, api: Api) -> None:
    campaign = api.campaign()
    recorded = _recorded(app, EventType.CAMPAIGN_CREATED, Campaign, campaign["id"])
    api.patch(f"/campaigns/{campaign['id']}", json={"name": "Renamed"})

    shown = _body(app, recorded)["data"]["object"]

    assert shown == campaign


def test_an_order_event_shows_the_order_with_its_amounts_in_fen(app: Flask, api: Api) -> None:
    sale = api.checkout()
    order = api.get(f"/orders/{sale['order']['id']}", api.admin_key).get_json()
    recorded = _recorded(app, EventType.ORDER_PAID, Order, order["id"])

    body = _body(app, recorded)

    assert body["data"]["object"] == order
    assert body["created_at"].endswith("Z")


def test_type_patterns_match_exact_types_families_and_everything() -> None:
    assert events.matches(["payment.succeeded"], "payment.succeeded")
    assert events.matches(["coupon.*"], "coupon.redeemed")
    assert events.matches(["*"], "refund.succeeded")
    assert not events.matches(["coupon.*", "order.paid"], "payment.failed")
    assert not events.matches(["coupon"], "coupon.redeemed")
