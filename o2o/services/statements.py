"""A store's day statement: the money it settled on one local day, row by row and in totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from o2o import store
from o2o.extensions import db
from o2o.models import Order, Payment, Refund
from o2o.principal import Principal
from o2o.services.accounts import get_store
from o2o.vocabulary import RefundStatus


@dataclass
class Total:
    """Money settled in one scope (a method, a flow, or all): counts and fen."""

    paid_count: int = 0
    paid_amount: int = 0
    refunded_count: int = 0
    refunded_amount: int = 0

    @property
    def net_amount(self) -> int:
        return self.paid_amount - self.refunded_amount


@dataclass(frozen=True)
class Line:
    """One row of a statement: a payment (when it succeeded) or a refund (when it was made)."""

    type: str  # "payment" or "refund"
    id: str
    at: datetime
    method: str
    flow: str
    order_id: str
    payment_id: str
    coupon_code: str | None
    amount: int
    refunded_amount: int | None  # a payment's refunds so far, of any day; None for a refund

    @property
    def net_amount(self) -> int:
        """What the row adds to the day's net: a payment's amount, a refund's taken off."""
        return self.amount if self.type == "payment" else -self.amount


def _payment_line(payment: Payment) -> Line:
    assert payment.succeeded_at is not None
    order = payment.order
    return Line(
        "payment",
        payment.id,
        payment.succeeded_at,
        payment.method,
        payment.flow,
        order.id,
        payment.id,
        order.coupon_code,
        payment.amount,
        payment.refunded_amount,
    )


def _refund_line(refund: Refund, payment: Payment) -> Line:
    order = payment.order
    return Line(
        "refund",
        refund.id,
        refund.created_at,
        payment.method,
        payment.flow,
        order.id,
        payment.id,
        order.coupon_code,
        refund.amount,
        None,
    )


@dataclass
class Statement:
    """One store's local day: its succeeded payments, its refunds, and their totals."""

    store_id: str
    date: date
    timezone: str
    starts_at: datetime
    ends_at: datetime
    payments: list[Line]
    refunds: list[Line]
    totals: Total = field(default_factory=Total)
    by_method: dict[str, Total] = field(default_factory=dict)
    by_flow: dict[str, Total] = field(default_factory=dict)

    def local(self, moment: datetime) -> datetime:
        """A moment in the statement's time zone (what the clerk's clock showed)."""
        return moment.astimezone(ZoneInfo(self.timezone))


def local_day(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of `day` in `timezone` (23 or 25 hours across a DST change)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_statement(principal: Principal, store_id: str, day: date) -> Statement:
    """Every payment that succeeded and every refund made at a store on one local day (the
    store's clerks and admins), oldest first, with totals by method, by flow and overall."""
    get_store(principal, store_id)  # 403 for another store's clerk before the look-up, 404
    timezone = current_app.config["O2O_TIMEZONE"]
    start, end = local_day(day, timezone)
    payments = db.session.scalars(
        select(Payment)
        .join(Payment.order)
        .where(Order.store_id == store_id, Payment.succeeded_at >= start)
        .where(Payment.succeeded_at < end)
        .order_by(Payment.succeeded_at, Payment.id)
    ).all()
    refunds = db.session.execute(
        select(Refund, Payment)
        .join(Payment, Refund.payment_id == Payment.id)
        .join(Payment.order)
        .where(Order.store_id == store_id, Refund.status == RefundStatus.SUCCEEDED)
        .where(Refund.created_at >= start, Refund.created_at < end)
        .order_by(Refund.created_at, Refund.id)
    ).all()
    statement = Statement(
        store_id,
        day,
        timezone,
        start,
        end,
        [_payment_line(payment) for payment in payments],
        [_refund_line(refund, payment) for refund, payment in refunds],
    )
    _add_up(statement)
    store.rollback()  # a statement only reads
    return statement


def _add_up(statement: Statement) -> None:
    """Totals overall, by method and by flow; a refund counts under its payment's method and
    flow, on the day it was made (whatever day its payment succeeded)."""
    for line in statement.payments:
        for total in _scopes(statement, line):
            total.paid_count += 1
            total.paid_amount += line.amount
    for line in statement.refunds:
        for total in _scopes(statement, line):
            total.refunded_count += 1
            total.refunded_amount += line.amount


def _scopes(statement: Statement, line: Line) -> Iterable[Total]:
    yield statement.totals
    yield statement.by_method.setdefault(line.method, Total())
    yield statement.by_flow.setdefault(line.flow, Total())
