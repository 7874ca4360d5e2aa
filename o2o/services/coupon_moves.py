"""Every change of a coupon's status: one conditional UPDATE and its history row, together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from o2o.extensions import db
from o2o.models import COUPON_MOVES, Campaign, Coupon, CouponEvent, table
from o2o.services.accounts import Principal

COUPONS, EVENTS, CAMPAIGNS = table(Coupon), table(CouponEvent), table(Campaign)


def move_coupon(
    code: str,
    event: str,
    at: datetime,
    actor: Principal | None,
    *,
    order_id: str | None = None,
    store_id: str | None = None,
    only_if: tuple[Any, ...] = (),
    values: dict[str, Any] | None = None,
) -> str | None:
    """Move the coupon along COUPON_MOVES[event] if it still stands where the move starts.

    Returns the coupon's campaign id, or None (having written nothing) when another
    transaction moved it first: the conditional UPDATE decides, never a value read earlier.
    Core statements on the tables: this is the hot path, and no ORM bookkeeping is needed.
    """
    starts, ends = COUPON_MOVES[event]
    campaign_id = db.session.execute(
        update(COUPONS)
        .where(COUPONS.c.code == code, COUPONS.c.status.in_(starts), *only_if)
        .values(status=ends, **(values or {}))
        .returning(COUPONS.c.campaign_id)
    ).scalar_one_or_none()
    if campaign_id is None:
        return None
    db.session.execute(
        insert(EVENTS).values(
            coupon_code=code,
            type=event,
            at=at,
            actor_role=actor.role if actor else "system",
            actor_id=actor.actor_id if actor else None,
            store_id=store_id,
            order_id=order_id,
        )
    )
    return str(campaign_id)


def count_redemption(campaign_id: str, delta: int) -> None:
    """Keep the campaign's redeemed_count in step with its coupons (atomic increment)."""
    db.session.execute(
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == campaign_id)
        .values(redeemed_count=CAMPAIGNS.c.redeemed_count + delta)
    )


def expire_lapsed(now: datetime, batch: int = 1000) -> int:
    """Write the `expired` move (dated when each coupon lapsed) for unused coupons past validity.

    Reads never need this (they show lapsed coupons as expired already); it puts the event in
    the history. Runs when the sandbox clock moves and from `o2o expire-coupons` (cron).
    """
    lapsed = db.session.execute(
        select(Coupon.code, Coupon.valid_until)
        .where(Coupon.status == "available", Coupon.valid_until <= now)
        .order_by(Coupon.valid_until, Coupon.code)
        .limit(batch)
    ).all()
    moved = 0
    for code, valid_until in lapsed:
        when = (Coupon.valid_until <= now,)
        moved += move_coupon(code, "expired", valid_until, None, only_if=when) is not None
    return moved
