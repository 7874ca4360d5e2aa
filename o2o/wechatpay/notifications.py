"""WeChat Pay's notifications to a merchant's `notify_url`, sent by the one delivery engine
(o2o.events.delivery) as the `wechatpay` channel: a fanout turns this service's events into
TRANSACTION.SUCCESS and REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED notifications, their
resource AES-256-GCM-encrypted under the merchant's APIv3 key; each attempt is signed with the
platform key (the serial of the merchant's mode) and retried on WeChat's schedule
(O2O_WECHATPAY_NOTIFY_SCHEDULE) until a 2xx.
The merchant-coupon notification COUPON.SEND (a coupon of a stock claimed) goes to the
merchant's busifavor callback url as the `wechatpay_coupon` channel, signed the same way and
retried on its own schedule (O2O_WECHATPAY_COUPON_NOTIFY_SCHEDULE).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from o2o import clock
from o2o.events import channels
from o2o.extensions import db
from o2o.models import Coupon, Event, WechatRefund, WechatStock, WechatTrade
from o2o.vocabulary import ClaimChannel, EventType
from o2o.wechatpay import busifavor_coupons, merchants, protocol, refunds, trades

CHANNEL = "wechatpay"
SCHEDULE = "O2O_WECHATPAY_NOTIFY_SCHEDULE"
COUPON_CHANNEL = "wechatpay_coupon"
COUPON_SCHEDULE = "O2O_WECHATPAY_COUPON_NOTIFY_SCHEDULE"
SEND_CHANNELS = {ClaimChannel.MINI_PROGRAM: "BUSICOUPON_SEND_CHANNEL_MINIAPP"}
REFUND_SUMMARIES = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}


def init_app(app: Flask) -> None:
    """Make WeChat Pay notifications a delivery channel of `app`, with their fanout."""
    channels.register_channel(CHANNEL, channels.DeliveryChannel(_headers, SCHEDULE), app)
    channels.register_fanout(fanout, app)
    coupon_channel = channels.DeliveryChannel(_headers, COUPON_SCHEDULE)
    channels.register_channel(COUPON_CHANNEL, coupon_channel, app)
    channels.register_fanout(coupon_fanout, app)


def _headers(claim: channels.Claim) -> dict[str, str]:
    """WeChat's signature headers over the body, in the serial the merchant's SDK matches."""
    merchant = merchants.find_merchant(claim.owner or "")
    if merchant is None:
        raise LookupError(f"no WeChat Pay merchant {claim.owner!r} any more")
    platform = merchants.platform()
    signed = protocol.signed_response_headers(
        platform.private_key,
        platform.serial_for(merchant.mode),
        claim.payload,
        int(clock.real_now().timestamp()),
        protocol.new_nonce(),
    )
    return {"Content-Type": "application/json", **signed}


def fanout(event: Event) -> list[channels.DeliverySpec]:
    """The notification an event of a WeChat trade or refund means, if its merchant asked."""
    if event.type == EventType.PAYMENT_SUCCEEDED:
        trade = db.session.scalars(
            select(WechatTrade).where(WechatTrade.payment_id == event.object_id)
        ).first()
        if trade is None or not trade.notify_url:
            return []
        resource = {**trades.transaction(trade), "trade_state": "SUCCESS"}
        resource["trade_state_desc"] = trades.TRADE_STATE_DESC["SUCCESS"]
        return [
            _notification(
                trade.mchid,
                trade.notify_url,
                event,
                event_type="TRANSACTION.SUCCESS",
                summary="支付成功",
                original_type="transaction",
                resource=resource,
            )
        ]
    if event.type in (EventType.REFUND_SUCCEEDED, EventType.REFUND_FAILED):
        return _refund_notification(event)
    return []


def _refund_notification(event: Event) -> list[channels.DeliverySpec]:
    """REFUND.SUCCESS, or for a refund the provider refused REFUND.ABNORMAL / REFUND.CLOSED."""
    row = db.session.scalars(
        select(WechatRefund).where(WechatRefund.refund_row_id == event.object_id)
    ).first()
    url = row and (row.notify_url or row.trade.notify_url)
    if row is None or not url:
        return []
    status = refunds.refund_status(row)
    return [
        _notification(
            row.mchid,
            url,
            event,
            event_type=f"REFUND.{status}",
            summary=REFUND_SUMMARIES[status],
            original_type="refund",
            resource=refund_resource(row),
        )
    ]


def refund_resource(row: WechatRefund) -> dict[str, Any]:
    """A refund notification's decrypted resource, as WeChat sends it."""
    shown = refunds.refund_object(row)
    amount = shown["amount"]
    return {
        "mchid": row.mchid,
        "out_trade_no": shown["out_trade_no"],
        "transaction_id": shown["transaction_id"],
        "out_refund_no": shown["out_refund_no"],
        "refund_id": shown["refund_id"],
        "refund_status": shown["status"],
        **({"success_time": shown["success_time"]} if "success_time" in shown else {}),
        "user_received_account": shown["user_received_account"],
        "amount": {key: amount[key] for key in ("total", "refund", "payer_total", "payer_refund")},
    }


def coupon_fanout(event: Event) -> list[channels.DeliverySpec]:
    """COUPON.SEND, when a coupon of a stock is claimed and its merchant set a callback url."""
    if event.type != EventType.COUPON_CLAIMED:
        return []
    coupon = db.session.get(Coupon, event.object_id)
    if coupon is None:
        return []
    stock = db.session.scalars(
        select(WechatStock).where(WechatStock.campaign_id == coupon.campaign_id)
    ).first()
    merchant = merchants.find_merchant(stock.mchid) if stock is not None else None
    if stock is None or merchant is None or not merchant.coupon_notify_url:
        return []
    resource: dict[str, Any] = {
        "event_type": "EVENT_TYPE_BUSICOUPON_SEND",
        "coupon_code": coupon.code,
        "stock_id": stock.stock_id,
        "send_time": protocol.rfc3339(coupon.claimed_at),
        "openid": busifavor_coupons.openid_of(merchant.appid, coupon.shopper_id),
        "send_channel": SEND_CHANNELS.get(
            ClaimChannel(coupon.claim_channel), "BUSICOUPON_SEND_CHANNEL_API"
        ),
        "send_merchant": merchant.mchid,
        "attach_info": {},
    }
    spec = _notification(
        merchant.mchid,
        merchant.coupon_notify_url,
        event,
        event_type="COUPON.SEND",
        summary="商家券用户领券通知",
        original_type="coupon",
        resource=resource,
    )
    return [channels.DeliverySpec(COUPON_CHANNEL, spec.url, spec.body, spec.owner)]


def _notification(
    mchid: str,
    url: str,
    event: Event,
    *,
    event_type: str,
    summary: str,
    original_type: str,
    resource: dict[str, Any],
) -> channels.DeliverySpec:
    merchant = merchants.find_merchant(mchid)
    assert merchant is not None
    plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    encrypted = protocol.encrypt_resource(
        merchants.apiv3_key(merchant), plaintext, original_type, original_type
    )
    body = protocol.notification_body(event.id, event.created_at, event_type, summary, encrypted)
    return channels.DeliverySpec(channel=CHANNEL, url=url, body=body.decode(), owner=mchid)
