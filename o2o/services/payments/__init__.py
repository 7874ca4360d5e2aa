"""Payments: one module per flow, sharing the careful path and the provider's outcomes.

`clerk_scan` (the clerk scans the shopper's payment code), `shopper_scan` (the shopper scans
the merchant's QR and confirms), `online` (the shopper pays in the app).
"""

from __future__ import annotations

from o2o import clock
from o2o.errors import O2OError
from o2o.models import Payment
from o2o.principal import Principal
from o2o.services.payments import clerk_scan, online, shopper_scan
from o2o.services.payments.codes import issue_payment_code
from o2o.services.payments.common import FLOW_ROLES, PaymentRequest
from o2o.services.payments.outcomes import get_payment
from o2o.services.payments.shopper_scan import confirm_payment
from o2o.vocabulary import ErrorCode, PaymentFlow

__all__ = ["confirm_payment", "create_payment", "get_payment", "issue_payment_code"]

_BY_FLOW = {
    PaymentFlow.CLERK_SCAN: clerk_scan.pay_by_code,
    PaymentFlow.SHOPPER_SCAN: shopper_scan.await_shopper,
    PaymentFlow.ONLINE: online.pay_online,
}


def create_payment(
    principal: Principal,
    order_id: str,
    *,
    method: str,
    flow: PaymentFlow,
    outcome: str,
    auth_code: str | None = None,
) -> Payment:
    """Take a payment for an order through one of the three flows."""
    if FLOW_ROLES[flow] != principal.role:
        raise O2OError(ErrorCode.FORBIDDEN, f"The {flow} flow is for a {FLOW_ROLES[flow]} key.")
    request = PaymentRequest(principal, order_id, method, flow, outcome, auth_code, clock.now())
    return _BY_FLOW[flow](request)
