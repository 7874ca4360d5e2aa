"""Housekeeping: the history caught up with time, and nothing kept past its use.

Catching up — due mock payments settled, lapsed reservations released, lapsed coupons
expired — is never needed for correctness (a lapsed reservation is released by whoever asks
next, a due payment settles when read, and reads show lapsed coupons as expired); it makes
history, stats and events timely (each change writes its event as it is caught up with).
It runs whenever the sandbox clock moves, on each worker tick (`sweep`), and from
`o2o housekeeping` (cron) on the service's clock. That command also deletes what has
outlived its use: payment codes used or expired (service clock), and idempotency
records past their retention (`O2O_IDEMPOTENCY_TTL`, on the real clock, like the replay window).
Each batch of at most BATCH rows is its own transaction, so no run holds locks for long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, delete, or_, select

from o2o import clock, store
from o2o.extensions import Base, db
from o2o.models import Coupon, IdempotencyRecord, Order, Payment, PaymentCode, sql_moment
from o2o.services.orders import expire_if_lapsed
from o2o.services.payments.outcomes import settle_if_due
from o2o.store import CouponMove
from o2o.vocabulary import CouponEventType, CouponStatus, OrderStatus, PaymentStatus

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


def _settle_due_payments(now: datetime) -> int:
    """Settle the pending mock payments whose delay has passed (each dated when it ended), and
    call off those whose order can no longer be paid (a shopper_scan payment the shopper never
    confirmed, its order lapsed or canceled), so that their events are written without anyone
    reading the payment."""
    order_closed = (
        select(Order.id)
        .where(
            Order.id == Payment.order_id,
            Order.effective_status_sql(now) != OrderStatus.AWAITING_PAYMENT,
        )
        .exists()
    )
    due = db.session.scalars(
        select(Payment)
        .where(
            Payment.status == PaymentStatus.PENDING,
            or_(Payment.settles_at <= sql_moment(now), order_closed),
        )
        .order_by(Payment.created_at, Payment.id)
        .limit(BATCH)
    ).all()
    return sum(settle_if_due(payment, now) for payment in due)


def _batch(now: datetime) -> int:
    # Payments first: one that settles pays its order before the order's lapse is looked at.
    return _settle_due_payments(now) + _release_lapsed_orders(now) + _expire_lapsed_coupons(now)


def catch_up(now: datetime) -> int:
    """Write what time has done up to `now`, in the caller's transaction; returns how much."""
    done = 0
    while moved := _batch(now):
        done += moved
    return done


def sweep() -> int:
    """Catch up to the service's now, a batch per transaction; returns how much was written."""
    now = clock.now()
    return _in_batches(lambda: _batch(now))


@dataclass(frozen=True)
class Report:
    """What one housekeeping run did."""

    moves: int  # reservations released and coupons expired, in the history
    payment_codes: int  # deleted: used, or past their expiry
    idempotency_records: int  # deleted: past their retention


def housekeeping() -> Report:
    """The cron job: catch up with time, then delete what has outlived its use."""
    moves = sweep()
    codes = or_(PaymentCode.used_at.is_not(None), PaymentCode.expires_at <= sql_moment(clock.now()))
    retention = timedelta(seconds=current_app.config["O2O_IDEMPOTENCY_TTL"])
    # The same rule as a key's renewal (o2o.store.keys): past it, the record replays nothing.
    stale = IdempotencyRecord.created_at < sql_moment(clock.real_now() - retention)
    return Report(
        moves=moves,
        payment_codes=_in_batches(lambda: _purge(PaymentCode, PaymentCode.code_hash, codes)),
        idempotency_records=_in_batches(
            lambda: _purge(IdempotencyRecord, IdempotencyRecord.id, stale)
        ),
    )


def _in_batches(batch: Callable[[], int]) -> int:
    """Run `batch` in a transaction of its own until it finds nothing; the total it did."""
    done = 0
    while count := batch():
        store.commit()
        done += count
    store.commit()
    return done


def _purge(model: type[Base], key: Any, condition: ColumnElement[bool]) -> int:
    """Delete up to BATCH rows of `model` that meet `condition`, chosen by primary key `key`."""
    chosen = select(key).where(condition).limit(BATCH).scalar_subquery()
    deleted: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        delete(model).where(key.in_(chosen)).execution_options(synchronize_session=False)
    )
    return deleted.rowcount
