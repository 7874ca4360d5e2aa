"""The OpenAPI document beyond what the schemas say: each operation's prose, error codes, links.

flask-smorest builds paths and components from the views and schemas; `document` then adds, by
operationId, what OpenAPI 3.0 cannot say in a schema (who may call, which fields go together),
the error responses each operation can give (from ErrorCode, by one rule plus the codes its
service raises), the `Idempotent-Replayed` header, and the links of the purchase flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Flask

from o2o.api.idempotency import REPLAYED_HEADER
from o2o.extensions import Api
from o2o.vocabulary import ErrorCode, Role

E = ErrorCode
METHODS = ("get", "post", "patch", "put", "delete")

INFO_DESCRIPTION = (
    "The O2O coupon-and-payment service: a retailer publishes coupon campaigns, shoppers claim "
    "coupons and carry them as QR codes, and clerks in store scan them and take mock payments "
    "(WeChat Pay, Alipay, card), or shoppers pay online; every payment is tied to the coupon it "
    "used. Every call authenticates with `Authorization: Bearer <api key>`; a key has one role, "
    "`admin` (the merchant's operator), `clerk` (bound to one store) or `shopper`, and each "
    "operation's description says which roles may call it. Money is always an integer number "
    "of fen (39900 is ¥399.00), never a float; times are RFC 3339, sent back in UTC with `Z`. "
    "Every POST accepts an `Idempotency-Key` (Stripe semantics: a retry with the same key and "
    "body replays the first response, with `Idempotent-Replayed: true`). Errors are always the "
    "envelope `{error: {code, message, details}}`; each response lists the codes it may carry. "
    "The sandbox operations exist only when the service runs with O2O_SANDBOX=1. The guides "
    "are in the repository's docs/ folder: architecture, idempotency, input, operations, "
    "security."
)
SERVERS = [{"url": "/", "description": "This server (every path starts with /api/v1)."}]

IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Stripe semantics: the same key and body within 24 h replays the first "
    "response (header Idempotent-Replayed: true); another body is "
    f"{E.IDEMPOTENCY_KEY_REUSED.status} {E.IDEMPOTENCY_KEY_REUSED.code}; "
    "a request still running is "
    f"{E.IDEMPOTENCY_KEY_IN_USE.status} {E.IDEMPOTENCY_KEY_IN_USE.code}.",
}
REPLAYED = {
    "description": "`true` when this response is the replay of the first one given to the same "
    "Idempotency-Key; absent otherwise.",
    "schema": {"type": "string", "enum": ["true"]},
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}
ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}

# What any operation may answer, whatever it does: no key or an unknown one; a NUL or a lone
# surrogate in a header, the path or the query; too many requests; the database away.
EVERY_OPERATION = (E.UNAUTHENTICATED, E.VALIDATION_ERROR, E.RATE_LIMITED, E.SERVICE_UNAVAILABLE)
WITH_BODY = (E.BAD_REQUEST,)  # the body is not JSON, or not an object
WITH_PATH_ID = (E.NOT_FOUND,)  # unknown id (or another shopper's object)
NARROWER_ROLES = (E.FORBIDDEN,)  # a key of a role the operation does not serve (else: listed)
POST = (E.IDEMPOTENCY_KEY_IN_USE, E.IDEMPOTENCY_KEY_REUSED)
# The HTTP layer, for any operation: the `default` response.
HTTP_LAYER = (
    E.METHOD_NOT_ALLOWED,
    E.PAYLOAD_TOO_LARGE,
    E.URI_TOO_LONG,
    E.UNSUPPORTED_MEDIA_TYPE,
    E.REQUEST_HEADER_TOO_LARGE,
    E.HTTP_ERROR,
    E.INTERNAL_ERROR,
)
# Answered before the view runs, or not to be replayed: these never carry Idempotent-Replayed.
NEVER_REPLAYED = {"401", "429", "503", "default"}


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


COUPON_CODE = "$response.body#/code"
ORDER_ID = "$response.body#/id"
PAYMENT_ID = "$response.body#/id"
CAMPAIGN_ID = "$response.body#/id"


@dataclass(frozen=True)
class Doc:
    """One operation's description, the codes its service may raise, its links by status."""

    description: str
    errors: tuple[ErrorCode, ...] = ()
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


