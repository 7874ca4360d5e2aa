"""WeChat Pay sandbox views: merchants (admin), what the shopper does in WeChat's client — paying
a code_url, paying a prepay_id at the cashier, their openid, receiving a merchant coupon — and
outcomes chosen for the next payment. The /v3/ protocol itself is o2o/wechatpay/gateway.py."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields, validate

from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import Choice, Sent, Strict, Text, Timestamp, page_of
from o2o.api.webhooks import DeliveryListArgs, WebhookDeliverySchema
from o2o.services import wechatpay
from o2o.vocabulary import Role

blp = Blueprint(
    "wechatpay", __name__, description="The WeChat Pay APIv3 sandbox (docs/wechatpay.md)"
)

MODE = (
    "`certificate`: the SDK is given the platform certificate (downloaded from /v3/certificates); "
    "`public_key`: the SDK is given the platform public key and its `PUB_KEY_ID_…` (微信支付公钥)."
)


class MerchantCreateSchema(Strict):
    mchid = fields.String(
        validate=validate.Regexp(r"^[0-9]{8,10}$"),
        load_default=None,
        metadata={"description": "8 to 10 digits; generated when absent."},
    )
    appid = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_]{4,32}$"))
    name = Text(120, required=True)
    store_ids = fields.List(Text(32), required=True, validate=validate.Length(min=1, max=100))
    mode = Choice(
        ("certificate", "public_key"), load_default="certificate", metadata={"description": MODE}
    )
    merchant_public_key = fields.String(
        validate=validate.Length(min=1, max=10_000),
        load_default=None,
        metadata={
            "description": "The merchant's RSA public key (PEM) or certificate; when absent a key "
            "pair is generated and its private key shown once in the response."
        },
    )


class MerchantSchema(Sent):
    mchid = fields.String()
    appid = fields.String()
    name = fields.String()
    store_ids = fields.List(fields.String())
    mode = fields.String(metadata={"description": MODE})
    cert_serial_no = fields.String(metadata={"description": "The merchant certificate's serial."})
    created_at = Timestamp()


class PlatformSchema(Sent):
    certificate = fields.String(metadata={"description": "The platform certificate (PEM)."})
    serial_no = fields.String()
    public_key = fields.String(metadata={"description": "The platform public key (PEM)."})
    public_key_id = fields.String(metadata={"description": "`PUB_KEY_ID_…`"})
    ca_certificate = fields.String(
        metadata={"description": "The CA that signed the certificates, and the gateway's TLS one."}
    )


class RegisteredMerchantSchema(MerchantSchema):
    apiv3_key = fields.String(metadata={"description": "32 ASCII characters: shown once."})
    private_key = fields.String(
        allow_none=True,
        metadata={"description": "PKCS#8 PEM, shown once; null when a public key was uploaded."},
    )
    certificate = fields.String(metadata={"description": "The merchant certificate (PEM)."})
    platform = fields.Nested(PlatformSchema)
    sdk_config = fields.String(
        metadata={"description": "The arguments to paste into `WeChatPay(...)`, as Python."}
    )


class MerchantListSchema(Sent):
    items = fields.List(fields.Nested(MerchantSchema))


class CodeUrlPaySchema(Strict):
    code_url = Text(256, required=True, metadata={"description": "`weixin://wxpay/bizpayurl?pr=…`"})
    coupon_code = Text(
        32,
        load_default=None,
        metadata={"description": "One of the caller's coupons, used on this order as they pay."},
    )


class CashierPaySchema(Strict):
    appId = Text(32, required=True)  # noqa: N815 - the names wx.requestPayment takes
    timeStamp = Text(16, required=True)  # noqa: N815
    nonceStr = Text(64, required=True)  # noqa: N815
    package = Text(128, required=True, metadata={"description": "`prepay_id=wx…`"})
    signType = Choice(("RSA",), required=True)  # noqa: N815
    paySign = Text(1024, required=True)  # noqa: N815


class WechatPaymentSchema(Sent):
    mchid = fields.String()
    out_trade_no = fields.String()
    transaction_id = fields.String()
    trade_state = fields.String()
    payment_id = fields.String(allow_none=True)
    order_id = fields.String()
    amount = fields.Integer(metadata={"description": "The order's total, in fen."})
    payer_total = fields.Integer(
        allow_none=True, metadata={"description": "What the shopper paid."}
    )


class NotificationSchema(WebhookDeliverySchema):
    channel = fields.String(
        metadata={"description": "`wechatpay` (payments, refunds) or `wechatpay_coupon` (商家券)."}
    )
    url = fields.String(metadata={"description": "The merchant's notify_url or callback url."})
    notification_type = fields.Function(
        lambda delivery: json.loads(delivery.body).get("event_type"),
        metadata={
            "type": "string",
            "description": "WeChat's `event_type`: `TRANSACTION.SUCCESS`, `COUPON.SEND`…",
        },
    )
    body = fields.String(
        metadata={
            "description": "The notification exactly as sent (its resource encrypted): what the "
            "SDK's `callback()` is given, with the signature headers of each attempt."
        }
    )


class CashierArgs(Strict):
    prepay_id = fields.String(required=True, validate=validate.Length(min=3, max=64))


class CashierSchema(WechatPaymentSchema):
    prepay_id = fields.String()
    trade_type = fields.String(metadata={"description": "`JSAPI` or `APP`."})
    merchant_name = fields.String()
    description = fields.String()
    payable_amount = fields.Integer(metadata={"description": "What is left to pay, in fen."})
    store_id = fields.String(allow_none=True)


class OpenidArgs(Strict):
    appid = fields.String(required=True, validate=validate.Length(min=1, max=32))


class OpenidSchema(Sent):
    appid = fields.String()
    openid = fields.String()


class BusifavorSendSchema(Strict):
    stock_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{1,20}$"),
        metadata={"description": "The stock's id, as stock create answered it."},
    )
    openid = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The user's openid under the stock merchant's appid."},
    )


class BusifavorSentSchema(Sent):
    coupon_code = fields.String(metadata={"description": "This service's coupon code."})
    stock_id = fields.String()
    openid = fields.String()
    send_time = Timestamp()


@blp.route("/wechatpay/merchants", methods=["POST"])
@blp.doc(operationId="createWechatMerchant")
@require(Role.ADMIN)
@blp.arguments(MerchantCreateSchema)
@idempotent
@blp.response(201, RegisteredMerchantSchema)
def create_merchant(data: dict[str, Any]) -> Any:
    """Register a WeChat Pay merchant; its APIv3 key (and a generated private key) shown once."""
    return wechatpay.register_merchant(data)


@blp.route("/wechatpay/merchants", methods=["GET"])
@blp.doc(operationId="listWechatMerchants")
@require(Role.ADMIN)
@blp.response(200, MerchantListSchema)
def list_merchants() -> Any:
    """List the WeChat Pay merchants, oldest first (no secrets)."""
    return {"items": wechatpay.list_merchants()}


@blp.route("/wechatpay/merchants/<mchid>/notifications", methods=["GET"])
@blp.doc(operationId="listWechatNotifications")
@require(Role.ADMIN)
@blp.arguments(DeliveryListArgs, location="query")
@blp.response(200, page_of(NotificationSchema))
def list_notifications(args: dict[str, Any], mchid: str) -> Any:
    """List the notifications to a merchant with their attempts, newest first."""
    status = args.get("status")
    return wechatpay.list_notifications(mchid, status, args["limit"], args.get("cursor"))


@blp.route("/wechatpay/platform", methods=["GET"])
@blp.doc(operationId="getWechatPlatform")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.response(200, PlatformSchema)
def get_platform() -> Any:
    """The platform certificate, public key and CA a merchant's SDK trusts (nothing secret)."""
    return wechatpay.platform()


