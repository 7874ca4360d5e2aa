"""Campaign stats equal the same numbers recomputed from raw rows, for a mixed population."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Flask

from o2o import clock
from o2o.extensions import db
from o2o.models import Coupon, Order, Payment
from tests.builders import ADMIN_KEY, Api


def build_mixed_population(api: Api) -> str:
    """In store and online, failures, partial and full refunds, cancels, lapses, two stores."""
    west, east = api.store(name="West"), api.store(name="East")
    clerks = [api.clerk(west["id"]), api.clerk(east["id"])]
    campaign = api.campaign(total_quantity=40, valid_days_after_claim=2, per_shopper_limit=3)
    shoppers = [api.shopper(name=f"s{i}") for i in range(12)]
    coupons = [api.claim(s, campaign["id"])["code"] for s in shoppers for _ in range(2)]
    for i, code in enumerate(coupons):
        shopper = shoppers[i // 2]
        clerk = clerks[i % 2]
        amount = 30000 + 1000 * i
        kind = i % 6
        if kind == 0:  # in store, paid, kept
            order = api.order(clerk, amount, api.qr_token(shopper, code))
            api.pay(order, shopper, clerk)
        elif kind == 1:  # in store, declined first, then paid, then partly refunded
            order = api.order(clerk, amount, api.qr_token(shopper, code))
            api.pay(order, shopper, clerk, outcome="declined")
            paid = api.pay(order, shopper, clerk).get_json()
            api.post(f"/payments/{paid['id']}/refunds", ADMIN_KEY, json={"amount": 1234})
        elif kind == 2:  # online, paid, then fully refunded (coupon comes back)
            order = api.online_order(shopper, amount, code)
            paid = api.pay(order, shopper).get_json()
            api.post(f"/payments/{paid['id']}/refunds", ADMIN_KEY)
        elif kind == 3:  # online, paid
            order = api.online_order(shopper, amount, code)
            api.pay(order, shopper, method="card")
        elif kind == 4:  # reserved, then canceled
            order = api.order(clerk, amount, api.qr_token(shopper, code))
            api.post(f"/orders/{order['id']}/cancel", clerk["api_key"])
        # kind 5: never used
    api.clock(advance_seconds=3 * 86400)  # unused coupons lapse
    return str(campaign["id"])


def recompute(campaign_id: str) -> dict[str, Any]:
    """The stats the slow way: every row into Python."""
    now = clock.now()
    coupons = db.session.query(Coupon).filter_by(campaign_id=campaign_id).all()
    counts: dict[str, int] = defaultdict(int)
    for coupon in coupons:
        counts[coupon.effective_status(now)] += 1
    codes = {c.code for c in coupons}
    orders = {o.id: o for o in db.session.query(Order).all() if o.coupon_code in codes}
    empty = {"redeemed": 0, "discount_total": 0, "gmv": 0}
    by_channel = {"in_store": dict(empty), "online": dict(empty)}
    by_store: dict[str, dict[str, int]] = defaultdict(lambda: dict(empty))
    for coupon in coupons:
        if coupon.status == "redeemed":
            assert coupon.order_id is not None, coupon.code  # a redeemed coupon names its order
            redeeming = orders[coupon.order_id]
            by_channel[redeeming.channel]["redeemed"] += 1
            if redeeming.store_id:  # online orders name a store only if the shopper chose one
                by_store[redeeming.store_id]["redeemed"] += 1
    for payment in db.session.query(Payment).filter_by(status="succeeded").all():
        order = orders.get(payment.order_id)
        if order is None or order.status not in ("paid", "partially_refunded"):
            continue
        places = [by_channel[order.channel]] + (
            [by_store[order.store_id]] if order.store_id else []
        )
        for totals in places:
            totals["discount_total"] += order.discount_amount
            totals["gmv"] += payment.amount - payment.refunded_amount
    return {
        "claimed": len(coupons),
        **{s: counts[s] for s in ("available", "reserved", "redeemed", "expired")},
        "redemption_rate": round(counts["redeemed"] / len(coupons), 4),
        "discount_total": sum(c["discount_total"] for c in by_channel.values()),
        "gmv": sum(c["gmv"] for c in by_channel.values()),
        "by_channel": by_channel,
        "by_store": [{"store_id": k, **by_store[k]} for k in sorted(by_store)],
    }


def test_stats_equal_a_recount_from_raw_rows(api: Api, app: Flask) -> None:
    campaign_id = build_mixed_population(api)
    stats = api.get(f"/campaigns/{campaign_id}/stats", ADMIN_KEY).get_json()
    with app.app_context():
        expected = recompute(campaign_id)
    assert {k: stats[k] for k in expected} == expected
    # and the population really was mixed
    assert stats["redeemed"] > 0
    assert stats["expired"] > 0
    assert stats["by_channel"]["online"]["gmv"] > 0
    assert len(stats["by_store"]) == 2


def test_a_campaign_nobody_claimed_has_zero_everything(api: Api) -> None:
    campaign = api.campaign(total_quantity=5)
    stats = api.get(f"/campaigns/{campaign['id']}/stats", ADMIN_KEY).get_json()
    assert stats["total_quantity"] == 5
    assert (stats["claimed"], stats["redemption_rate"], stats["gmv"], stats["by_store"]) == (
        0,
        0,
        0,
        [],
    )


def test_stats_are_for_admins_about_known_campaigns(api: Api) -> None:
    campaign = api.campaign()
    assert (
        api.get(f"/campaigns/{campaign['id']}/stats", api.shopper()["api_key"]).status_code == 403
    )
    assert api.get("/campaigns/cmp_nope/stats", ADMIN_KEY).status_code == 404
