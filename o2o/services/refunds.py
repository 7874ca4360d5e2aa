"""Refunds: partial or full, never more than what is left; a full one may give the coupon back.
The mock provider may refuse one: it is recorded `failed` with its failure code; nothing moves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, select, update

from o2o import clock, events, gateway, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Coupon, Order, Payment, Refund, table
from o2o.principal import Principal
from o2o.services.orders import check_access
from o2o.store import CouponMove, acted_by
from o2o.tokens import new_id
from o2o.vocabulary import (
    CouponEventType,
    ErrorCode,
    EventType,
    OrderStatus,
    PaymentStatus,
    RefundFailureCode,
    RefundOutcome,
    RefundStatus,
)

ORDERS = table(Order)


def refund_payment(
    principal: Principal,
    payment_id: str,
    amount: int | None,
    reason: str | None,
    *,
    outcome: str = RefundOutcome.SUCCESS,
) -> Refund:
    """Give money back on a succeeded payment (admin, or a clerk of the order's store), as the
    mock provider answers `outcome`: a refused refund is recorded `failed` and moves nothing."""
    now = clock.now()
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this id.")
    check_access(principal, payment.order)
    if payment.status != PaymentStatus.SUCCEEDED:
        raise O2OError(
            ErrorCode.PAYMENT_NOT_REFUNDABLE, f"A {payment.status} payment has nothing to refund."
        )
    if amount is None and payment.amount == 0:  # no money to move: the provider is not asked
        return _refund_free_order(principal, payment, reason, now)
    amount = payment.refundable if amount is None else amount
    answer = gateway.refund(outcome)
    if answer.failure_code is not None:
        return _refused(principal, payment, amount, reason, now=now, code=answer.failure_code)
    fully = _take_from(payment, amount)
    _close_order(payment.order, fully, principal, now)
    return _record(principal, payment, amount, reason, now)


def _refused(
    principal: Principal,
    payment: Payment,
    amount: int,
    reason: str | None,
    *,
    now: Any,
    code: RefundFailureCode,
) -> Refund:
    """The provider refused: the refund is recorded `failed` and nothing is taken from the
    payment, so it stays refundable. Asking for more than is left is still refused first."""
    if amount <= 0 or amount > payment.refundable:
        store.rollback()
        raise _exceeds(payment.refundable)
    return _record(principal, payment, amount, reason, now, failure_code=code)


def _take_from(payment: Payment, amount: int) -> bool:
    """Add `amount` to what was refunded of the payment, by one conditional UPDATE, so that
    concurrent refunds never add up past it; whether it is now refunded in full."""
    taken: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Payment)
        .where(Payment.id == payment.id, Payment.refunded_amount + amount <= Payment.amount)
        .values(refunded_amount=Payment.refunded_amount + amount)
        .returning(Payment.refunded_amount, Payment.amount)
    )
    row = taken.first()
    if row is None or amount <= 0:
        store.rollback()
        left = db.session.scalar(
            select(Payment.amount - Payment.refunded_amount).where(Payment.id == payment.id)
        )
        raise _exceeds(left)
    return bool(row.refunded_amount == row.amount)


def _refund_free_order(
    principal: Principal, payment: Payment, reason: str | None, now: Any
) -> Refund:
    """A full refund of a 0-fen payment (a 100 %-off coupon): no money moves, but the order is
    refunded and the coupon comes back, once. The order's conditional UPDATE decides."""
    if not _set_order_status(payment.order_id, OrderStatus.REFUNDED, (OrderStatus.PAID,), now):
        store.rollback()
        raise _exceeds(0)
    _restore_coupon(payment.order, principal, now)
    return _record(principal, payment, 0, reason, now)


def _exceeds(left: int | None) -> O2OError:
    return O2OError(
        ErrorCode.REFUND_EXCEEDS_PAYMENT,
        f"Only {left} fen of this payment is left to refund.",
        details={"refundable": left},
    )


def _record(
    principal: Principal,
    payment: Payment,
    amount: int,
    reason: str | None,
    now: Any,
    *,
    failure_code: RefundFailureCode | None = None,
) -> Refund:
    """The refund row and its event (refund.succeeded, or refund.failed with its code)."""
    refund = Refund(
        id=new_id("re"),
        payment_id=payment.id,
        amount=amount,
        reason=reason,
        status=RefundStatus.SUCCEEDED if failure_code is None else RefundStatus.FAILED,
        failure_code=failure_code,
        actor_role=principal.role,
        actor_id=principal.actor_id,
        created_at=now,
    )
    db.session.add(refund)
    db.session.flush()
    failed = failure_code is not None
    events.record(EventType.REFUND_FAILED if failed else EventType.REFUND_SUCCEEDED, refund, now)
    store.commit()
    return refund


def _close_order(order: Order, fully: bool, principal: Principal, now: Any) -> None:
    if fully:
        starts = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
        _set_order_status(order.id, OrderStatus.REFUNDED, starts, now)
    else:  # a second partial refund leaves the order as it was: its event is refund.succeeded
        _set_order_status(order.id, OrderStatus.PARTIALLY_REFUNDED, (OrderStatus.PAID,), now)
    if fully:
        _restore_coupon(order, principal, now)


def _set_order_status(
    order_id: str, status: OrderStatus, starts: tuple[OrderStatus, ...], now: Any
) -> bool:
    """Move the order to `status` from one of `starts`, with its event: conditional, so that
    of two concurrent refunds only the one that moves it writes the event."""
    moved = db.session.execute(
        update(ORDERS)
        .where(ORDERS.c.id == order_id, ORDERS.c.status.in_(starts))
        .values(status=status)
        .returning(*ORDERS.c)
    ).first()
    if moved is None:
        return False
    events.record_columns(EventType(f"order.{status}"), events.columns_in(ORDERS, moved), now)
    return True


def _restore_coupon(order: Order, principal: Principal, now: Any) -> None:
    """After a full refund the coupon comes back, if its campaign allows and it is still valid."""
    if not order.coupon_code:
        return
    coupon = db.session.get(Coupon, order.coupon_code)
    if coupon is None or not coupon.can_be_restored(now):
        return
    restored = CouponEventType.RESTORED
    store.move_coupon(CouponMove(restored, now, order.id, order.store_id, **acted_by(principal)))