_ORDER_LINKS = {
    "CreatePayment": _link("createPayment", "Pay this order.", order_id=ORDER_ID),
    "GetOrder": _link("getOrder", "Read this order again.", order_id=ORDER_ID),
    "CancelOrder": _link("cancelOrder", "Cancel this order.", order_id=ORDER_ID),
}
_PAYMENT_LINKS = {
    "GetPayment": _link("getPayment", "Poll this payment.", payment_id=PAYMENT_ID),
    "ConfirmPayment": _link(
        "confirmPayment", "The shopper pays it (shopper_scan).", payment_id=PAYMENT_ID
    ),
    "GetPaymentQr": _link(
        "getPaymentQr", "The merchant's QR (shopper_scan).", payment_id=PAYMENT_ID
    ),
    "CreateRefund": _link("createRefund", "Refund it once succeeded.", payment_id=PAYMENT_ID),
}
_QR_TOKEN = "{$response.body#/token}"
_CAMPAIGN_LINKS = {
    "ClaimCoupon": _link(
        "claimCoupon", "A shopper claims one of its coupons.", campaign_id=CAMPAIGN_ID
    ),
    "GetCampaign": _link("getCampaign", "Read the campaign again.", campaign_id=CAMPAIGN_ID),
    "UpdateCampaign": _link("updateCampaign", "Pause, end or grow it.", campaign_id=CAMPAIGN_ID),
    "GetCampaignStats": _link("getCampaignStats", "Its funnel.", campaign_id=CAMPAIGN_ID),
}

