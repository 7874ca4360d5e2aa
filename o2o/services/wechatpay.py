"""The WeChat Pay sandbox's use cases outside /v3/: registering merchants, and what a shopper
does in WeChat's client (paying a code_url or a prepay_id, reading their openid, receiving a
merchant coupon in a mini-program)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from o2o import clock, store
from o2o.errors import O2OError, field_error
from o2o.extensions import db
from o2o.models import WebhookDelivery, WechatMerchant, WechatOutcome, WechatTrade
from o2o.principal import Principal
from o2o.services import claims
from o2o.services.pagination import Page, paginate
from o2o.vocabulary import ClaimChannel, ErrorCode, Role
from o2o.wechatpay import busifavor, merchants, notifications, protocol, trades
from o2o.wechatpay.errors import WechatError
from o2o.wechatpay.merchants import Platform


@dataclass(frozen=True)
class RegisteredMerchant:
    """A merchant just registered, with what is shown once and the SDK lines to paste."""

    mchid: str
    appid: str
    name: str
    store_ids: list[str]
    mode: str
    cert_serial_no: str
    created_at: Any
    apiv3_key: str
    private_key: str | None
    certificate: str
    platform: Platform
    sdk_config: str


def register_merchant(data: dict[str, Any]) -> RegisteredMerchant:
    made = merchants.register_merchant(**data)
    merchant, platform = made.merchant, merchants.platform()
    return RegisteredMerchant(
        mchid=merchant.mchid,
        appid=merchant.appid,
        name=merchant.name,
        store_ids=merchant.store_ids,
        mode=merchant.mode,
        cert_serial_no=merchant.cert_serial_no,
        created_at=merchant.created_at,
        apiv3_key=made.apiv3_key,
        private_key=made.private_key,
        certificate=made.certificate,
        platform=platform,
        sdk_config=sdk_config(merchant, made.apiv3_key, platform),
    )


def sdk_config(merchant: WechatMerchant, apiv3_key: str, platform: Platform) -> str:
    """The keyword arguments of `WeChatPay(...)` for this merchant, as Python source."""
    lines = [
        "wechatpay_type=WeChatPayType.NATIVE,",
        f"mchid={merchant.mchid!r},",
        "private_key=open('apiclient_key.pem').read(),",
        f"cert_serial_no={merchant.cert_serial_no!r},",
        f"appid={merchant.appid!r},",
        f"apiv3_key={apiv3_key!r},",
        "notify_url='https://your.shop/wechatpay/notify',",
    ]
    if merchant.mode == "public_key":
        lines += [
            "public_key=open('pub_key.pem').read(),",
            f"public_key_id={platform.public_key_id!r},",
        ]
    else:
        lines.append("cert_dir='./wechatpay_certs',")
    return "\n".join(lines)


def list_merchants() -> list[WechatMerchant]:
    return merchants.list_merchants()


def platform() -> Platform:
    found = merchants.platform()
    store.rollback()
    return found


def _paid(trade: WechatTrade) -> dict[str, Any]:
    payment = trade.payment
    return {
        "mchid": trade.mchid,
        "out_trade_no": trade.out_trade_no,
        "transaction_id": trade.transaction_id,
        "trade_state": trades.trade_state(trade),
        "payment_id": trade.payment_id,
        "order_id": trade.order_id,
        "amount": trade.order.amount,
        "payer_total": payment.amount if payment is not None else None,
    }


def pay_code_url(principal: Principal, code_url: str, coupon_code: str | None) -> dict[str, Any]:
    """The shopper pays a Native trade's code_url, with one of their coupons if they choose."""
    assert principal.shopper_id is not None
    return _paid(trades.pay_code_url(principal.shopper_id, code_url, coupon_code))


