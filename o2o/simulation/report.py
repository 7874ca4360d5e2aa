"""The simulation's report (same seed → same bytes) and the invariants it checks on the service."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from o2o.simulation.engine import World
from o2o.vocabulary import CouponEventType, OrderStatus, PaymentStatus

COUNTED = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


CAMPAIGN_FIGURES = (
    "total_quantity",
    "claimed",
    "redeemed",
    "expired",
    "available",
    "reserved",
    "redemption_rate",
    "discount_total",
    "gmv",
    "by_channel",
)


def _campaigns(world: World) -> tuple[dict[str, Any], dict[str, Counter[str]]]:
    """Each campaign's figures, and what its coupons did at each store."""
    store_keys = {v: k for k, v in world.stores.items()}
    campaigns: dict[str, Any] = {}
    stores: dict[str, Counter[str]] = {key: Counter() for key in world.stores}
    for key, campaign_id in sorted(world.campaigns.items()):
        stats = world.service.stats(campaign_id)
        campaigns[key] = {figure: stats[figure] for figure in CAMPAIGN_FIGURES}
        for row in stats["by_store"]:
            stores[store_keys[row["store_id"]]].update(
                {f"coupon_{k}": row[k] for k in ("redeemed", "discount_total", "gmv")}
            )
    return campaigns, stores


def build_report(
    world: World, scenario: dict[str, Any], *, shoppers: int, days: int, seed: int
) -> dict[str, Any]:
    """Per campaign, per store, per channel; payment outcomes; refunds; checks to fill in."""
    campaigns, stores = _campaigns(world)
    payments, sales = _payments(world)
    for store_key, paid in sales.items():
        stores[store_key].update(paid)
    channels: dict[str, Counter[str]] = defaultdict(Counter)
    for campaign in campaigns.values():
        for channel, numbers in campaign["by_channel"].items():
            channels[channel].update(numbers)
    return {
        "scenario": scenario["name"],
        "seed": seed,
        "shoppers": shoppers,
        "days": days,
        "start": scenario["start"].isoformat(),
        "campaigns": campaigns,
        "stores": {k: dict(sorted(v.items())) for k, v in sorted(stores.items())},
        "coupon_channels": {k: dict(v) for k, v in sorted(channels.items())},
        "orders": dict(sorted(Counter(s.channel for s in world.sales).items())),
        "payments": payments,
        "refunds": {
            "count": world.counts["refunds_full"] + world.counts["refunds_partial"],
            "full": world.counts["refunds_full"],
            "amount": sum(s.refunded for s in world.sales),
        },
        "activity": dict(sorted(world.counts.items())),
    }


def _payments(world: World) -> tuple[dict[str, Any], dict[str, Counter[str]]]:
    """Final payment outcomes, and each store's paid orders and takings net of refunds."""
    statuses: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    flows: Counter[str] = Counter()
    sales: dict[str, Counter[str]] = defaultdict(Counter)
    for sale in world.sales:
        for payment_id in sale.payments:
            payment = world.service.get(f"/payments/{payment_id}")
            statuses[payment["status"]] += 1
            if payment["failure_code"]:
                failures[payment["failure_code"]] += 1
            if payment["status"] == PaymentStatus.SUCCEEDED:
                methods[payment["method"]] += 1
                flows[payment["flow"]] += 1
                if sale.store_key:
                    sales[sale.store_key]["paid_orders"] += 1
                    sales[sale.store_key]["takings"] += (
                        payment["amount"] - payment["refunded_amount"]
                    )
    return {
        "by_status": dict(sorted(statuses.items())),
        "failures": dict(sorted(failures.items())),
        "succeeded_by_method": dict(sorted(methods.items())),
        "succeeded_by_flow": dict(sorted(flows.items())),
    }, sales


