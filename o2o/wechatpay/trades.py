"""Payments through /v3/pay/transactions/…: each an ordinary order and payment of this service
(placed and paid by its own use cases), with the merchant's `out_trade_no` beside it. The trade
state is read from them, never kept twice.

- NATIVE: an order at the merchant's store and a pending `shopper_scan` payment; its `code_url`
  carries the payment id, and the shopper pays it from the wallet (or POST
  /api/v1/wechatpay/code-url/pay).
- APP and H5 (MWEB): made as NATIVE's, as no payer is named: the APP `prepay_id` is paid at the
  mock cashier, which checks the app's `sign`; the `h5_url` opens the wallet on the payment.
- JSAPI / MINIPROG: an online order of the shopper behind `payer.openid`; the `prepay_id` is paid
  at the mock cashier, which checks the `paySign` the merchant's SDK made.
- CODEPAY (付款码): an in-store order paid at once by a `clerk_scan` payment with the shopper's
  18-digit payment code as `payer.auth_code`.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from o2o import clock, store
from o2o.api.urls import public_url
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Payment, WechatMerchant, WechatOpenid, WechatOutcome, WechatTrade
from o2o.principal import Principal
from o2o.services import checkout, payments
from o2o.services.payments.outcomes import settle_if_due
from o2o.vocabulary import (
    ErrorCode,
    MockOutcome,
    OrderStatus,
    PaymentFlow,
    PaymentMethod,
    PaymentStatus,
    Role,
)
from o2o.wechatpay import fields, protocol
from o2o.wechatpay.errors import WechatError, param_error

CODE_URL = "weixin://wxpay/bizpayurl?pr="
PREPAY_PREFIX = "wx"
TRADE_TYPES = {
    "native": "NATIVE",
    "jsapi": "JSAPI",
    "app": "APP",
    "h5": "MWEB",
    "codepay": "MICROPAY",
}
SUPPORTED = ("native", "jsapi", "app", "h5", "codepay")
# Trades with no payer named until a shopper pays: a pending shopper_scan payment waits for them.
AWAITING_SHOPPER = ("native", "app", "h5")
H5_TYPES = ("iOS", "Android", "Wap")
# A total ending in these fen chooses its outcome (docs/wechatpay.md, the magic amounts).
MAGIC_AMOUNTS = {
    1: MockOutcome.DECLINED,
    2: MockOutcome.INSUFFICIENT_FUNDS,
    3: MockOutcome.USER_PAYING,
    4: MockOutcome.TIMEOUT,
}
PREPAID = ("JSAPI", "APP")  # paid at the mock cashier with the merchant's signature
# What pay_code_url pays: a Native code_url, or the payment behind an H5 trade's h5_url.
PAID_BY_LINK = ("NATIVE", "MWEB")
FAILURES = {MockOutcome.DECLINED: "PAYERROR", MockOutcome.INSUFFICIENT_FUNDS: "NOTENOUGH"}
TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "REVOKED": "已撤销（付款码支付）",
    "USERPAYING": "用户支付中（付款码支付）",
    "PAYERROR": "支付失败",
}


@contextmanager
def one_transaction() -> Iterator[None]:
    """The block's use cases as one transaction: all of it is kept, or none."""
    with store.one_unit():
        yield


def merchant_principal(merchant: WechatMerchant, store_id: str) -> Principal:
    """The merchant at one of its stores, acting as that store's till."""
    return Principal(role=Role.CLERK, key_id=f"wechatpay:{merchant.mchid}", store_id=store_id)


def shopper_principal(shopper_id: str) -> Principal:
    return Principal(role=Role.SHOPPER, key_id="wechatpay", shopper_id=shopper_id)


def new_transaction_id(now: datetime) -> str:
    """28 digits, as WeChat's: 4200, the date, then 16 random digits."""
    return (
        "4200" + now.strftime("%Y%m%d") + "".join(secrets.choice(string.digits) for _ in range(16))
    )


# -- paying


