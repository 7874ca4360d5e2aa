"""Payments: one module per flow, sharing the careful path and the provider's outcomes.

`clerk_scan` (the clerk scans the shopper's payment code), `shopper_scan` (the shopper scans
the merchant's QR and confirms), `online` (the shopper pays in the app).
"""

from __future__ import annotations

from sqlalchemy import select

from o2o import clock
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Payment, WechatTrade
from o2o.principal import Principal
from o2o.services.payments import clerk_scan, online, shopper_scan
from o2o.services.payments.codes import issue_payment_code
from o2o.services.payments.common import FLOW_ROLES, PaymentRequest
from o2o.services.payments.outcomes import get_payment
from o2o.vocabulary import ErrorCode, PaymentFlow

__all__ = [
    "confirm_for_trade",
    "confirm_payment",
    "create_payment",
    "get_payment",
    "issue_payment_code",
]
confirm_for_trade = shopper_scan.confirm_payment  # a sandbox trade's own outcome (o2o.wechatpay)

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


def confirm_payment(principal: Principal, payment_id: str, outcome: str) -> Payment:
    """The shopper pays a shopper_scan payment from the merchant's QR, with the outcome the
    caller chose — unless a WeChat Pay sandbox trade waits for it: that one is paid as WeChat's
    client pays it, with the sandbox's outcome (POST /wechatpay/code-url/pay, the cashier)."""
    if db.session.scalar(
        select(WechatTrade.transaction_id).where(WechatTrade.payment_id == payment_id)
    ):
        raise O2OError(
            ErrorCode.FORBIDDEN,
            "This payment is a WeChat Pay trade's: pay its code_url or prepay_id as WeChat's "
            "client does (POST /wechatpay/code-url/pay, or the cashier).",
        )
    return shopper_scan.confirm_payment(principal, payment_id, outcome)
