"""What the provider's answer does to a payment: success pays the order and redeems its
coupon; pending settles later on the service clock; failure is recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Table, update

from o2o import clock, events, gateway, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Payment, table
from o2o.principal import Principal
from o2o.services.orders import check_access, expire_if_lapsed
from o2o.store import CouponMove, OrderPayment, move_coupon, pay_order_unread
from o2o.vocabulary import ActorRole, CouponEventType, ErrorCode, EventType, PaymentStatus, Role

PAYMENTS = table(Payment)


def apply(payment: Payment, answer: gateway.Answer, now: datetime) -> None:
    """Record the provider's answer; a success pays the order and redeems its coupon."""
    if answer.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.PENDING
        payment.pending_outcome = answer.later
        payment.settles_at = now + timedelta(seconds=current_app.config["O2O_MOCK_PAYING_SECONDS"])
    elif answer.status == PaymentStatus.FAILED:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = answer.failure_code
    else:
        _succeed(payment, now)


def _succeed(payment: Payment, now: datetime) -> None:
    """Pay the order and redeem its coupon, in the caller's transaction, exactly once."""
    order = payment.order
    pay = OrderPayment(order_id=order.id, at=now, channel=order.channel, payer_id=payment.payer_id)
    if pay_order_unread(pay, role=None) is None:
        store.rollback()
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE, "This order was paid or closed meanwhile.")
    if order.coupon_code:
        redeem(payment, order.store_id, now)
    payment.status, payment.succeeded_at = PaymentStatus.SUCCEEDED, now


def redeem(
    payment: Payment,
    store_id: str | None,
    now: datetime,
    row: tuple[Table, dict[str, Any]] | None = None,
) -> None:
    """The order is paid: redeem the coupon it holds for this payment (with `row`, the
    payment's own row, inserted along)."""
    move = CouponMove(
        event=CouponEventType.REDEEMED,
        at=now,
        order_id=payment.order_id,
        store_id=store_id,
        redeemed_by=payment.clerk_id,
        redeemed_flow=payment.flow,
        # Who took the payment: the store's clerk, or the shopper paying online.
        actor_role=ActorRole.CLERK if payment.clerk_id else ActorRole.SHOPPER,
        actor_id=payment.clerk_id or payment.payer_id,
    )
    if move_coupon(move, row) is None:  # the reservation must stand while the order is payable
        store.rollback()
        raise RuntimeError(f"order {payment.order_id} lost its coupon reservation")


def settle_if_due(payment: Payment, now: datetime) -> bool:
    """A pending mock payment resolves once its delay has passed on the service clock, dated
    when its delay ended; one that can no longer pay its order (paid by another payment,
    canceled, expired) is called off instead. In the caller's transaction, exactly once:
    the payment's conditional UPDATE decides which of two racing callers settles it (and
    writes its event). Whether this call did."""
    if payment.status != PaymentStatus.PENDING:
        return False
    due = payment.settles_at is not None and now >= payment.settles_at
    # A payment that came due settled when its delay ended, not when someone looked.
    settled_at = payment.settles_at if due and payment.settles_at is not None else now
    order_open = payment.order.is_payable(settled_at)
    if order_open and not due:
        return False
    settled, called_off = None, CALLED_OFF
    if order_open and payment.pending_outcome:
        answer = gateway.settle(payment.pending_outcome)
        settled = _update_payment(payment.id, _answered(answer, settled_at))
        if settled is None:  # settled a moment ago by another caller: show what it did
            db.session.refresh(payment)
            return False
        if answer.status == PaymentStatus.SUCCEEDED and not _pay_for(payment, settled_at):
            # the order closed meanwhile: the payment (ours since the UPDATE) is called off
            settled = _update_payment(payment.id, called_off, PaymentStatus.SUCCEEDED)
    else:
        settled = _update_payment(payment.id, called_off)
    if settled is None:
        return False
    events.record_columns(EventType(f"payment.{settled['status']}"), settled, settled_at)
    if settled["status"] == PaymentStatus.CANCELED:
        expire_if_lapsed(payment.order, now)
    return True


CALLED_OFF = {
    "status": PaymentStatus.CANCELED,
    "failure_code": ErrorCode.ORDER_NOT_PAYABLE.code,
    "settles_at": None,
}


def _answered(answer: gateway.Answer, at: datetime) -> dict[str, Any]:
    """What the provider's final answer sets on a pending payment."""
    if answer.status == PaymentStatus.SUCCEEDED:
        return {"status": PaymentStatus.SUCCEEDED, "succeeded_at": at}
    return {"status": PaymentStatus.FAILED, "failure_code": answer.failure_code}


def _pay_for(payment: Payment, at: datetime) -> bool:
    """Pay the order of a payment that just succeeded, and redeem its coupon; False (nothing
    written) when the order closed meanwhile."""
    order = payment.order
    pay = OrderPayment(order_id=order.id, at=at, channel=order.channel, payer_id=payment.payer_id)
    if pay_order_unread(pay, role=None) is None:
        return False
    if order.coupon_code:
        redeem(payment, order.store_id, at)
    return True


def _update_payment(
    payment_id: str, values: dict[str, Any], starts: PaymentStatus = PaymentStatus.PENDING
) -> dict[str, Any] | None:
    """UPDATE the payment if its status is still `starts`: its row after, or None."""
    row = db.session.execute(
        update(PAYMENTS)
        .where(PAYMENTS.c.id == payment_id, PAYMENTS.c.status == starts)
        .values(**values)
        .returning(*PAYMENTS.c)
    ).first()
    return None if row is None else events.columns_in(PAYMENTS, row)


def _may_see(principal: Principal, payment: Payment) -> bool:
    """A shopper sees the payments Payment.seen_by_shopper says (theirs, their orders', one
    awaiting them), and any other exactly as an unknown one; clerks and admins as they see
    the order (403 for clerks)."""
    if principal.role != Role.SHOPPER:
        check_access(principal, payment.order)
        return True
    return payment.seen_by_shopper(principal.shopper_id)


def get_payment(principal: Principal, payment_id: str) -> Payment:
    """A payment; reading a pending mock payment past its delay settles it."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not _may_see(principal, payment):
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this id.")
    if settle_if_due(payment, clock.now()):
        store.commit()
        db.session.refresh(payment)
    return payment