@dataclass(frozen=True)
class TradeRequest:
    """A /v3/pay/transactions/<kind> body, read and checked."""

    kind: str
    out_trade_no: str
    description: str
    total: int
    attach: str | None
    notify_url: str | None
    store_id: str
    payer: dict[str, Any]
    time_expire: datetime | None

    @classmethod
    def read(cls, merchant: WechatMerchant, kind: str, body: dict[str, Any]) -> TradeRequest:
        if kind not in SUPPORTED:
            raise WechatError("NOT_SUPPORTED", f"The sandbox does not support {kind} payments.")
        _check_ids(merchant, body)
        description = fields.required_text(body, "description", max_length=127)
        shape = "6 to 32 of 0-9 A-Z a-z _ - | * @"
        out_trade_no = fields.pattern(body, "out_trade_no", fields.OUT_NO, shape)
        amount = fields.obj(body, "amount")
        total = fields.required_fen(amount, "total")
        fields.currency(amount)
        return cls(
            kind=kind,
            out_trade_no=out_trade_no,
            description=description,
            total=total,
            attach=fields.text(body, "attach", required=False, max_length=128),
            notify_url=fields.notify_url(body, required=kind != "codepay"),
            store_id=_store(merchant, body, h5=kind == "h5"),
            payer=fields.obj(body, "payer", required=kind in ("jsapi", "codepay")),
            time_expire=_time_expire(body),
        )


def _time_expire(body: dict[str, Any]) -> datetime | None:
    """When the merchant wants the order closed (`time_expire`, RFC 3339): in the future."""
    text = body.get("time_expire")
    if text is None:
        return None
    try:
        moment = protocol.parse_rfc3339(text)
    except protocol.ProtocolError as error:
        raise param_error("time_expire", "must be an RFC 3339 time") from error
    if moment <= clock.now():
        raise param_error("time_expire", "must be in the future")
    return moment


