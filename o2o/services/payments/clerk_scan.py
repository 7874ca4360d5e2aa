"""clerk_scan: the clerk scans the shopper's payment code (WeChat Pay's micropay)."""

from __future__ import annotations

from o2o import store
from o2o.models import Payment
from o2o.services.payments.codes import code_spend
from o2o.services.payments.common import PaymentRequest, charge
from o2o.store import CouponMove, acted_by, pay_at_till, row_of
from o2o.vocabulary import CouponEventType, PaymentStatus


def pay_by_code(request: PaymentRequest) -> Payment:
    """Charge the shopper whose payment code the clerk scanned."""
    return charge(request, _pay_without_reading)


def _pay_without_reading(request: PaymentRequest) -> Payment | None:
    """The common case, a successful charge that nothing stands in the way of, with nothing
    read first (the hot path of every checkout; one statement on PostgreSQL). None, having
    written nothing, when anything is wrong: the careful path then says what."""
    assert request.auth_code is not None
    payment = request.new_payment(0, PaymentStatus.SUCCEEDED)
    move = CouponMove(
        event=CouponEventType.REDEEMED,
        at=request.now,
        order_id=request.order_id,
        store_id=request.principal.store_id,
        redeemed_by=request.principal.clerk_id,
        redeemed_flow=request.flow,
        **acted_by(request.principal),  # the clerk who took the payment
    )
    spend = code_spend(request.auth_code, request.now)
    paid = pay_at_till(request.order_payment(), spend, move, row_of(payment))
    if paid is None:
        store.rollback()
        return None
    if paid.coupon_code is not None and paid.campaign_id is None:
        store.rollback()
        raise RuntimeError(f"order {request.order_id} lost its coupon reservation")
    payment.amount, payment.payer_id = paid.payable_amount, paid.payer_id
    store.commit()
    return payment
