"""What every payment flow shares: the request, the new payment row and the careful path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from o2o import gateway, store
from o2o.errors import O2OError, field_error
from o2o.models import Order, Payment, table
from o2o.principal import Principal
from o2o.services.orders import expire_if_lapsed
from o2o.services.payments.codes import spend_payment_code
from o2o.services.payments.outcomes import apply
from o2o.store import OrderPayment, payable_verdict, row_of
from o2o.tokens import new_id
from o2o.vocabulary import Channel, ErrorCode, OrderStatus, PaymentFlow, PaymentStatus, Role

FLOW_ROLES = {
    PaymentFlow.CLERK_SCAN: Role.CLERK,
    PaymentFlow.SHOPPER_SCAN: Role.CLERK,
    PaymentFlow.ONLINE: Role.SHOPPER,
}
FLOW_CHANNELS = {
    PaymentFlow.CLERK_SCAN: Channel.IN_STORE,
    PaymentFlow.SHOPPER_SCAN: Channel.IN_STORE,
    PaymentFlow.ONLINE: Channel.ONLINE,
}
PAYMENTS = table(Payment)


@dataclass(frozen=True)
class PaymentRequest:
    """One call to pay an order: who, which order, how, and the mock outcome asked for."""

    principal: Principal
    order_id: str
    method: str
    flow: PaymentFlow
    outcome: str
    auth_code: str | None
    now: datetime

    def order_payment(self, payer_id: str | None = None) -> OrderPayment:
        """The statement parameters: this order, paid now by this caller through this flow."""
        return OrderPayment(
            order_id=self.order_id,
            at=self.now,
            channel=FLOW_CHANNELS[self.flow],
            store_id=self.principal.store_id,
            shopper_id=self.principal.shopper_id,
            payer_id=payer_id,
        )

    def new_payment(self, amount: int, status: PaymentStatus = PaymentStatus.PENDING) -> Payment:
        """The payment row this request makes (inserted once, with its outcome)."""
        succeeded = status == PaymentStatus.SUCCEEDED
        return Payment(
            id=new_id("pay"),
            order_id=self.order_id,
            method=self.method,
            flow=self.flow,
            amount=amount,
            clerk_id=self.principal.clerk_id,
            created_at=self.now,
            refunded_amount=0,
            status=status,
            succeeded_at=self.now if succeeded else None,
        )


def payable_order(request: PaymentRequest) -> Order:
    """The order, if this caller may pay it now through this flow; else the error of the
    first payable predicate that fails, in the order a client should hear them."""
    found = payable_verdict(request.order_payment(), request.principal.role)
    shopper = request.principal.role == Role.SHOPPER
    if found is None or (shopper and not found.holds("caller_may_pay")):  # as if unknown
        raise O2OError(ErrorCode.NOT_FOUND, "No order has this id.")
    order = found.order
    if not found.holds("caller_may_pay"):
        raise O2OError(ErrorCode.FORBIDDEN, "This order belongs to another store.")
    if not found.holds("channel_matches"):
        raise field_error("flow", f"A {order.channel} order cannot be paid with {request.flow}.")
    if found.holds("awaits_payment") and not found.holds("not_lapsed"):
        expire_if_lapsed(order, request.now)
        store.commit()
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE, f"This order is {order.status}.")
    return order


def charge(
    request: PaymentRequest, pay_without_reading: Callable[[PaymentRequest], Payment | None]
) -> Payment:
    """Ask the provider; a success first tries the flow's fast path (conditional writes with
    nothing read first), and everything else, or a fast path that found something in the way,
    takes the careful path."""
    answer = gateway.charge(request.outcome)
    if answer.status == PaymentStatus.SUCCEEDED:
        paid = pay_without_reading(request)
        if paid is not None:
            return paid
    return pay_carefully(request, answer)


def pay_carefully(request: PaymentRequest, answer: gateway.Answer | None) -> Payment:
    """Every case but a successful charge with nothing wrong: read the order, check each rule
    and say which fails, then record the payment with the provider's answer (none yet for
    shopper_scan, which waits for the shopper)."""
    order = payable_order(request)
    payment = request.new_payment(order.payable_amount)
    payment.order = order
    if request.flow == PaymentFlow.CLERK_SCAN:
        assert request.auth_code is not None
        payment.payer_id = spend_payment_code(request.auth_code, request.now)
    elif request.flow == PaymentFlow.ONLINE:
        payment.payer_id = request.principal.shopper_id
    if answer is not None:
        apply(payment, answer, request.now)
    store.insert_row(PAYMENTS, row_of(payment))  # with its payment.<status> event
    store.commit()
    return payment