OPERATIONS: dict[str, Doc] = {
    # -- stores and people
    "createStore": Doc("Opens a store. `address` is optional (null when not given)."),
    "listStores": Doc("Lists stores, newest first, a page at a time (`limit`, `cursor`)."),
    "createClerk": Doc(
        "Creates a clerk bound to one existing store (`store_id`; an unknown one is a "
        "validation_error on that field). The response carries the clerk's API key: it is "
        "shown this once and stored only hashed."
    ),
    "createShopper": Doc(
        "Registers a shopper (`phone` optional). The response carries the shopper's API key: "
        "it is shown this once and stored only hashed."
    ),
    "rotateClerkKey": Doc(
        "Issues the clerk a new API key, shown once. The keys it replaces keep working for "
        "O2O_KEY_OVERLAP_SECONDS (`previous_key_expires_at`), so devices can switch over. "
        "Takes no body, or `{}`."
    ),
    "revokeClerkKeys": Doc("Revokes every API key of the clerk at once; answers 204, no body."),
    "rotateShopperKey": Doc(
        "Issues the shopper a new API key, shown once. The keys it replaces keep working for "
        "O2O_KEY_OVERLAP_SECONDS (`previous_key_expires_at`). Takes no body, or `{}`."
    ),
    "revokeShopperKeys": Doc("Revokes every API key of the shopper at once; answers 204, no body."),
    "getStore": Doc(
        "Shows one store to an admin, or to a clerk of that store; a clerk asking for any other "
        "store id gets 403 whether or not it exists.",
    ),
    "getStoreStatement": Doc(
        "A store's day statement, for an admin or a clerk of that store (a clerk asking for any "
        "other store id gets 403 whether or not it exists; shoppers 403): every payment that "
        "succeeded (by its `succeeded_at`) and every refund made (by its `created_at`) at the "
        "store on `date`, a day in O2O_TIMEZONE (default Asia/Shanghai; `starts_at`/`ends_at` "
        "give its bounds in UTC), oldest first, with totals (counts and fen: paid, refunded, "
        "net) by method, by flow and overall. A refund counts under its payment's method and "
        "flow on the day it was made. Failed, canceled and pending attempts moved no money and "
        "are not listed (listPayments has them). `format=csv` answers text/csv (UTF-8, as an "
        "attachment): the columns type, id, time (local, with its offset), method, flow, "
        "order_id, payment_id, coupon_code, amount_fen, refunded_fen, net_fen, paid_count, "
        "refunded_count; a row per payment and refund, then `total` rows per method, per flow "
        "and for `all`. A malformed `date` is a validation_error on it.",
    ),
    "listClerks": Doc(
        "Lists clerks (admin only), newest first, a page at a time; `store_id` keeps one "
        "store's. Never shows API keys: a key is shown only when it is issued."
    ),
    "listShoppers": Doc(
        "Lists shoppers (admin only), newest first, a page at a time. Never shows API keys: a "
        "key is shown only when it is issued."
    ),
    # -- campaigns
    "createCampaign": Doc(
        "Publishes a coupon campaign. `discount` is one of three shapes, chosen by its `type` "
        "(only that type's fields are allowed). At least one of `valid_until` (absolute) or "
        "`valid_days_after_claim` (relative to the claim, after `wait_days_after_claim`, "
        "clipped to `valid_until`) is required; `valid_from` < `valid_until` and "
        "`claim_starts_at` < `claim_ends_at` when both are given; `store_ids` must name "
        "existing stores; `channels` lists each channel once.",
        links={"201": _CAMPAIGN_LINKS},
    ),
    "listCampaigns": Doc(
        "Lists campaigns, newest first, a page at a time; `status` filters. With "
        "`claimable=true` (shoppers only; another role gets 403) it keeps the active campaigns "
        "the calling shopper can claim now.",
        (E.FORBIDDEN,),
    ),
    "getCampaign": Doc("Shows one campaign, with its claimed and redeemed counts."),
    "updateCampaign": Doc(
        "Renames a campaign, changes its status, or grows its total quantity (it may only "
        "grow). Status moves: draft → active or ended; active ⇄ paused; any → ended, which is "
        "final. A move the campaign's status does not allow is a validation_error on `status`."
    ),
    "claimCoupon": Doc(
        "Claims one coupon of an active campaign for the calling shopper. The body is optional "
        "(no body, or `{}`: `channel` defaults to `app`). Claims are atomic: a campaign never "
        "hands out more than `total_quantity`, a shopper never more than `per_shopper_limit`, "
        "however many requests race; `claim_contention` asks to retry (nothing is stored "
        "under the Idempotency-Key).",
        (
            E.CAMPAIGN_NOT_ACTIVE,
            E.CAMPAIGN_EXHAUSTED,
            E.PER_SHOPPER_LIMIT_REACHED,
            E.CLAIM_CONTENTION,
        ),
        {
            "201": {
                "GetCoupon": _link("getCoupon", "Read the coupon.", code=COUPON_CODE),
                "CreateQrToken": _link(
                    "createQrToken", "Mint a QR token for the till.", code=COUPON_CODE
                ),
                "GetCouponQr": _link("getCouponQr", "The coupon's QR image.", code=COUPON_CODE),
                "ListCouponEvents": _link(
                    "listCouponEvents", "The coupon's history.", code=COUPON_CODE
                ),
            }
        },
    ),
    "getCampaignStats": Doc(
        "The campaign's funnel (coupons by their status now), its discount total and GMV (net "
        "of refunds), by channel and by store."
    ),
    # -- coupons
    "listMyCoupons": Doc(
        "Lists the calling shopper's own coupons, newest first, a page at a time; `status` "
        "filters by the coupon's status now."
    ),
    "getCoupon": Doc(
        "Shows a coupon to its owner or an admin; another shopper gets 404, as for an unknown "
        "code. Codes are case-insensitive, and stray spaces or dashes are ignored."
    ),
    "createQrToken": Doc(
        "Mints a short-lived signed token (O2O_QR_TOKEN_TTL, default 300 s) naming the coupon, "
        "for its owner or an admin: what the coupon's QR encodes, and what the clerk's "
        "`qr_token` is. Every unexpired token is valid; only an available (or reserved) coupon "
        "gets one.",
        (E.COUPON_NOT_AVAILABLE,),
        {
            "200": {
                "ScanCoupon": {
                    "operationId": "scanCoupon",
                    "requestBody": {"qr_token": _QR_TOKEN},
                    "description": "The clerk scans the token (add `amount`).",
                },
                "CreateOrder": {
                    "operationId": "createOrder",
                    "requestBody": {"qr_token": _QR_TOKEN},
                    "description": "The clerk checks out with the token (add `amount`).",
                },
            }
        },
    ),
    "getCouponQr": Doc(
        "The coupon's QR image, for its owner or an admin: PNG by default, SVG with "
        "`format=svg`. Decoding it with any QR reader yields exactly a fresh QR token.",
        (E.COUPON_NOT_AVAILABLE,),
    ),
    "listCouponEvents": Doc(
        "The coupon's append-only history, oldest first, for its owner or an admin."
    ),
    "listCampaignCoupons": Doc(
        "Lists a campaign's coupons (admin only), newest claim first, a page at a time; "
        "`status` filters by the coupon's status now (a lapsed one is found under `expired`)."
    ),
    "voidCoupon": Doc(
        "Voids a coupon (admin only) so that it can never be used: it must read `available` "
        "now. A reserved coupon (its order awaits payment: cancel the order first), a redeemed, "
        "expired or already voided one is 409 coupon_not_available. Writes the `voided` history "
        "row; the body is optional (`reason`, up to 255 characters).",
        (E.COUPON_NOT_AVAILABLE,),
    ),
    # -- checkout
    "scanCoupon": Doc(
        "A clerk's dry run at the till: would the coupon of this `qr_token` apply to `amount` "
        "in the clerk's store? Changes nothing; `reasons` say why not. `store_id`, if given, "
        "must be the clerk's own store (another is 403).",
        (E.INVALID_QR_TOKEN, E.QR_TOKEN_EXPIRED),
    ),
    "scanImage": Doc(
        "Reads the QR code in a photo or screenshot (multipart/form-data: `image`, and "
        "`amount` in fen when it is a coupon's QR) and answers what it holds, in `decoded`: "
        "`kind` and the `text` read. `coupon` (a coupon's QR token; clerks only, a shopper "
        "is 403): the scan of scanCoupon with that token, `amount` and `store_id`, in the same "
        "fields. `payment_code` (digits): `valid_shape`, whether they have a payment code's "
        "shape, never whether it was issued. `merchant` (the QR of a shopper_scan payment, "
        "clerks and shoppers): its `payment_id` and `wallet_url`, the wallet page that pays it. "
        "The scan fields are null for the last two. The photo is turned upright by its EXIF "
        "orientation and downscaled; at most O2O_SCAN_IMAGE_MAX_BYTES (default 8 MiB, else 413) "
        "and O2O_SCAN_IMAGE_MAX_PIXELS (default 50 million, else 413). A file that is not a "
        "whole JPEG, PNG, WebP, GIF or BMP image is a validation_error on `image`; a body that "
        "is not multipart/form-data is 415. Limited with scanCoupon (`scans`). Changes nothing.",
        (
            E.NO_CODE_FOUND,
            E.UNRECOGNIZED_CODE,
            E.PAYLOAD_TOO_LARGE,
            E.INVALID_QR_TOKEN,
            E.QR_TOKEN_EXPIRED,
        ),
    ),
    "createOrder": Doc(
        "Checks out. A clerk orders in store (`channel: in_store`, in the clerk's store) and may "
        "send `qr_token` (the coupon's QR) but never `coupon_code`; a shopper orders online "
        "(`channel: online`) and may send `coupon_code` (one of their own coupons) and "
        "`store_id`, but never `qr_token`. The wrong field for the role is a validation_error "
        "on it. The coupon is reserved for the order until it is paid (redeemed), canceled or "
        "expires (O2O_ORDER_TTL, default 900 s).",
        (
            E.INVALID_QR_TOKEN,
            E.QR_TOKEN_EXPIRED,
            E.COUPON_NOT_AVAILABLE,
            E.COUPON_NOT_APPLICABLE,
        ),
        {"201": _ORDER_LINKS},
    ),
    "getOrder": Doc(
        "Shows an order to its shopper, to clerks of its store and to admins, and to a shopper "
        "who may see one of its shopper_scan payments (getPayment): a walk-in's order, while "
        "its merchant QR awaits a payer, to any shopper; then to that payer. Another shopper "
        "gets 404, as for an unknown id; a clerk of another store 403.",
        (E.FORBIDDEN,),
        {"200": _ORDER_LINKS},
    ),
    "cancelOrder": Doc(
        "Cancels an order still awaiting payment (its shopper, a clerk of its store, an admin); "
        "its coupon becomes available again. Takes no body, or `{}`.",
        (E.FORBIDDEN, E.ORDER_NOT_CANCELABLE),
    ),
    # -- lists that reconcile
    "listOrders": Doc(
        "Lists orders newest first (by `created_at`, then id), a page at a time: a shopper's own, "
        "a clerk's store's, every order for an admin. `status` (as it reads now), `store_id`, "
        "`shopper_id` and the exclusive bounds `created_after` / `created_before` narrow that "
        "scope; a `store_id` or `shopper_id` outside it finds nothing, exactly as an unknown "
        "id does."
    ),
    "listPayments": Doc(
        "Lists payments newest first, a page at a time: a shopper's (those they paid, or that "
        "paid their orders), a clerk's store's orders', every payment for an admin. `store_id` "
        "and `shopper_id` filter through the payment's order (and its payer), `status` is the "
        "payment's as stored: a pending mock payment past its delay settles on getPayment. "
        "A filter outside the caller's scope finds nothing."
    ),
    "listRefunds": Doc(
        "Lists refunds newest first, a page at a time, of the payments the caller may list "
        "(as listPayments scopes them): `store_id` and `shopper_id` filter through the "
        "payment's order, `created_after` / `created_before` are exclusive. A filter outside "
        "the caller's scope finds nothing."
    ),
    # -- payments
    "getPaymentCode": Doc(
        "A one-time 18-digit payment code (like a WeChat Pay 付款码) for the shopper to show at "
        "the till, valid O2O_PAYMENT_CODE_TTL (default 60 s): the clerk's `auth_code` in a "
        "clerk_scan payment. With `?qr=png` the answer adds `qr`, the same code as a QR image "
        "(a PNG data URL) for a till's scanner."
    ),
    "createPayment": Doc(
        "Pays an order through one of three flows, each for one role (another role is 403). "
        "`clerk_scan` (clerk, in-store order): `auth_code` is required, the shopper's payment "
        "code; it settles at once. `shopper_scan` (clerk, in-store order): no `auth_code`; the "
        "payment is `pending` with a `qr_url` that the shopper scans and pays with "
        "confirmPayment. `online` (shopper, their online order): no `auth_code`. `qr_url` is "
        "null except for shopper_scan. The header O2O-Mock-Outcome chooses the mock provider's "
        "answer: `declined` and `insufficient_funds` give a 201 `failed` payment with that "
        "`failure_code` (the order stays payable); `user_paying` and `timeout` give `pending`, "
        "which succeeds, or fails with `timeout`, on the first getPayment after "
        "O2O_MOCK_PAYING_SECONDS. On `succeeded` the order is paid and its coupon redeemed.",
        (E.ORDER_NOT_PAYABLE, E.INVALID_PAYMENT_CODE),
        {"201": _PAYMENT_LINKS},
    ),
    "getPayment": Doc(
        "Shows a payment to its payer, to the order's shopper, to clerks of its store and to "
        "admins; a pending shopper_scan payment that nobody has confirmed yet, of an order "
        "without a shopper (a walk-in's: a clerk's order without a coupon), to any shopper, "
        "since whoever scans the merchant QR pays it (payment ids are random: the QR is what "
        "hands one over). Another shopper gets 404, as for an unknown id; a clerk of another "
        "store 403. A pending mock payment settles here once its delay has passed.",
        (E.FORBIDDEN,),
    ),
    "confirmPayment": Doc(
        "The shopper pays a pending `shopper_scan` payment after scanning the merchant's QR: "
        "one of their own order, or of a walk-in's order (no shopper), which the first "
        "shopper to confirm pays (and becomes its order's shopper when it succeeds). A payment "
        "the shopper may not see (getPayment) is 404, as an unknown id; one they see but that "
        "is not awaiting a payer is 409 payment_not_pending. O2O-Mock-Outcome chooses the "
        "answer as for createPayment. Takes no body, or `{}`. A payment a WeChat Pay sandbox "
        "trade waits for is 403 forbidden here: its outcome is the sandbox's, and it is paid "
        "with payWechatCodeUrl or payWechatPrepay.",
        (E.PAYMENT_NOT_PENDING, E.ORDER_NOT_PAYABLE, E.FORBIDDEN),
    ),
    "getPaymentQr": Doc(
        "The merchant's QR for a payment (whoever may see it, as getPayment): a PNG "
        "encoding the wallet's link `<O2O_PUBLIC_URL>/wallet/pay/<id>`, which a phone's camera "
        "opens on the wallet's confirm screen (it then calls confirmPayment).",
        (E.FORBIDDEN,),
    ),
    "createRefund": Doc(
        "Refunds part or all of what is left of a succeeded payment (admin, or a clerk of the "
        "order's store); `amount` defaults to all that is left. A full refund of a campaign "
        "with `restore_on_refund` gives the coupon back if it is still valid. The body is "
        "optional. The `O2O-Mock-Outcome` header scripts the mock provider: `success` (the "
        "default), or `declined` / `account_abnormal`, which answer 201 with a refund of "
        "status `failed` and that `failure_code` (event refund.failed): no money moves, the "
        "order and coupon are untouched and the payment stays refundable.",
        (E.PAYMENT_NOT_REFUNDABLE, E.REFUND_EXCEEDS_PAYMENT),
    ),
    # -- events
    "listEvents": Doc(
        "Lists events (admin only), newest first, a page at a time (`limit`, `cursor`): one "
        "per state change, written with it, never changed. `type` keeps exact types "
        "(repeated and/or comma-separated; an unknown type is a validation_error on `type`); "
        "`created_after` and `created_before` (RFC 3339 with an offset, both exclusive) "
        "bound the change's service time. Reads never create events."
    ),
    "getEvent": Doc(
        "Shows one event (admin only): `{id, type, created_at, data: {object}}`, the object "
        "exactly as the API returned it at the change."
    ),
    # -- webhooks
    "createWebhookEndpoint": Doc(
        "Registers a webhook endpoint: every event whose type matches one of `events` (exact "
        "types, `<object>.*`, or `*`) is POSTed to `url`, signed as Standard Webhooks "
        "(headers webhook-id, webhook-timestamp, webhook-signature). Only http and https URLs; "
        "outside sandbox mode a host that is, or resolves to, a loopback, private or link-local "
        "address is a validation_error on `url` (unless O2O_WEBHOOK_ALLOW_PRIVATE=1). The "
        "response carries the signing secret (`whsec_…`): shown this once and stored sealed. "
        "The endpoint receives events that happen from now on."
    ),
    "listWebhookEndpoints": Doc(
        "Lists webhook endpoints, newest first, a page at a time (`limit`, `cursor`); secrets "
        "are never shown."
    ),
    "getWebhookEndpoint": Doc("Shows one webhook endpoint (never its secret)."),
    "updateWebhookEndpoint": Doc(
        "Changes an endpoint's `url`, `events`, `description` or `status`: `disabled` stops "
        "sending (due attempts wait), `enabled` resumes. The same rules as at registration "
        "apply to `url` and `events`."
    ),
    "deleteWebhookEndpoint": Doc(
        "Removes a webhook endpoint and its delivery log; nothing more is sent to it. Answers "
        "204, no body."
    ),
    "rotateWebhookSecret": Doc(
        "Gives the endpoint a new signing secret, shown once. For "
        "O2O_WEBHOOK_ROTATION_OVERLAP_SECONDS (default 24 h) of service time deliveries carry "
        "two signatures, under the new secret first and the replaced one, so receivers can "
        "switch over; after that only the new one. Takes no body, or `{}`."
    ),
    "listWebhookDeliveries": Doc(
        "The endpoint's delivery log, newest first, a page at a time; `status` filters "
        "(`pending`, `succeeded`, `failed`). Each delivery lists its attempts with their "
        "service time, status code (null when there was no answer), duration, the first 1 KiB "
        "of the answer and, for timeouts and connection errors, the error; `next_attempt_at` "
        "(service time) is null unless the delivery is pending."
    ),
    "redeliverEvent": Doc(
        "Queues a fresh delivery of the event, with the same webhook-id and the same body: to "
        "`endpoint_id` if given (an unknown one is 404), else to every enabled endpoint whose "
        "patterns match the event. Answers 202 with the deliveries queued. The body is "
        "optional."
    ),
    # -- the WeChat Pay sandbox
    "createWechatMerchant": Doc(
        "Registers a WeChat Pay merchant (直连商户) whose unchanged `wechatpayv3` code may call "
        "the /v3/ gateway: its stores, its mode (`certificate` or `public_key`) and, optionally, "
        "its own RSA public key. The response shows once the APIv3 key (32 ASCII characters) "
        "and, when no public key was uploaded, a generated private key (PKCS#8 PEM); also the "
        "merchant certificate, the platform's certificate and public key, and the arguments to "
        "paste into `WeChatPay(...)`. A `mchid` already registered is merchant_exists (409).",
        errors=(ErrorCode.MERCHANT_EXISTS,),
    ),
    "listWechatMerchants": Doc("Lists the WeChat Pay merchants, oldest first; no secrets."),
    "getWechatPlatform": Doc(
        "The platform certificate (and its serial), the platform public key (and its "
        "`PUB_KEY_ID_…`) and the CA that signed them: what a merchant's SDK trusts. Made once "
        "per installation; the serial never changes."
    ),
    "payWechatCodeUrl": Doc(
        "The shopper pays a Native trade's `code_url` (`weixin://wxpay/bizpayurl?pr=…`), as "
        "scanning it in WeChat would: the trade's outcome (a magic amount, or one chosen with "
        "POST /sandbox/outcomes) decides success or failure. An unknown code_url is not_found; "
        "one paid already is payment_not_pending.",
        errors=(ErrorCode.NOT_FOUND, ErrorCode.PAYMENT_NOT_PENDING),
    ),
    "payWechatPrepay": Doc(
        "The shopper pays a JSAPI trade at the mock cashier with what the merchant's page gives "
        "`wx.requestPayment` (`appId`, `timeStamp`, `nonceStr`, `package` = `prepay_id=…`, "
        "`signType` RSA, `paySign` from the SDK's `sign()`); a paySign that does not verify with "
        "the merchant's public key is a validation_error. Only the shopper behind the trade's "
        "`payer.openid` may pay it. An APP trade is paid with the same fields, its `paySign` "
        "the app's signature over `appid`, `timestamp`, `noncestr` and the bare prepay id; any "
        "shopper may pay it.",
        errors=(ErrorCode.NOT_FOUND,),
    ),
    "listWechatNotifications": Doc(
        "The notifications this service sent, or will send, to a merchant — TRANSACTION.SUCCESS, "
        "REFUND.*, COUPON.SEND — newest first, each with its attempts (status code, time, the "
        "first 1 KiB of the answer) from the one delivery log the webhooks use, and its body "
        "exactly as sent. `status` filters: pending, succeeded, failed. An unknown mchid is "
        "not_found.",
        errors=(ErrorCode.NOT_FOUND,),
    ),
    "getWechatCashier": Doc(
        "What the mock cashier (/wallet/cashier) shows the shopper before they pay a JSAPI or "
        "APP trade's `prepay_id`: the merchant, the description, the amounts and the trade's "
        "state. A JSAPI trade is shown only to the shopper behind its `payer.openid`; anything "
        "else is not_found.",
        errors=(ErrorCode.NOT_FOUND,),
    ),
    "getWechatOpenid": Doc(
        "The caller's openid under `appid`: stable, derived from the shopper, and the one a "
        "merchant passes as `payer.openid`."
    ),
    "sendWechatBusifavorCoupon": Doc(
        "Sends one coupon of a WeChat Pay merchant coupon stock (商家券, made by the merchant's "
        "`marketing_busifavor_stock_create`) to the user behind `openid`, as WeChat's "
        "mini-program does: a claim of the stock's campaign with channel `mini_program`, within "
        "its budget and per-user limit; the merchant's callback url then gets COUPON.SEND. A "
        "shopper sends only to their own openid under the stock merchant's appid (another's is "
        "forbidden); an admin to any known openid. An unknown stock or openid is not_found.",
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.FORBIDDEN,
            ErrorCode.CAMPAIGN_NOT_ACTIVE,
            ErrorCode.CAMPAIGN_EXHAUSTED,
            ErrorCode.PER_SHOPPER_LIMIT_REACHED,
        ),
    ),
    # -- sandbox
    "getSandboxClock": Doc(
        "Reads the sandbox clock, which every time rule of the service reads; the first read "
        "starts it, frozen at the real time. Only with O2O_SANDBOX=1."
    ),
    "setSandboxClock": Doc(
        "Sets the sandbox clock: exactly one of `now` (freeze it there) or `advance_seconds` "
        '(move it forward), optionally with `mode: frozen`; or `{"mode": "real"}` alone '
        'to follow the real clock again, or `{"mode": "frozen"}` alone to freeze it where '
        "it is. The clock never goes past the year 9000. Only with O2O_SANDBOX=1."
    ),
    "chooseWechatOutcome": Doc(
        "Chooses the outcome of a WeChat Pay merchant's next /v3/ payment, or of the one with "
        "`out_trade_no`: it wins over the magic amounts and is used up by that payment. Only "
        "with O2O_SANDBOX=1.",
        errors=(ErrorCode.NOT_FOUND,),
    ),
}