def check_invariants(world: World) -> list[str]:
    """What must hold whatever happened; returns the broken ones (empty: all hold)."""
    service, broken = world.service, []
    redeemed_orders: Counter[str] = Counter()
    expected: dict[str, Counter[str]] = defaultdict(Counter)
    for sale in world.sales:
        order = service.get(f"/orders/{sale.order_id}")
        settled = [service.get(f"/payments/{p}") for p in sale.payments]
        succeeded = [p for p in settled if p["status"] == PaymentStatus.SUCCEEDED]
        if len(succeeded) > 1:
            broken.append(f"order {sale.order_id} was paid {len(succeeded)} times")
        refunded = sum(p["refunded_amount"] for p in succeeded)
        if refunded != sale.refunded:
            broken.append(
                f"order {sale.order_id}: refunds made {sale.refunded}, payment shows {refunded}"
            )
        if sale.coupon and order["status"] in COUNTED:
            redeemed_orders[sale.coupon] += 1
            totals = expected[world.coupons[sale.coupon]]
            totals["discount_total"] += order["discount_amount"]
            totals["gmv"] += sum(p["amount"] - p["refunded_amount"] for p in succeeded)
    for code, orders in redeemed_orders.items():
        if orders > 1:
            broken.append(f"coupon {code} was redeemed by {orders} orders")
    for code in sorted(world.coupons):
        events = [e["type"] for e in service.get(f"/coupons/{code}/events")["items"]]
        if events.count(CouponEventType.REDEEMED) - events.count(CouponEventType.RESTORED) > 1:
            broken.append(f"coupon {code} was redeemed twice: {events}")
    for key, campaign_id in sorted(world.campaigns.items()):
        campaign = service.get(f"/campaigns/{campaign_id}")
        stats = service.stats(campaign_id)
        if not stats["claimed"] == campaign["claimed_count"] <= campaign["total_quantity"]:
            broken.append(
                f"campaign {key} is over budget or miscounted: {stats['claimed']} claimed"
            )
        for figure in ("discount_total", "gmv"):
            if stats[figure] != expected[key][figure]:
                paid = expected[key][figure]
                broken.append(f"campaign {key}: stats {figure} {stats[figure]} ≠ payments {paid}")
    return broken


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(report: dict[str, Any], console: Console) -> None:
    """Readable tables: campaigns, stores, payments (webhooks: `render_webhooks`)."""
    table = Table(
        title=f"{report['scenario']} — {report['shoppers']} shoppers, {report['days']} days"
    )
    for column in ("campaign", "claimed", "redeemed", "expired", "rate", "discount", "GMV"):
        table.add_column(column, justify="right" if column != "campaign" else "left")
    for key, c in report["campaigns"].items():
        table.add_row(
            key,
            str(c["claimed"]),
            str(c["redeemed"]),
            str(c["expired"]),
            f"{c['redemption_rate']:.1%}",
            _yuan(c["discount_total"]),
            _yuan(c["gmv"]),
        )
    console.print(table)
    stores = Table(title="Stores")
    for column in ("store", "paid orders", "takings", "coupons", "coupon GMV"):
        stores.add_column(column, justify="right" if column != "store" else "left")
    for key, s in report["stores"].items():
        stores.add_row(
            key,
            str(s.get("paid_orders", 0)),
            _yuan(s.get("takings", 0)),
            str(s.get("coupon_redeemed", 0)),
            _yuan(s.get("coupon_gmv", 0)),
        )
    console.print(stores)
    channels = ", ".join(
        f"{k}: {v['redeemed']} redeemed, {_yuan(v['gmv'])}"
        for k, v in report["coupon_channels"].items()
    )
    console.print(f"Coupon channels — {channels}")
    payments = report["payments"]
    console.print(f"Payments — {payments['by_status']}; failures {payments['failures']}")
    refunds = report["refunds"]
    console.print(
        f"Refunds — {refunds['count']} ({refunds['full']} full), {_yuan(refunds['amount'])}"
    )


def render_webhooks(figures: dict[str, Any], console: Console) -> None:
    """`--webhooks`: deliveries per event type, then the totals."""
    table = Table(title="Webhooks delivered, per event type")
    table.add_column("event type")
    table.add_column("events", justify="right")
    for type_, count in figures["delivered_by_type"].items():
        table.add_row(type_, str(count))
    console.print(table)
    console.print(
        f"Webhooks — {figures['events_delivered']} of {figures['events_written']} events "
        f"delivered in {figures['deliveries']} deliveries ({figures['redeliveries']} "
        f"redelivered); {figures['signatures_invalid']} signature(s) invalid"
    )
