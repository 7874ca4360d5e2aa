"""The service's words, declared once: roles, channels, statuses, flows, reasons, error codes."""

from __future__ import annotations

from enum import Enum, StrEnum


class Role(StrEnum):
    """The role of an API key."""

    ADMIN = "admin"
    CLERK = "clerk"
    SHOPPER = "shopper"


class ClockMode(StrEnum):
    """How the sandbox clock moves: held where it was set, or with the real clock."""

    FROZEN = "frozen"
    REAL = "real"


class ActorRole(StrEnum):
    """Who made a coupon move: a key's role, or the service itself (housekeeping)."""

    ADMIN = "admin"
    CLERK = "clerk"
    SHOPPER = "shopper"
    SYSTEM = "system"


class Channel(StrEnum):
    """Where an order is placed and a coupon may be used."""

    IN_STORE = "in_store"
    ONLINE = "online"


class ClaimChannel(StrEnum):
    """Where a shopper claimed a coupon."""

    APP = "app"
    PUBLIC_ACCOUNT = "public_account"
    IN_STORE = "in_store"
    MINI_PROGRAM = "mini_program"  # a WeChat Pay merchant coupon (商家券) sent in a mini-program


class DiscountType(StrEnum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    EXCHANGE = "exchange"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class CouponStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOIDED = "voided"


class CouponEventType(StrEnum):
    """The types of a coupon's history rows: its claim, then each move."""

    CLAIMED = "claimed"
    RESERVED = "reserved"
    RELEASED = "released"
    REDEEMED = "redeemed"
    RESTORED = "restored"
    EXPIRED = "expired"
    VOIDED = "voided"


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class PaymentMethod(StrEnum):
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    CARD = "card"


class PaymentFlow(StrEnum):
    """clerk_scan: the clerk scans the shopper's payment code; shopper_scan: the shopper scans
    the merchant's QR; online: the shopper pays in the app."""

    CLERK_SCAN = "clerk_scan"
    SHOPPER_SCAN = "shopper_scan"
    ONLINE = "online"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class RefundStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused it: nothing moved


class RefundFailureCode(StrEnum):
    """A failed refund's `failure_code`: why the mock provider refused to give the money back."""

    DECLINED = "declined"  # the provider refuses the refund
    ACCOUNT_ABNORMAL = "account_abnormal"  # the shopper's account cannot take the money back


class PaymentFailureCode(StrEnum):
    """A payment's `failure_code`: the mock provider's refusal, or why the service called it off."""

    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    TIMEOUT = "timeout"
    ORDER_NOT_PAYABLE = "order_not_payable"  # canceled: the order closed while it was pending


class QrFormat(StrEnum):
    """The image formats of a coupon's QR (`?format=`)."""

    PNG = "png"
    SVG = "svg"


class DecodedKind(StrEnum):
    """What a QR code read from a photo holds (POST /scans/image)."""

    COUPON = "coupon"
    PAYMENT_CODE = "payment_code"
    MERCHANT = "merchant"


class MockOutcome(StrEnum):
    """What the mock payment provider is told to answer (header O2O-Mock-Outcome)."""

    SUCCESS = "success"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    USER_PAYING = "user_paying"
    TIMEOUT = "timeout"


class RefundOutcome(StrEnum):
    """What the mock provider is told to answer to a refund (header O2O-Mock-Outcome)."""

    SUCCESS = "success"
    DECLINED = "declined"
    ACCOUNT_ABNORMAL = "account_abnormal"


class EventType(StrEnum):
    """The types of an event (the outbox row each state change writes): `<object>.<change>`."""

    COUPON_CLAIMED = "coupon.claimed"
    COUPON_RESERVED = "coupon.reserved"
    COUPON_RELEASED = "coupon.released"
    COUPON_REDEEMED = "coupon.redeemed"
    COUPON_RESTORED = "coupon.restored"
    COUPON_EXPIRED = "coupon.expired"
    COUPON_VOIDED = "coupon.voided"
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_CANCELED = "order.canceled"
    ORDER_EXPIRED = "order.expired"
    ORDER_REFUNDED = "order.refunded"
    ORDER_PARTIALLY_REFUNDED = "order.partially_refunded"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    CAMPAIGN_CREATED = "campaign.created"
    CAMPAIGN_UPDATED = "campaign.updated"
    CAMPAIGN_EXHAUSTED = "campaign.exhausted"

    @property
    def object_type(self) -> ObjectType:
        """The kind of resource the event's `data.object` is."""
        return ObjectType(self.value.partition(".")[0])


class ObjectType(StrEnum):
    """The resources an event can carry."""

    COUPON = "coupon"
    ORDER = "order"
    PAYMENT = "payment"
    REFUND = "refund"
    CAMPAIGN = "campaign"


class WebhookEndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    """A webhook delivery: waiting for its next attempt, acknowledged, or given up on."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Reason(StrEnum):
    """The codes of `details.reasons`: why a claim, or a coupon's use, cannot happen."""

    # claiming
    CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
    CLAIM_NOT_STARTED = "claim_not_started"
    CLAIM_ENDED = "claim_ended"
    CAMPAIGN_EXPIRED = "campaign_expired"
    CAMPAIGN_EXHAUSTED = "campaign_exhausted"
    COUPON_WOULD_NEVER_BE_VALID = "coupon_would_never_be_valid"
    # using a coupon (also campaign_not_active)
    COUPON_EXPIRED = "coupon_expired"
    COUPON_NOT_AVAILABLE = "coupon_not_available"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    STORE_NOT_ELIGIBLE = "store_not_eligible"
    CHANNEL_NOT_ELIGIBLE = "channel_not_eligible"
    MIN_SPEND_NOT_MET = "min_spend_not_met"


# Each coupon move: the statuses it may start from and the status it ends in.
COUPON_MOVES: dict[CouponEventType, tuple[tuple[CouponStatus, ...], CouponStatus]] = {
    CouponEventType.RESERVED: ((CouponStatus.AVAILABLE,), CouponStatus.RESERVED),
    CouponEventType.RELEASED: ((CouponStatus.RESERVED,), CouponStatus.AVAILABLE),
    CouponEventType.REDEEMED: ((CouponStatus.RESERVED,), CouponStatus.REDEEMED),
    CouponEventType.RESTORED: ((CouponStatus.REDEEMED,), CouponStatus.AVAILABLE),
    CouponEventType.EXPIRED: ((CouponStatus.AVAILABLE,), CouponStatus.EXPIRED),
    # Not a reserved one: its order would hold a discount whose coupon is void.
    CouponEventType.VOIDED: ((CouponStatus.AVAILABLE,), CouponStatus.VOIDED),
}

# The moves a coupon makes outside any order, found by its code: a WeChat Pay merchant coupon
# (商家券) used at the merchant's own till (coupons/use) and given back (coupons/return). The
# same events as COUPON_MOVES, so history, stats and webhooks read them alike.
COUPON_MOVES_OUTSIDE_ORDERS: dict[
    CouponEventType, tuple[tuple[CouponStatus, ...], CouponStatus]
] = {
    CouponEventType.REDEEMED: ((CouponStatus.AVAILABLE,), CouponStatus.REDEEMED),
    CouponEventType.RESTORED: COUPON_MOVES[CouponEventType.RESTORED],
}

# Which campaign status may follow which; `ended` is final.
CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset(
        {CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.ENDED}
    ),
    CampaignStatus.ACTIVE: frozenset(
        {CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.ENDED}
    ),
    CampaignStatus.PAUSED: frozenset(
        {CampaignStatus.PAUSED, CampaignStatus.ACTIVE, CampaignStatus.ENDED}
    ),
    CampaignStatus.ENDED: frozenset({CampaignStatus.ENDED}),
}


