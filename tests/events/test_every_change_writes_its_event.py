"""Every state change writes exactly one event, and its object is the resource as of the change.

A mixed run (claims to exhaustion, campaign edits, in-store and online purchases with coupons,
user_paying settled by the clock, a timeout, a decline, a shopper_scan, cancels, lapses, coupon
expiry, partial and full refunds) on SQLite and PostgreSQL; then the events are compared one to
one with the coupon history, the refunds and the transitions the run made.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from flask import Flask
from sqlalchemy import select

from o2o.extensions import db
from o2o.models import Campaign, CouponEvent, Refund
from tests.builders import ADMIN_KEY, MOCK_PAYING_SECONDS, ORDER_TTL, Api


class Run:
    """The mixed run, noting the transitions it expects of orders, payments and campaigns, and
    each resource as the API answered it when it was made."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.expected: Counter[tuple[str, str]] = Counter()
        self.answered: dict[tuple[str, str], dict[str, Any]] = {}

    def expect(self, object_id: str, *types: str) -> None:
        self.expected.update((object_id, type_) for type_ in types)

    def made(self, type_: str, resource: dict[str, Any]) -> dict[str, Any]:
        """A resource the API just returned, as the event of `type_` must show it."""
        key = "code" if type_.startswith("coupon.") else "id"
        self.answered[(resource[key], type_)] = resource
        return resource

    def paid(self, response: Any, *types: str) -> dict[str, Any]:
        assert response.status_code == 201, response.get_json()
        payment: dict[str, Any] = response.get_json()
        self.made(f"payment.{payment['status']}", payment)
        self.expect(payment["id"], *types)
        return payment

    def order(self, clerk: dict[str, Any], shopper: dict[str, Any], code: str) -> dict[str, Any]:
        order = self.api.order(clerk, token=self.api.qr_token(shopper, code))
        return self.made("order.created", order)

    def sale(self) -> dict[str, Any]:
        clerk, shopper = self.api.clerk(), self.api.shopper()
        code = self.made("coupon.claimed", self.api.coupon(shopper))["code"]
        return {"clerk": clerk, "shopper": shopper, "code": code}


def mixed_run(api: Api) -> Run:
    run = Run(api)
    scarce = run.made("campaign.created", api.campaign(total_quantity=2, per_shopper_limit=1))
    for _ in range(2):
        run.made("coupon.claimed", api.claim(api.shopper(), scarce["id"]))
    run.expect(scarce["id"], "campaign.exhausted")
    api.patch(f"/campaigns/{scarce['id']}", ADMIN_KEY, json={"name": "Renamed"})
    api.patch(f"/campaigns/{scarce['id']}", ADMIN_KEY, json={"name": "Renamed"})  # no change
    api.patch(f"/campaigns/{scarce['id']}", ADMIN_KEY, json={"total_quantity": 3})
    run.expect(scarce["id"], "campaign.updated", "campaign.updated")

    # in store: paid at once, then refunded in two parts
    s = run.sale()
    order = run.order(s["clerk"], s["shopper"], s["code"])
    payment = run.paid(api.pay(order, s["shopper"], s["clerk"]), "payment.succeeded")
    for amount in (1000, None):
        part = {"amount": amount} if amount else {}
        refunded = api.post(f"/payments/{payment['id']}/refunds", ADMIN_KEY, json=part)
        assert refunded.status_code == 201, refunded.get_json()
        run.made("refund.succeeded", refunded.get_json())
    api.post(f"/payments/{payment['id']}/refunds", ADMIN_KEY, json={"amount": 1})  # none left
    run.expect(order["id"], "order.created", "order.paid")
    run.expect(order["id"], "order.partially_refunded", "order.refunded")

    # online: declined first, then paid
    shopper = api.shopper()
    code = run.made("coupon.claimed", api.coupon(shopper))["code"]
    online = run.made("order.created", api.online_order(shopper, code=code))
    run.paid(api.pay(online, shopper, outcome="declined"), "payment.failed")
    run.paid(api.pay(online, shopper), "payment.succeeded")
    run.expect(online["id"], "order.created", "order.paid")

    # user_paying, settled by the clock's move; and a timeout, which fails
    s = run.sale()
    waiting = run.order(s["clerk"], s["shopper"], s["code"])
    slow = api.pay(waiting, s["shopper"], s["clerk"], outcome="user_paying")
    run.paid(slow, "payment.pending", "payment.succeeded")
    run.expect(waiting["id"], "order.created", "order.paid")
    clerk = api.clerk()
    timed_out = run.made("order.created", api.order(clerk))
    timeout = api.pay(timed_out, api.shopper(), clerk, outcome="timeout")
    timeout_id = run.paid(timeout, "payment.pending")["id"]
    api.clock(advance_seconds=MOCK_PAYING_SECONDS + 1)
    run.expect(timeout_id, "payment.failed")

    # shopper_scan: pending until the shopper confirms
    s = run.sale()
    scanned = run.order(s["clerk"], s["shopper"], s["code"])
    body = {"method": "alipay", "flow": "shopper_scan"}
    pending = api.post(f"/orders/{scanned['id']}/payments", s["clerk"]["api_key"], json=body)
    confirmed = api.post(f"/payments/{pending.get_json()['id']}/confirm", s["shopper"]["api_key"])
    assert confirmed.get_json()["status"] == "succeeded"
    run.paid(pending, "payment.pending", "payment.succeeded")
    run.expect(scanned["id"], "order.created", "order.paid")

    # canceled, and lapsed (with the timed-out order) when the clock passes their lifetime
    s = run.sale()
    canceled = run.order(s["clerk"], s["shopper"], s["code"])
    assert api.post(f"/orders/{canceled['id']}/cancel", s["clerk"]["api_key"]).status_code == 200
    run.expect(canceled["id"], "order.created", "order.canceled")
    s = run.sale()
    lapsed = run.order(s["clerk"], s["shopper"], s["code"])
    api.clock(advance_seconds=ORDER_TTL + 1)
    run.expect(lapsed["id"], "order.created", "order.expired")
    run.expect(timed_out["id"], "order.created", "order.expired")

    # a coupon that lapses unused, caught up by the clock's move
    run.made("coupon.claimed", api.coupon(api.shopper(), valid_days_after_claim=1))
    api.clock(advance_seconds=2 * 86400)
    return run