def spec_options() -> dict[str, Any]:
    """What make_api puts at the top of the document."""
    return {"info": {"description": INFO_DESCRIPTION}, "servers": SERVERS}


def document(api: Api, app: Flask) -> None:
    """Complete every operation of `api`'s spec (its blueprints registered) from OPERATIONS."""
    roles = _roles_by_operation(app)
    for path, operations in api.spec._paths.items():
        for method, operation in operations.items():
            if method not in METHODS:  # the path item's own `parameters`
                continue
            operation_id = operation.get("operationId")
            if operation_id not in OPERATIONS:
                raise RuntimeError(f"{method.upper()} {path}: no entry in o2o.api.openapi")
            doc = OPERATIONS[operation_id]
            allowed = roles[(method.upper(), path)]
            who = ", ".join(f"`{role}`" for role in allowed)
            operation["description"] = f"**Roles:** {who}.\n\n{doc.description}"
            if method == "post":
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
            codes = _errors(method, path, operation, doc, narrower=set(allowed) != set(Role))
            _respond(operation, codes, replayable=method == "post")
            for status, links in doc.links.items():
                operation["responses"][status]["links"] = links
    api.spec.components.header(REPLAYED_HEADER, REPLAYED)
    api.spec.components.header("Retry-After", RETRY_AFTER)
    # flask-smorest's own, unused now that each operation lists its errors
    api.spec.components.schemas.pop("PaginationMetadata", None)
    for name in ("UNPROCESSABLE_ENTITY", "DEFAULT_ERROR"):
        api.spec.components.responses.pop(name, None)


