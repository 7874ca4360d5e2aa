"""Every change of a coupon's status: one conditional UPDATE and its history row, together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update

from o2o.extensions import db
from o2o.models import COUPON_MOVES, Campaign, Coupon, CouponEvent
from o2o.services.accounts import Principal


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
) -> bool:
    """Move the coupon along COUPON_MOVES[event] if it still stands where the move starts.

    Returns False (and writes nothing) when another transaction moved it first: the row
    count of the conditional UPDATE is the verdict, never a value read earlier.
    """
    starts, ends = COUPON_MOVES[event]
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Coupon)
        .where(Coupon.code == code, Coupon.status.in_(starts), *only_if)
        .values(status=ends, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.add(
        CouponEvent(
            coupon_code=code,
            type=event,
            at=at,
            actor_role=actor.role if actor else "system",
            actor_id=actor.actor_id if actor else None,
            store_id=store_id,
            order_id=order_id,
        )
    )
    return True


def count_redemption(coupon_code: str, delta: int) -> None:
    """Keep the campaign's redeemed_count in step with its coupons (atomic increment)."""
    campaign_id = select(Coupon.campaign_id).where(Coupon.code == coupon_code).scalar_subquery()
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(redeemed_count=Campaign.redeemed_count + delta)
        .execution_options(synchronize_session=False)
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
        moved += move_coupon(
            code, "expired", valid_until, None, only_if=(Coupon.valid_until <= now,)
        )
    return moved
