"""Refunds through /v3/refund/domestic/refunds: this service's refund of the trade's payment,
with the merchant's `out_refund_no` beside it. Refunds here are decided at once: SUCCESS, or, by
the magic refund amounts, a refund the provider refuses (ABNORMAL, CLOSED) that moves no money."""

from __future__ import annotations

import secrets
import string
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from o2o import clock, store
from o2o.extensions import db
from o2o.models import WechatMerchant, WechatRefund, WechatTrade
from o2o.services.refunds import refund_payment
from o2o.vocabulary import RefundFailureCode, RefundOutcome, RefundStatus
from o2o.wechatpay import fields, protocol, trades
from o2o.wechatpay.errors import WechatError, param_error

# A refund amount ending in these fen chooses its outcome (docs/wechatpay.md, the magic amounts).
MAGIC_REFUND_AMOUNTS = {5: RefundOutcome.ACCOUNT_ABNORMAL, 6: RefundOutcome.DECLINED}
# A failed refund's status as WeChat names it.
FAILED_STATUS = {
    RefundFailureCode.ACCOUNT_ABNORMAL: "ABNORMAL",
    RefundFailureCode.DECLINED: "CLOSED",
}


def new_refund_id() -> str:
    """29 digits, as WeChat's refund ids: 5030 then 25 random digits."""
    return "5030" + "".join(secrets.choice(string.digits) for _ in range(25))


def refund(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Refund part or all of a paid trade; the same out_refund_no again answers the same refund."""
    shape = "1 to 64 of 0-9 A-Z a-z _ - | * @"
    out_refund_no = fields.pattern(body, "out_refund_no", fields.OUT_REFUND_NO, shape)
    amount = fields.obj(body, "amount")
    wanted = fields.required_fen(amount, "refund")
    total = fields.required_fen(amount, "total")
    fields.currency(amount)
    reason = fields.text(body, "reason", required=False, max_length=80)
    notify_url = fields.notify_url(body, required=False)
    existing = _refund(merchant, out_refund_no)
    if existing is not None:
        return refund_object(existing)
    trade = _refundable(merchant, body, total, wanted)
    try:
        with trades.one_transaction():
            row = _record(
                merchant,
                trade,
                out_refund_no=out_refund_no,
                wanted=wanted,
                reason=reason,
                notify_url=notify_url,
            )
    except IntegrityError:  # the same out_refund_no, a moment ago
        store.rollback()
        found = _refund(merchant, out_refund_no)
        if found is None:
            raise
        return refund_object(found)
    return refund_object(row)


def _refundable(
    merchant: WechatMerchant, body: dict[str, Any], total: int, wanted: int
) -> WechatTrade:
    """The paid trade the body names, with `wanted` fen left to refund."""
    if body.get("transaction_id") is not None:
        trade = trades.find(merchant, transaction_id=str(body["transaction_id"]))
    elif body.get("out_trade_no") is not None:
        trade = trades.find(merchant, out_trade_no=str(body["out_trade_no"]))
    else:
        raise param_error("out_trade_no", "transaction_id or out_trade_no is required")
    if total != trade.order.amount:
        raise param_error("amount.total", "is not the order's total")
    if trade.payment is None or trades.trade_state(trade) not in ("SUCCESS", "REFUND"):
        raise WechatError("INVALID_REQUEST", "Only a paid order can be refunded.")
    if wanted > trade.payment.refundable:
        raise WechatError("NOT_ENOUGH", "The refund is more than is left of the payment.")
    return trade


def _record(
    merchant: WechatMerchant,
    trade: WechatTrade,
    *,
    out_refund_no: str,
    wanted: int,
    reason: str | None,
    notify_url: str | None,
) -> WechatRefund:
    """This service's refund of the trade's payment, and the out_refund_no beside it."""
    assert trade.payment is not None
    principal = trades.merchant_principal(merchant, trade.order.store_id or merchant.store_ids[0])
    outcome = MAGIC_REFUND_AMOUNTS.get(wanted % 100, RefundOutcome.SUCCESS)
    made = refund_payment(principal, trade.payment.id, wanted, reason, outcome=outcome)
    row = WechatRefund(
        refund_id=new_refund_id(),
        mchid=merchant.mchid,
        out_refund_no=out_refund_no,
        transaction_id=trade.transaction_id,
        refund_row_id=made.id,
        notify_url=notify_url,
        created_at=clock.now(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def _refund(merchant: WechatMerchant, out_refund_no: str) -> WechatRefund | None:
    return db.session.scalars(
        select(WechatRefund).where(
            WechatRefund.mchid == merchant.mchid, WechatRefund.out_refund_no == out_refund_no
        )
    ).first()


def query(merchant: WechatMerchant, out_refund_no: str) -> dict[str, Any]:
    found = _refund(merchant, out_refund_no)
    if found is None:
        raise WechatError("RESOURCE_NOT_EXISTS", "No refund has this out_refund_no.")
    return refund_object(found)


def refund_status(row: WechatRefund) -> str:
    """SUCCESS, or for a refund the provider refused ABNORMAL (the shopper's account cannot take
    it back) or CLOSED (declined)."""
    made = row.refund
    if made.status == RefundStatus.SUCCEEDED:
        return "SUCCESS"
    return FAILED_STATUS[RefundFailureCode(made.failure_code or RefundFailureCode.DECLINED)]


def refund_object(row: WechatRefund) -> dict[str, Any]:
    """The refund as WeChat shows it (refund, query and REFUND.* notifications); a refund that
    did not succeed has no success_time."""
    trade, made = row.trade, row.refund
    order = trade.order
    payment = trade.payment
    assert payment is not None
    status = refund_status(row)
    shown: dict[str, Any] = {
        "refund_id": row.refund_id,
        "out_refund_no": row.out_refund_no,
        "transaction_id": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": protocol.rfc3339(made.created_at),
        "create_time": protocol.rfc3339(row.created_at),
        "status": status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order.amount,
            "refund": made.amount,
            "payer_total": payment.amount,
            "payer_refund": made.amount,
            "settlement_total": payment.amount,
            "settlement_refund": made.amount,
            "discount_refund": 0,
            "currency": "CNY",
            "from": [],
        },
        "promotion_detail": [],
    }
    if status != "SUCCESS":
        del shown["success_time"]
    return shown
