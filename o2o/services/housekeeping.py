"""Catching the history up with time: lapsed reservations released, lapsed coupons expired.

Correctness never waits for this (a lapsed reservation is released by whoever asks next, and
reads show lapsed coupons as expired); it makes history and stats timely. It runs whenever the
sandbox clock moves, and from `o2o expire-coupons` (cron) on the real clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from o2o import clock, store
from o2o.extensions import db
from o2o.models import Coupon, Order
from o2o.services.orders import expire_if_lapsed
from o2o.store import CouponMove
from o2o.vocabulary import CouponEventType, CouponStatus, OrderStatus

BATCH = 1000


def _release_lapsed_orders(now: datetime) -> int:
    orders = db.session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.AWAITING_PAYMENT, Order.expires_at <= now)
        .order_by(Order.expires_at, Order.id)
        .limit(BATCH)
    ).all()
    return sum(expire_if_lapsed(order, now) for order in orders)


def _expire_lapsed_coupons(now: datetime) -> int:
    """Write the `expired` move (dated when each coupon lapsed) for unused coupons past
    validity. Reads never need it (they show lapsed coupons as expired already); it puts the
    event in the history."""
    lapsed = db.session.execute(
        select(Coupon.code, Coupon.valid_until)
        .where(Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_until <= now)
        .order_by(Coupon.valid_until, Coupon.code)
        .limit(BATCH)
    ).all()
    expired = CouponEventType.EXPIRED  # valid_until never changes: the status decides a race
    moves = (CouponMove(expired, valid_until, code=code) for code, valid_until in lapsed)
    return sum(store.move_coupon(move) is not None for move in moves)


def catch_up(now: datetime) -> int:
    """Write what time has done up to `now`, in the caller's transaction; returns how much."""
    done = 0
    while moved := _release_lapsed_orders(now) + _expire_lapsed_coupons(now):
        done += moved
    return done


def sweep() -> int:
    """Catch up to the service's now and commit (the cron entry point)."""
    done = catch_up(clock.now())
    store.commit()
    return done