@blp.route("/wechatpay/code-url/pay", methods=["POST"])
@blp.doc(operationId="payWechatCodeUrl")
@require(Role.SHOPPER)
@blp.arguments(CodeUrlPaySchema)
@idempotent
@blp.response(200, WechatPaymentSchema)
def pay_code_url(data: dict[str, Any]) -> Any:
    """Pay a Native trade's `code_url` (or the payment an H5 trade's `h5_url` opens), as
    scanning it in WeChat would."""
    return wechatpay.pay_code_url(current_principal(), data["code_url"], data["coupon_code"])


@blp.route("/wechatpay/cashier/pay", methods=["POST"])
@blp.doc(operationId="payWechatPrepay")
@require(Role.SHOPPER)
@blp.arguments(CashierPaySchema)
@idempotent
@blp.response(200, WechatPaymentSchema)
def pay_prepay(data: dict[str, Any]) -> Any:
    """Pay a JSAPI trade with what `wx.requestPayment` is given, or an APP trade with what the
    app hands WeChat; the `paySign` must verify with the merchant's public key."""
    return wechatpay.pay_prepay(current_principal(), data)


@blp.route("/wechatpay/cashier", methods=["GET"])
@blp.doc(operationId="getWechatCashier")
@require(Role.SHOPPER)
@blp.arguments(CashierArgs, location="query")
@blp.response(200, CashierSchema)
def get_cashier(args: dict[str, Any]) -> Any:
    """What the mock cashier shows before the shopper pays a prepay_id."""
    return wechatpay.cashier(current_principal(), args["prepay_id"])


@blp.route("/wechatpay/openid", methods=["GET"])
@blp.doc(operationId="getWechatOpenid")
@require(Role.SHOPPER)
@blp.arguments(OpenidArgs, location="query")
@blp.response(200, OpenidSchema)
def get_openid(args: dict[str, Any]) -> Any:
    """The caller's openid under an appid: stable, as a merchant's mini-program would get it."""
    return wechatpay.openid(current_principal(), args["appid"])


@blp.route("/wechatpay/busifavor/send", methods=["POST"])
@blp.doc(operationId="sendWechatBusifavorCoupon")
@require(Role.ADMIN, Role.SHOPPER)
@blp.arguments(BusifavorSendSchema)
@idempotent
@blp.response(201, BusifavorSentSchema)
def send_busifavor_coupon(data: dict[str, Any]) -> Any:
    """Send one coupon of a merchant coupon stock to a user, as WeChat's mini-program would."""
    return wechatpay.send_coupon(current_principal(), data["stock_id"], data["openid"])