def _by_object(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        found[_object_id(event)].append(event)
    return found


def _object_id(event: dict[str, Any]) -> str:
    shown = event["data"]["object"]
    return str(shown["code"] if event["type"].startswith("coupon.") else shown["id"])


def test_a_mixed_run_writes_exactly_one_event_per_state_change(app: Flask, api: Api) -> None:
    run = mixed_run(api)
    events = api.all_events()
    with app.app_context():
        history = db.session.scalars(select(CouponEvent)).all()
        refunds = db.session.scalars(select(Refund.id)).all()
        campaigns = db.session.scalars(select(Campaign.id)).all()

    coupon_events = [e for e in events if e["type"].startswith("coupon.")]
    assert Counter((_object_id(e), e["type"], e["created_at"]) for e in coupon_events) == Counter(
        (row.coupon_code, f"coupon.{row.type}", _rfc3339(row.at)) for row in history
    )
    expected = run.expected.copy()
    expected.update((refund_id, "refund.succeeded") for refund_id in refunds)
    expected.update((campaign_id, "campaign.created") for campaign_id in campaigns)
    expected.update((row.coupon_code, f"coupon.{row.type}") for row in history)
    assert Counter((_object_id(e), e["type"]) for e in events) == expected
    assert {"coupon.expired", "coupon.restored", "coupon.released"} <= {e["type"] for e in events}


def test_each_event_shows_its_object_as_the_api_answered_at_the_change(
    app: Flask, api: Api
) -> None:
    run = mixed_run(api)
    events = {(_object_id(e), e["type"]): e for e in api.all_events()}

    for key, answered in run.answered.items():
        assert events[key]["data"]["object"] == answered, key


def test_the_event_of_each_orders_last_change_shows_the_order_as_it_is(
    app: Flask, api: Api
) -> None:
    mixed_run(api)
    orders = _by_object(api.all_events(type="order.created,order.paid,order.canceled"))
    orders.update(_by_object(api.all_events(type=["order.expired", "order.refunded"])))

    for order_id, changes in orders.items():
        shown = api.get(f"/orders/{order_id}", ADMIN_KEY).get_json()
        last = next(e for e in changes if e["type"] == f"order.{shown['status']}")
        assert last["data"]["object"] == shown


def test_an_exhausted_campaign_event_shows_the_last_coupon_taken(app: Flask, api: Api) -> None:
    campaign = api.campaign(total_quantity=1)
    api.claim(api.shopper(), campaign["id"])

    (exhausted,) = api.all_events(type="campaign.exhausted")

    shown = exhausted["data"]["object"]
    assert (shown["id"], shown["claimed_count"], shown["total_quantity"]) == (campaign["id"], 1, 1)


def _rfc3339(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))