def _roles_by_operation(app: Flask) -> dict[tuple[str, str], tuple[str, ...]]:
    """(METHOD, path as the spec writes it) → the roles its view serves (o2o.api.auth.require)."""
    found = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        roles = getattr(app.view_functions[rule.endpoint], "o2o_roles", ())
        for method in rule.methods or ():
            found[(method, path)] = tuple(roles)
    return found


def _errors(
    method: str, path: str, operation: dict[str, Any], doc: Doc, *, narrower: bool
) -> list[ErrorCode]:
    """The error codes an operation may answer: the rule's, then its service's."""
    codes = [*EVERY_OPERATION, *doc.errors]
    codes += WITH_BODY if "requestBody" in operation else ()
    codes += WITH_PATH_ID if "{" in path else ()
    codes += NARROWER_ROLES if narrower else ()
    codes += POST if method == "post" else ()
    return sorted(set(codes), key=lambda code: (code.status, list(ErrorCode).index(code)))


def _respond(operation: dict[str, Any], codes: list[ErrorCode], *, replayable: bool) -> None:
    """Replace flask-smorest's generic error responses with one per status, naming its codes."""
    responses = {
        status: response
        for status, response in operation["responses"].items()
        if status.startswith("2")
    }
    for status in sorted({code.status for code in codes}):
        listed = [code for code in codes if code.status == status]
        responses[str(status)] = _error_response(HTTPStatus(status).phrase, listed)
    responses["default"] = _error_response("Any other error of the HTTP layer", HTTP_LAYER)
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        if status in ("429", "503"):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if replayable and status not in NEVER_REPLAYED:
            headers[REPLAYED_HEADER] = {"$ref": f"#/components/headers/{REPLAYED_HEADER}"}
        if not headers:
            del response["headers"]
    operation["responses"] = responses


def _error_response(title: str, codes: tuple[ErrorCode, ...] | list[ErrorCode]) -> dict[str, Any]:
    lines = [f"- `{code.code}`{_status_of(code)}: {code.message}" for code in codes]
    return {
        "description": f"{title}. Error codes:\n\n" + "\n".join(lines),
        "content": ENVELOPE,
        "x-error-codes": [code.code for code in codes],
    }


def _status_of(code: ErrorCode) -> str:
    return f" ({code.status})" if code in HTTP_LAYER and code is not E.HTTP_ERROR else ""