def pay_prepay(principal: Principal, request: dict[str, Any]) -> dict[str, Any]:
    """The shopper pays a JSAPI or APP trade at the cashier, with the merchant's signature
    checked (an APP trade's covers the bare prepay id)."""
    assert principal.shopper_id is not None
    prepay_id = request["package"].removeprefix("prepay_id=")
    trade = trades.prepaid_trade(prepay_id)
    merchant = db.session.get(WechatMerchant, trade.mchid)
    assert merchant is not None
    if request["appId"] != trade.appid:
        raise field_error("appId", "Not the appid of this prepay_id.")
    app = trade.trade_type == "APP"
    if not protocol.verify_paysign(merchant.merchant_public_key, request, app=app):
        raise field_error("paySign", "The paySign does not verify with the merchant's key.")
    return _paid(trades.pay_prepay(principal.shopper_id, prepay_id))


def cashier(principal: Principal, prepay_id: str) -> dict[str, Any]:
    """What the mock cashier shows the shopper before they pay a prepay_id."""
    assert principal.shopper_id is not None
    trade = trades.cashier_trade(principal.shopper_id, prepay_id)
    merchant = db.session.get(WechatMerchant, trade.mchid)
    assert merchant is not None
    shown = {
        "prepay_id": prepay_id,
        "trade_type": trade.trade_type,
        "merchant_name": merchant.name,
        "description": trade.description,
        "payable_amount": trade.order.payable_amount,
        "store_id": trade.order.store_id,
    }
    shown.update(_paid(trade))
    store.rollback()
    return shown


def openid(principal: Principal, appid: str) -> dict[str, str]:
    """The caller's openid under `appid`."""
    assert principal.shopper_id is not None
    found = trades.openid_for(appid, principal.shopper_id)
    store.commit()
    return {"appid": appid, "openid": found}


NOTIFICATION_CHANNELS = (notifications.CHANNEL, notifications.COUPON_CHANNEL)


def list_notifications(
    mchid: str, status: str | None, limit: int, cursor: str | None
) -> Page[WebhookDelivery]:
    """The notifications sent (or to be sent) to a merchant — payments, refunds, merchant
    coupons — with their attempts, newest first, from the one delivery log; `status` filters."""
    if merchants.find_merchant(mchid) is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No WeChat Pay merchant has this mchid.")
    query = select(WebhookDelivery).where(
        WebhookDelivery.channel.in_(NOTIFICATION_CHANNELS), WebhookDelivery.owner == mchid
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return paginate(query, WebhookDelivery.created_at, WebhookDelivery.id, limit, cursor)


def choose_outcome(mchid: str, out_trade_no: str | None, outcome: str) -> WechatOutcome:
    """Script the outcome of a merchant's next payment (or of one out_trade_no)."""
    if merchants.find_merchant(mchid) is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No WeChat Pay merchant has this mchid.")
    chosen = WechatOutcome(
        mchid=mchid, out_trade_no=out_trade_no, outcome=outcome, created_at=clock.now()
    )
    db.session.add(chosen)
    store.commit()
    return chosen


def send_coupon(principal: Principal, stock_id: str, openid: str) -> dict[str, Any]:
    """Send (发券) one coupon of a stock to the user behind `openid`, as WeChat's mini-program
    does: a claim through this service's claim path, channel mini_program. A shopper may send
    only to their own openid under the stock merchant's appid; an admin to anyone's."""
    stock = busifavor.stock(stock_id)
    merchant = merchants.find_merchant(stock.mchid) if stock is not None else None
    if stock is None or merchant is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No merchant coupon stock has this stock_id.")
    if principal.role == Role.SHOPPER:
        assert principal.shopper_id is not None
        if trades.openid_for(merchant.appid, principal.shopper_id) != openid:
            raise O2OError(ErrorCode.FORBIDDEN, "This openid is not yours under this appid.")
        shopper_id = principal.shopper_id
    else:
        try:
            shopper_id = trades.shopper_of(merchant.appid, openid)
        except WechatError as error:
            raise O2OError(
                ErrorCode.NOT_FOUND, "No shopper has this openid under the stock's appid."
            ) from error
    shopper = trades.shopper_principal(shopper_id)
    coupon = claims.claim_coupon(shopper, stock.campaign_id, ClaimChannel.MINI_PROGRAM)
    return {
        "coupon_code": coupon.code,
        "stock_id": stock_id,
        "openid": openid,
        "send_time": coupon.claimed_at,
    }
