"""shopper_scan: the clerk shows the merchant's QR, the shopper scans it and confirms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, update

from o2o import clock, events, gateway, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Payment
from o2o.principal import Principal
from o2o.services.payments.common import PaymentRequest, pay_carefully
from o2o.services.payments.outcomes import apply
from o2o.vocabulary import ErrorCode, EventType, PaymentFlow, PaymentStatus


def await_shopper(request: PaymentRequest) -> Payment:
    """A pending payment for the merchant's QR; nothing is charged until the shopper pays."""
    return pay_carefully(request, None)


def confirm_payment(principal: Principal, payment_id: str, outcome: str) -> Payment:
    """The shopper pays a shopper_scan payment from the merchant's QR: one they may see (a
    payment they cannot see is 404, as an unknown id); the conditional UPDATE decides."""
    now = clock.now()
    payment = db.session.get(Payment, payment_id)
    if payment is None or not payment.seen_by_shopper(principal.shopper_id):
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this id.")
    claimed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.flow == PaymentFlow.SHOPPER_SCAN,
            Payment.status == PaymentStatus.PENDING,
            Payment.payer_id.is_(None),
        )
        .values(payer_id=principal.shopper_id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise O2OError(ErrorCode.PAYMENT_NOT_PENDING)
    db.session.refresh(payment)
    apply(payment, gateway.charge(outcome), now)
    if payment.status != PaymentStatus.PENDING:  # still pending (user_paying): no change yet
        db.session.flush()
        events.record(EventType(f"payment.{payment.status}"), payment, now)
    store.commit()
    return payment
