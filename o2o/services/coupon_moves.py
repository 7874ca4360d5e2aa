"""Every change of a coupon's status: one conditional UPDATE and its history row, together."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, insert, select, update

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
    held_by: str | None = None,
    values: dict[str, Any] | None = None,
) -> str | None:
    """Move the coupon along COUPON_MOVES[event] if it still stands where the move starts
    (and, with `held_by`, is still held by that order).

    Returns the coupon's campaign id, or None (having written nothing) when another
    transaction moved it first: the conditional UPDATE decides, never a value read earlier.
    Core statements built once per shape: this is the hot path, and no ORM bookkeeping is needed.
    """
    values = values or {}
    statement = _move_statement(event, tuple(values), held_by is not None)
    params = {f"set_{name}": value for name, value in values.items()}
    params["match_code"] = code
    if held_by is not None:
        params["match_order_id"] = held_by
    campaign_id = db.session.execute(statement, params).scalar_one_or_none()
    if campaign_id is None:
        return None
    db.session.execute(
        INSERT_EVENT,
        {
            "coupon_code": code,
            "type": event,
            "at": at,
            "actor_role": actor.role if actor else "system",
            "actor_id": actor.actor_id if actor else None,
            "store_id": store_id,
            "order_id": order_id,
        },
    )
    return str(campaign_id)


@functools.cache
def _move_statement(event: str, columns: tuple[str, ...], held: bool) -> Update:
    """The conditional UPDATE of one move, with bound parameters (SQLAlchemy caches its SQL)."""
    starts, ends = COUPON_MOVES[event]
    where = [COUPONS.c.code == bindparam("match_code"), COUPONS.c.status.in_(starts)]
    if held:
        where.append(COUPONS.c.order_id == bindparam("match_order_id"))
    return (
        update(COUPONS)
        .where(*where)
        .values(status=ends, **{name: bindparam(f"set_{name}") for name in columns})
        .returning(COUPONS.c.campaign_id)
    )


INSERT_EVENT = insert(EVENTS)
COUNT_REDEMPTION = (
    update(CAMPAIGNS)
    .where(CAMPAIGNS.c.id == bindparam("campaign_id"))
    .values(redeemed_count=CAMPAIGNS.c.redeemed_count + bindparam("delta"))
)


def count_redemption(campaign_id: str, delta: int) -> None:
    """Keep the campaign's redeemed_count in step with its coupons (atomic increment)."""
    db.session.execute(COUNT_REDEMPTION, {"campaign_id": campaign_id, "delta": delta})


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
    for code, valid_until in lapsed:  # valid_until never changes: status decides the race
        moved += move_coupon(code, "expired", valid_until, None) is not None
    return moved
