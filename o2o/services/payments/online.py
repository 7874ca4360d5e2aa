"""online: the shopper pays an online order in the app."""

from __future__ import annotations

from o2o import store
from o2o.models import Payment
from o2o.services.payments.common import PAYMENTS, PaymentRequest, charge
from o2o.services.payments.outcomes import redeem
from o2o.store import pay_order_unread, row_of
from o2o.vocabulary import PaymentStatus


def pay_online(request: PaymentRequest) -> Payment:
    """Charge the shopper for their own online order."""
    return charge(request, _pay_without_reading)


def _pay_without_reading(request: PaymentRequest) -> Payment | None:
    """A successful charge of an order this shopper may pay, with nothing read first: the
    order's conditional UPDATE, then the redemption with the payment's row. None, having
    written nothing, when anything is wrong: the careful path then says what."""
    shopper = request.principal.shopper_id
    order = pay_order_unread(request.order_payment(payer_id=shopper), request.principal.role)
    if order is None:
        store.rollback()
        return None
    payment = request.new_payment(order.payable_amount, PaymentStatus.SUCCEEDED)
    payment.payer_id = shopper
    if order.coupon_code:
        redeem(payment, order.store_id, request.now, row=(PAYMENTS, row_of(payment)))
    else:
        store.insert_row(PAYMENTS, row_of(payment))
    store.commit()
    return payment