class ErrorCode(Enum):
    """Every error the service can answer: its code (the member's value), HTTP status and the
    default sentence. `ErrorCode("order_not_payable")` finds a member by its code."""

    code: str
    status: int
    message: str

    def __new__(cls, code: str, status: int, message: str) -> ErrorCode:
        member = object.__new__(cls)
        member._value_ = code
        member.code = code
        member.status = status
        member.message = message
        return member

    # 400
    BAD_REQUEST = ("bad_request", 400, "The request body must be a JSON object.")
    INVALID_QR_TOKEN = ("invalid_qr_token", 400, "This QR token is not valid.")
    QR_TOKEN_EXPIRED = ("qr_token_expired", 400, "This QR token has expired; refresh the QR.")
    # 401, 403, 404
    UNAUTHENTICATED = ("unauthenticated", 401, "A valid API key is required.")
    FORBIDDEN = ("forbidden", 403, "This API key may not do that.")
    NOT_FOUND = ("not_found", 404, "No such object.")
    # what werkzeug answers for the HTTP layer
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, "This method is not allowed here.")
    PAYLOAD_TOO_LARGE = ("payload_too_large", 413, "The request body is too large.")
    UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", 415, "This media type is not supported.")
    # the app's own limits on the request line and headers (o2o.api, gunicorn.conf.py)
    URI_TOO_LONG = ("uri_too_long", 414, "The request URL is too long.")
    REQUEST_HEADER_TOO_LARGE = (
        "request_header_too_large",
        431,
        "A request header is too large, or there are too many headers.",
    )
    # any other 4xx of the HTTP layer; answered with that exception's own status
    HTTP_ERROR = ("http_error", 400, "The request could not be processed.")
    # 409: state conflicts
    CAMPAIGN_NOT_ACTIVE = ("campaign_not_active", 409, "This campaign cannot be claimed now.")
    CAMPAIGN_EXHAUSTED = (
        "campaign_exhausted",
        409,
        "Every coupon of this campaign has been claimed.",
    )
    PER_SHOPPER_LIMIT_REACHED = (
        "per_shopper_limit_reached",
        409,
        "You already hold the most coupons of this campaign allowed.",
    )
    CLAIM_CONTENTION = ("claim_contention", 409, "Too many simultaneous claims; try again.")
    COUPON_NOT_AVAILABLE = ("coupon_not_available", 409, "This coupon is not available.")
    ORDER_NOT_PAYABLE = ("order_not_payable", 409, "This order is no longer awaiting payment.")
    ORDER_NOT_CANCELABLE = (
        "order_not_cancelable",
        409,
        "This order is no longer awaiting payment.",
    )
    PAYMENT_NOT_PENDING = (
        "payment_not_pending",
        409,
        "This payment is not waiting for a shopper.",
    )
    PAYMENT_NOT_REFUNDABLE = (
        "payment_not_refundable",
        409,
        "Only a succeeded payment can be refunded.",
    )
    MERCHANT_EXISTS = (
        "merchant_exists",
        409,
        "A WeChat Pay merchant with this mchid is registered already.",
    )
    IDEMPOTENCY_KEY_IN_USE = (
        "idempotency_key_in_use",
        409,
        "A request with this Idempotency-Key is still being processed.",
    )
    # 422: well-formed but not acceptable
    VALIDATION_ERROR = ("validation_error", 422, "Some fields are invalid.")
    COUPON_NOT_APPLICABLE = (
        "coupon_not_applicable",
        422,
        "This coupon does not apply to this order.",
    )
    REFUND_EXCEEDS_PAYMENT = (
        "refund_exceeds_payment",
        422,
        "This refund is more than is left of the payment.",
    )
    INVALID_PAYMENT_CODE = (
        "invalid_payment_code",
        422,
        "This payment code is unknown, used or expired.",
    )
    NO_CODE_FOUND = (
        "no_code_found",
        422,
        "No QR code could be read in this image; try a closer, sharper photo of the code alone.",
    )
    UNRECOGNIZED_CODE = (
        "unrecognized_code",
        422,
        "This QR code is neither a coupon, a payment code nor a payment of this service.",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        422,
        "This Idempotency-Key was already used with a different request.",
    )
    # 429: too many requests (header Retry-After: seconds)
    RATE_LIMITED = (
        "rate_limited",
        429,
        "Too many requests; try again after the seconds in Retry-After.",
    )
    # 500 (and any 5xx of the HTTP layer, with its own status)
    INTERNAL_ERROR = ("internal_error", 500, "Something went wrong on our side.")
    # 503: the database (or the rate-limit store) cannot be reached (header Retry-After: seconds)
    SERVICE_UNAVAILABLE = (
        "service_unavailable",
        503,
        "The service is unavailable for a moment; try again after the seconds in Retry-After.",
    )


# Every StrEnum above, for code that must register them somewhere (psycopg's dumpers).
STR_ENUMS: tuple[type[StrEnum], ...] = tuple(
    value
    for value in list(globals().values())
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
)