def pay(merchant: WechatMerchant, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Place a trade of `kind` (native, jsapi, codepay) and answer as WeChat does."""
    wanted = TradeRequest.read(merchant, kind, body)
    existing = _trade(merchant, wanted.out_trade_no)
    if existing is not None:
        return _repeat(existing, wanted)
    now = clock.now()
    trade = WechatTrade(
        transaction_id=new_transaction_id(now),
        mchid=merchant.mchid,
        out_trade_no=wanted.out_trade_no,
        appid=merchant.appid,
        trade_type=TRADE_TYPES[kind],
        description=wanted.description,
        attach=wanted.attach,
        notify_url=wanted.notify_url,
        outcome=_outcome(merchant, wanted.out_trade_no, wanted.total),
        reversed=False,
        created_at=now,
    )
    try:
        with one_transaction():
            _place(merchant, wanted, trade)
            db.session.add(trade)
            db.session.flush()
    except IntegrityError:  # the same out_trade_no, placed a moment ago
        store.rollback()
        found = _trade(merchant, wanted.out_trade_no)
        if found is None:
            raise
        return _repeat(found, wanted)
    return _answer(trade)


def _check_ids(merchant: WechatMerchant, body: dict[str, Any]) -> None:
    if body.get("mchid") != merchant.mchid or body.get("appid", merchant.appid) != merchant.appid:
        raise WechatError(
            "APPID_MCHID_NOT_MATCH", "appid and mchid do not match the signing merchant"
        )


def _store(merchant: WechatMerchant, body: dict[str, Any], *, h5: bool = False) -> str:
    """The store named by scene_info.store_info.id, else the merchant's first. An H5 trade's
    scene_info names the payer's IP and the page's h5_info.type, as WeChat requires."""
    scene_info = fields.obj(body, "scene_info", required=h5)
    if h5:
        fields.required_text(scene_info, "payer_client_ip", max_length=45)
        h5_type = fields.required_text(fields.obj(scene_info, "h5_info"), "type", max_length=32)
        if h5_type not in H5_TYPES:
            raise param_error("scene_info.h5_info.type", "must be one of iOS, Android, Wap")
    store_info = fields.obj(scene_info, "store_info", required=False)
    named = store_info.get("id")
    if named is None:
        return merchant.store_ids[0]
    if named not in merchant.store_ids:
        raise param_error("scene_info.store_info.id", "is not a store of this merchant")
    return str(named)


def _outcome(merchant: WechatMerchant, out_trade_no: str, total: int) -> str:
    """The outcome chosen for this trade: POST /sandbox/outcomes (for it, else for the next
    payment), then the magic amounts, else success. A chosen outcome is used up."""
    chosen = db.session.scalars(
        select(WechatOutcome)
        .where(
            WechatOutcome.mchid == merchant.mchid,
            (WechatOutcome.out_trade_no == out_trade_no) | WechatOutcome.out_trade_no.is_(None),
        )
        .order_by(WechatOutcome.out_trade_no.is_(None), WechatOutcome.id)
        .limit(1)
    ).first()
    if chosen is not None:
        db.session.delete(chosen)
        return chosen.outcome
    return MAGIC_AMOUNTS.get(total % 100, MockOutcome.SUCCESS)


def _place(merchant: WechatMerchant, wanted: TradeRequest, trade: WechatTrade) -> None:
    """The order (and payment) behind the trade, through this service's own use cases."""
    kind, total, store_id, payer = wanted.kind, wanted.total, wanted.store_id, wanted.payer
    if kind == "jsapi":
        shopper_id = shopper_of(
            merchant.appid, fields.required_text(payer, "openid", max_length=64)
        )
        trade.openid = payer["openid"]
        order = checkout.place_order(
            shopper_principal(shopper_id), total, store_id=store_id, expires_at=wanted.time_expire
        )
        trade.order_id = order.id
        return
    principal = merchant_principal(merchant, store_id)
    order = checkout.place_order(principal, total, expires_at=wanted.time_expire)
    trade.order_id = order.id
    if kind in AWAITING_SHOPPER:
        pending = payments.create_payment(
            principal,
            order.id,
            method=PaymentMethod.WECHAT_PAY,
            flow=PaymentFlow.SHOPPER_SCAN,
            outcome=MockOutcome.SUCCESS,  # the shopper's confirmation charges trade.outcome
        )
        trade.payment_id = pending.id
        return
    auth_code = fields.required_text(payer, "auth_code", max_length=32)
    if not (auth_code.isdigit() and len(auth_code) == 18):
        raise param_error("payer.auth_code", "must be the shopper's 18-digit payment code")
    paid = payments.create_payment(
        principal,
        order.id,
        method=PaymentMethod.WECHAT_PAY,
        flow=PaymentFlow.CLERK_SCAN,
        outcome=trade.outcome,
        auth_code=auth_code,
    )
    trade.payment_id = paid.id
    trade.openid = openid_for(merchant.appid, paid.payer_id) if paid.payer_id else None


def _repeat(trade: WechatTrade, wanted: TradeRequest) -> dict[str, Any]:
    """The same out_trade_no again: the same answer while it is unpaid and unchanged."""
    state = trade_state(trade)
    if state in ("SUCCESS", "REFUND"):
        raise WechatError("ORDERPAID", "This order has been paid.")
    if state in ("CLOSED", "REVOKED"):
        raise WechatError("ORDER_CLOSED", "This order has been closed.")
    if trade.trade_type != TRADE_TYPES[wanted.kind] or trade.order.amount != wanted.total:
        raise WechatError("OUT_TRADE_NO_USED", "This out_trade_no was used with other parameters.")
    return _answer(trade)


def _answer(trade: WechatTrade) -> dict[str, Any]:
    if trade.trade_type == "NATIVE":
        return {"code_url": CODE_URL + (trade.payment_id or "")}
    if trade.trade_type in PREPAID:
        return {"prepay_id": PREPAY_PREFIX + trade.transaction_id}
    if trade.trade_type == "MWEB":
        return {"h5_url": public_url("web.wallet_wechatpay", payment_id=trade.payment_id or "")}
    state = trade_state(trade)
    if state == "USERPAYING":
        raise WechatError("USERPAYING", "The shopper is entering the password; query the order.")
    if state == "PAYERROR":
        assert trade.payment is not None
        code = FAILURES.get(
            MockOutcome(trade.payment.failure_code or MockOutcome.DECLINED), "PAYERROR"
        )
        raise WechatError(code, "The payment failed: " + (trade.payment.failure_code or "declined"))
    return transaction(trade)


# -- reading


def _trade(merchant: WechatMerchant, out_trade_no: str) -> WechatTrade | None:
    return db.session.scalars(
        select(WechatTrade).where(
            WechatTrade.mchid == merchant.mchid, WechatTrade.out_trade_no == out_trade_no
        )
    ).first()


def find(
    merchant: WechatMerchant, *, out_trade_no: str | None = None, transaction_id: str | None = None
) -> WechatTrade:
    """The merchant's trade; another merchant's is as unknown as a missing one."""
    trade = (
        _trade(merchant, out_trade_no)
        if out_trade_no is not None
        else db.session.get(WechatTrade, transaction_id or "")
    )
    if trade is None or trade.mchid != merchant.mchid:
        raise WechatError("ORDER_NOT_EXIST", "No order has this number.")
    return trade


def query(merchant: WechatMerchant, **number: str) -> dict[str, Any]:
    """The trade as WeChat shows it; reading a due USERPAYING payment settles it first."""
    trade = find(merchant, **number)
    refresh(trade)
    return transaction(trade)


def refresh(trade: WechatTrade) -> None:
    """Settle the trade's payment if its mock delay is over (and close a code payment that
    failed after USERPAYING, as WeChat does)."""
    payment = trade.payment
    if payment is not None and settle_if_due(payment, clock.now()):
        store.commit()
        db.session.refresh(payment)
        db.session.refresh(trade.order)


def trade_state(trade: WechatTrade) -> str:
    now = clock.now()
    order, payment = trade.order, trade.payment
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
        return "REFUND" if payment.refunded_amount > 0 else "SUCCESS"
    if trade.reversed:
        return "REVOKED"
    if payment is not None and payment.status == PaymentStatus.FAILED:
        return "PAYERROR"
    if order.effective_status(now) != OrderStatus.AWAITING_PAYMENT:
        return "CLOSED"
    if payment is not None and payment.status == PaymentStatus.PENDING and payment.settles_at:
        return "USERPAYING"
    return "NOTPAY"


def transaction(trade: WechatTrade) -> dict[str, Any]:
    """The trade object of query, code payment and TRANSACTION.SUCCESS."""
    state = trade_state(trade)
    order, payment = trade.order, trade.payment
    body: dict[str, Any] = {
        "appid": trade.appid,
        "mchid": trade.mchid,
        "out_trade_no": trade.out_trade_no,
        "trade_state": state,
        "trade_state_desc": TRADE_STATE_DESC[state],
        "attach": trade.attach or "",
        "amount": {"total": order.amount, "currency": "CNY"},
    }
    if trade.order.store_id:
        body["scene_info"] = {"device_id": "", "store_info": {"id": trade.order.store_id}}
    if payment is not None and state in ("SUCCESS", "REFUND") and payment.succeeded_at:
        body.update(
            transaction_id=trade.transaction_id,
            trade_type=trade.trade_type,
            bank_type="OTHERS",
            success_time=protocol.rfc3339(payment.succeeded_at),
            payer={"openid": _payer_openid(trade, payment)},
        )
        body["amount"].update(payer_total=payment.amount, payer_currency="CNY")
    if order.coupon_code:
        body["promotion_detail"] = [_promotion(trade)]
    return body


def _payer_openid(trade: WechatTrade, payment: Payment) -> str:
    if trade.openid:
        return trade.openid
    return openid_for(trade.appid, payment.payer_id) if payment.payer_id else ""


def _promotion(trade: WechatTrade) -> dict[str, Any]:
    order = trade.order
    return {
        "coupon_id": order.coupon_code,
        "scope": "SINGLE",
        "type": "CASH",
        "amount": order.discount_amount,
        "wechatpay_contribute": 0,
        "merchant_contribute": order.discount_amount,
        "other_contribute": 0,
        "currency": "CNY",
    }


# -- closing


def close(merchant: WechatMerchant, out_trade_no: str, body: dict[str, Any]) -> None:
    """Close an unpaid trade: its order is canceled (its coupon given back)."""
    if body.get("mchid") != merchant.mchid:
        raise WechatError("APPID_MCHID_NOT_MATCH", "mchid does not match the signing merchant")
    trade = find(merchant, out_trade_no=out_trade_no)
    refresh(trade)
    state = trade_state(trade)
    if state in ("SUCCESS", "REFUND"):
        raise WechatError("ORDERPAID", "This order has been paid and cannot be closed.")
    if state in ("CLOSED", "REVOKED"):
        return  # closing again changes nothing, as WeChat answers
    _cancel(trade)


def reverse(merchant: WechatMerchant, out_trade_no: str, body: dict[str, Any]) -> None:
    """Reverse (撤销) a code payment that is not paid: its order is canceled, the trade REVOKED."""
    _check_ids(merchant, body)
    trade = find(merchant, out_trade_no=out_trade_no)
    if trade.trade_type != "MICROPAY":
        raise WechatError("INVALID_REQUEST", "Only a code payment can be reversed.")
    refresh(trade)
    if trade_state(trade) in ("SUCCESS", "REFUND"):
        raise WechatError("INVALID_REQUEST", "A paid code payment is refunded, not reversed.")
    with one_transaction():
        if trade.order.effective_status(clock.now()) == OrderStatus.AWAITING_PAYMENT:
            _cancel(trade)
        trade.reversed = True
        db.session.flush()


def _cancel(trade: WechatTrade) -> None:
    order = trade.order
    principal = (
        shopper_principal(order.shopper_id)
        if trade.trade_type == "JSAPI" and order.shopper_id
        else Principal(role=Role.CLERK, key_id=f"wechatpay:{trade.mchid}", store_id=order.store_id)
    )
    try:
        checkout.cancel_order(principal, order.id)
    except O2OError as error:  # expired a moment ago: closed all the same
        if trade_state(trade) in ("SUCCESS", "REFUND"):
            raise WechatError(
                "ORDERPAID", "This order has been paid and cannot be closed."
            ) from error
    db.session.refresh(order)


# -- the shopper's side: paying a code_url or a prepay_id


def pay_code_url(shopper_id: str, code_url: str, coupon_code: str | None = None) -> WechatTrade:
    """The shopper pays a NATIVE trade's code_url (as WeChat does when its QR is scanned),
    with one of their coupons if they choose one, as WeChat's cashier offers."""
    payment_id = code_url.removeprefix(CODE_URL) if code_url.startswith(CODE_URL) else ""
    trade = db.session.scalars(
        select(WechatTrade).where(
            WechatTrade.payment_id == payment_id, WechatTrade.trade_type.in_(PAID_BY_LINK)
        )
    ).first()
    if trade is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this code_url.")
    shopper = shopper_principal(shopper_id)
    with one_transaction():
        if coupon_code is not None:
            checkout.apply_coupon(shopper, trade.order_id, coupon_code)
        payments.confirm_for_trade(shopper, payment_id, trade.outcome)
    db.session.refresh(trade)
    return trade


def pay_prepay(shopper_id: str, prepay_id: str) -> WechatTrade:
    """The shopper pays a JSAPI or APP trade at the cashier (its signature checked by the
    caller): a JSAPI order is theirs already; an APP trade's payment waits for whoever pays."""
    trade = prepaid_trade(prepay_id)
    order = trade.order
    if trade.trade_type == "APP":
        assert trade.payment_id is not None
        with one_transaction():
            payments.confirm_for_trade(
                shopper_principal(shopper_id), trade.payment_id, trade.outcome
            )
        db.session.refresh(trade)
        return trade
    if order.shopper_id != shopper_id:
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this prepay_id.")
    with one_transaction():
        payment = payments.create_payment(
            shopper_principal(shopper_id),
            order.id,
            method=PaymentMethod.WECHAT_PAY,
            flow=PaymentFlow.ONLINE,
            outcome=trade.outcome,
        )
        trade.payment_id = payment.id
        db.session.flush()
    db.session.refresh(trade)
    return trade


def cashier_trade(shopper_id: str, prepay_id: str) -> WechatTrade:
    """The trade the cashier shows this shopper: a JSAPI trade of theirs, or an APP trade that
    waits for whoever pays; its state brought up to date."""
    trade = prepaid_trade(prepay_id)
    if trade.trade_type == "JSAPI" and trade.order.shopper_id != shopper_id:
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this prepay_id.")
    refresh(trade)
    return trade


def prepaid_trade(prepay_id: str) -> WechatTrade:
    trade = db.session.get(WechatTrade, prepay_id.removeprefix(PREPAY_PREFIX))
    if trade is None or trade.trade_type not in PREPAID or not prepay_id.startswith(PREPAY_PREFIX):
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this prepay_id.")
    return trade


# -- openids


def openid_for(appid: str, shopper_id: str) -> str:
    """The shopper's openid under `appid`, kept so that it finds the shopper again."""
    openid = protocol.openid(current_app.config["O2O_SECRET_KEY"], appid, shopper_id)
    if db.session.get(WechatOpenid, openid) is None:  # a first time, maybe two at once
        store.insert_unless_present(WechatOpenid, openid=openid, appid=appid, shopper_id=shopper_id)
    return openid


def shopper_of(appid: str, openid: str) -> str:
    found = db.session.get(WechatOpenid, openid)
    if found is None or found.appid != appid:
        raise param_error("payer.openid", "is not the openid of a shopper under this appid")
    return found.shopper_id
