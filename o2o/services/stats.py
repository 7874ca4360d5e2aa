"""Campaign stats: the claim → redeem funnel and the money it made, from SQL aggregates."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, literal, select

from o2o import clock
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, Order, Payment
from o2o.vocabulary import Channel, CouponStatus, ErrorCode, OrderStatus, PaymentStatus

COUNTED_ORDERS = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
# The funnel's counts are of coupons by their status now, one field per status.
FUNNEL = (
    CouponStatus.AVAILABLE,
    CouponStatus.RESERVED,
    CouponStatus.REDEEMED,
    CouponStatus.EXPIRED,
)


def _status_counts(campaign_id: str) -> dict[str, int]:
    bucket = Coupon.effective_status_sql(clock.now())
    rows = db.session.execute(
        select(bucket, func.count()).where(Coupon.campaign_id == campaign_id).group_by(bucket)
    ).all()
    return {str(status): int(count) for status, count in rows}


def _redeemed_by_place(campaign_id: str) -> list[Any]:
    """Coupons redeemed now, by the channel and store of the order that spent them; a coupon
    used with no order (at a WeChat Pay merchant's own till) counts as in store."""
    redeemed = (Coupon.campaign_id == campaign_id, Coupon.status == CouponStatus.REDEEMED)
    by_order = (
        select(Order.channel, Order.store_id, func.count())
        .join(Coupon, Coupon.order_id == Order.id)
        .where(*redeemed)
        .group_by(Order.channel, Order.store_id)
    )
    at_a_till = (
        select(literal(Channel.IN_STORE.value), Coupon.store_id, func.count())
        .where(*redeemed, Coupon.order_id.is_(None))
        .group_by(Coupon.store_id)
    )
    return list(db.session.execute(by_order.union_all(at_a_till)).all())


def _money_by_place(campaign_id: str) -> list[Any]:
    """Discount given and net takings of counted orders, by channel and store."""
    return list(
        db.session.execute(
            select(
                Order.channel,
                Order.store_id,
                func.sum(Order.discount_amount),
                func.sum(Payment.amount - Payment.refunded_amount),
            )
            .join(Coupon, Coupon.code == Order.coupon_code)
            .join(
                Payment,
                and_(Payment.order_id == Order.id, Payment.status == PaymentStatus.SUCCEEDED),
            )
            .where(Coupon.campaign_id == campaign_id, Order.status.in_(COUNTED_ORDERS))
            .group_by(Order.channel, Order.store_id)
        ).all()
    )


def _by_place(campaign_id: str) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Redemptions, discount and GMV by channel and by store."""
    empty = {CouponStatus.REDEEMED: 0, "discount_total": 0, "gmv": 0}
    by_channel: dict[str, dict[str, int]] = {channel: dict(empty) for channel in Channel}
    by_store: dict[str, dict[str, int]] = defaultdict(lambda: dict(empty))
    for channel, store_id, redeemed in _redeemed_by_place(campaign_id):
        by_channel[channel][CouponStatus.REDEEMED] += redeemed
        if store_id:
            by_store[store_id][CouponStatus.REDEEMED] += redeemed
    for channel, store_id, discount, gmv in _money_by_place(campaign_id):
        for totals in (by_channel[channel], *([by_store[store_id]] if store_id else [])):
            totals["discount_total"] += int(discount or 0)
            totals["gmv"] += int(gmv or 0)
    return by_channel, by_store


def campaign_stats(campaign_id: str) -> dict[str, Any]:
    """The campaign's funnel now, with discount and GMV (net of refunds) by channel and store."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No campaign has this id.")
    counts = _status_counts(campaign_id)
    by_channel, by_store = _by_place(campaign_id)
    claimed = sum(counts.values())
    redeemed = counts.get(CouponStatus.REDEEMED, 0)
    return {
        "campaign_id": campaign.id,
        "total_quantity": campaign.total_quantity,
        "claimed": claimed,
        **{str(status): counts.get(status, 0) for status in FUNNEL},
        "redemption_rate": round(redeemed / claimed, 4) if claimed else 0,
        "discount_total": sum(c["discount_total"] for c in by_channel.values()),
        "gmv": sum(c["gmv"] for c in by_channel.values()),
        "by_channel": by_channel,
        "by_store": [{"store_id": sid, **by_store[sid]} for sid in sorted(by_store)],
    }
