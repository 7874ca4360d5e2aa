"""Marshmallow schemas: they validate requests, shape responses and generate the OpenAPI spec.

Request schemas (`*Create`, `*Update`, `Scan`, `ClockSet`…) are `Strict`: unknown fields are
refused. Response schemas are `Sent`: the server always sends every field (null where the field
allows it), so the spec lists each as required.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate, validates_schema

from o2o import clock
from o2o.api.urls import public_url
from o2o.vocabulary import (
    ActorRole,
    CampaignStatus,
    Channel,
    ClaimChannel,
    ClockMode,
    CouponEventType,
    CouponStatus,
    DecodedKind,
    DiscountType,
    MockOutcome,
    OrderStatus,
    PaymentFailureCode,
    PaymentFlow,
    PaymentMethod,
    PaymentStatus,
    QrFormat,
    Reason,
    RefundFailureCode,
    RefundOutcome,
    RefundStatus,
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far enough, and room for `now + ttl` arithmetic
MAX_AMOUNT = 1_000_000_000  # ¥10,000,000.00 in fen; keeps amounts inside 32-bit columns
FEN = "Integer fen (1/100 yuan): 39900 is ¥399.00."


class Timestamp(fields.AwareDateTime):
    """RFC 3339 with an offset on input; UTC with `Z` on output."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= moment <= LATEST:
            raise ma.ValidationError(f"Must be between {EARLIEST.year} and {LATEST.year}.")
        return moment


def _described(kwargs: dict[str, Any], text: str) -> dict[str, Any]:
    """`kwargs` with `text` after any description it already has."""
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["description"] = " ".join(filter(None, (metadata.get("description"), text)))
    return {**kwargs, "metadata": metadata}


def Fen(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads as a field type
    """An amount of money as the server sends it: integer fen."""
    return fields.Integer(strict=True, **_described(kwargs, FEN))


def Money(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """An integer number of fen on input; floats are rejected, never rounded."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_AMOUNT))
    return Fen(**kwargs)


def Count(low: int, high: int, **kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


def Text(max_length: int, **kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def Choice(values: Iterable[str], **kwargs: Any) -> fields.String:  # noqa: N802
    """One of a closed set (a StrEnum of o2o.vocabulary): an `enum` in the spec."""
    return fields.String(validate=validate.OneOf(list(values)), **kwargs)


def Computed(function: Any, type_: str, **kwargs: Any) -> fields.Function:  # noqa: N802
    """A value computed at dump time, typed for the spec (`enum`, `format` go in metadata)."""
    return fields.Function(
        function, **{**kwargs, "metadata": {"type": type_, **kwargs.get("metadata", {})}}
    )


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class Sent(ma.Schema):
    """A response: every field is always sent (null where it allows none), so each is required."""

    class Meta:
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True


class EmptySchema(Strict):
    """No body, or `{}`."""


class PageArgs(Strict):
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    cursor = fields.String(validate=validate.Length(max=500))


def page_of(item: type[ma.Schema]) -> type[ma.Schema]:
    """A list envelope `{items, next_cursor}` of `item`."""
    return type(
        f"{item.__name__.removesuffix('Schema')}PageSchema",
        (Sent,),
        {
            "items": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(
                allow_none=True,
                metadata={"description": "Pass as `cursor` for the next page; null on the last."},
            ),
        },
    )


class OneOf(fields.Field):
    """An object whose `discriminator` field picks its schema among `variants`: loaded by that
    schema, dumped as it is; a `oneOf` with a `discriminator` in the spec (o2o.extensions)."""

    def __init__(
        self, discriminator: str, variants: Mapping[str, type[ma.Schema]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.variants = dict(variants)
        self._loaders = {name: schema() for name, schema in variants.items()}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ma.ValidationError("Not a valid object.")
        kind = value.get(self.discriminator)
        loader = self._loaders.get(kind) if isinstance(kind, str) else None
        if loader is None:
            choices = ", ".join(self.variants)
            raise ma.ValidationError({self.discriminator: [f"Must be one of: {choices}."]})
        return loader.load(value)


# -- stores and people -------------------------------------------------------------------------


class StoreCreateSchema(Strict):
    name = Text(120, required=True)
    city = Text(60, required=True)
    address = fields.String(validate=validate.Length(max=255), allow_none=True, load_default=None)


class StoreSchema(Sent):
    id = fields.String()
    name = fields.String()
    city = fields.String()
    address = fields.String(allow_none=True)
    created_at = Timestamp()


class ClerkCreateSchema(Strict):
    name = Text(120, required=True)
    store_id = Text(32, required=True, metadata={"description": "An existing store's id."})


class ClerkSchema(Sent):
    id = fields.String()
    name = fields.String()
    store_id = fields.String()
    api_key = fields.String(metadata={"description": "The clerk's bearer key, shown once."})


class ShopperCreateSchema(Strict):
    name = Text(120, required=True)
    phone = fields.String(validate=validate.Length(max=32), allow_none=True, load_default=None)


class ShopperSchema(Sent):
    id = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)
    api_key = fields.String(metadata={"description": "The shopper's bearer key, shown once."})


class ClerkProfileSchema(Sent):
    """A clerk as lists show them: never the API key (shown only when it is issued)."""

    id = fields.String()
    name = fields.String()
    store_id = fields.String()
    created_at = Timestamp()


class ShopperProfileSchema(Sent):
    """A shopper as lists show them: never the API key (shown only when it is issued)."""

    id = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)
    created_at = Timestamp()


class ClerkListArgs(PageArgs):
    store_id = Text(32, metadata={"description": "Only the clerks of this store."})


# -- discounts ---------------------------------------------------------------------------------

MIN_SPEND = "The least order amount the discount applies to."


class AmountOffDiscountCreateSchema(Strict):
    type = Choice([DiscountType.AMOUNT_OFF], required=True)
    amount_off = Money(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    min_spend = Money(load_default=0, metadata={"description": MIN_SPEND})


class PercentOffDiscountCreateSchema(Strict):
    type = Choice([DiscountType.PERCENT_OFF], required=True)
    percent_off = Count(1, 100, required=True)
    max_discount = Money(allow_none=True, metadata={"description": "A cap; null for none."})
    min_spend = Money(load_default=0, metadata={"description": MIN_SPEND})


class ExchangeDiscountCreateSchema(Strict):
    type = Choice([DiscountType.EXCHANGE], required=True)
    exchange_price = Money(required=True, metadata={"description": "Paid instead of the amount."})
    item = Text(200, required=True)
    min_spend = Money(load_default=0, metadata={"description": MIN_SPEND})


class AmountOffDiscountSchema(Sent):
    type = Choice([DiscountType.AMOUNT_OFF])
    amount_off = Fen()
    min_spend = Fen(metadata={"description": MIN_SPEND})


class PercentOffDiscountSchema(Sent):
    type = Choice([DiscountType.PERCENT_OFF])
    percent_off = fields.Integer()
    max_discount = Fen(allow_none=True, metadata={"description": "A cap; null for none."})
    min_spend = Fen(metadata={"description": MIN_SPEND})


class ExchangeDiscountSchema(Sent):
    type = Choice([DiscountType.EXCHANGE])
    exchange_price = Fen(metadata={"description": "Paid instead of the amount."})
    item = fields.String()
    min_spend = Fen(metadata={"description": MIN_SPEND})


DISCOUNT_INPUTS: dict[str, type[ma.Schema]] = {
    DiscountType.AMOUNT_OFF: AmountOffDiscountCreateSchema,
    DiscountType.PERCENT_OFF: PercentOffDiscountCreateSchema,
    DiscountType.EXCHANGE: ExchangeDiscountCreateSchema,
}
DISCOUNTS: dict[str, type[ma.Schema]] = {
    DiscountType.AMOUNT_OFF: AmountOffDiscountSchema,
    DiscountType.PERCENT_OFF: PercentOffDiscountSchema,
    DiscountType.EXCHANGE: ExchangeDiscountSchema,
}
DISCOUNT = "The discount, by `type`; a discount never exceeds the order amount."


# -- campaigns ---------------------------------------------------------------------------------


class CampaignCreateSchema(Strict):
    name = Text(200, required=True)
    discount = OneOf("type", DISCOUNT_INPUTS, required=True, metadata={"description": DISCOUNT})
    total_quantity = Count(1, 10_000_000, required=True)
    per_shopper_limit = Count(1, 1000, load_default=1)
    claim_starts_at = Timestamp(allow_none=True)
    claim_ends_at = Timestamp(allow_none=True)
    valid_from = Timestamp(allow_none=True)
    valid_until = Timestamp(allow_none=True)
    valid_days_after_claim = Count(1, 3650, allow_none=True)
    wait_days_after_claim = Count(0, 3650, load_default=0)
    store_ids = fields.List(
        Text(32),
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The stores where its coupons can be used; null: every store."},
    )
    channels = fields.List(
        Choice(Channel),
        load_default=lambda: list(Channel),
        validate=validate.Length(min=1),
        metadata={"description": "Where its coupons can be used, each once; default: both."},
    )
    restore_on_refund = fields.Boolean(load_default=True)
    status = Choice(CampaignStatus, load_default=CampaignStatus.ACTIVE)

    @validates_schema
    def _windows_make_sense(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("valid_until") and not data.get("valid_days_after_claim"):
            errors["valid_until"] = ["Give valid_until, valid_days_after_claim, or both."]
        for start, end in (("valid_from", "valid_until"), ("claim_starts_at", "claim_ends_at")):
            if data.get(start) and data.get(end) and data[start] >= data[end]:
                errors[end] = [f"Must be after {start}."]
        if len(set(data.get("channels") or [])) != len(data.get("channels") or []):
            errors["channels"] = ["List each channel once."]
        if errors:
            raise ma.ValidationError(errors)


class CampaignSchema(Sent):
    id = fields.String()
    name = fields.String()
    discount = OneOf("type", DISCOUNTS, metadata={"description": DISCOUNT})
    total_quantity = fields.Integer()
    per_shopper_limit = fields.Integer()
    claim_starts_at = Timestamp(allow_none=True)
    claim_ends_at = Timestamp(allow_none=True)
    valid_from = Timestamp(allow_none=True)
    valid_until = Timestamp(allow_none=True)
    valid_days_after_claim = fields.Integer(allow_none=True)
    wait_days_after_claim = fields.Integer()
    store_ids = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: every store."}
    )
    channels = fields.List(Choice(Channel))
    restore_on_refund = fields.Boolean()
    status = Choice(CampaignStatus)
    claimed_count = fields.Integer()
    redeemed_count = fields.Integer()
    created_at = Timestamp()


class CampaignUpdateSchema(Strict):
    name = Text(200)
    status = Choice(
        CampaignStatus,
        metadata={"description": "draft → active | ended; active ⇄ paused; any → ended (final)."},
    )
    total_quantity = Count(1, 10_000_000, metadata={"description": "May only grow."})


class CampaignListArgs(PageArgs):
    claimable = fields.Boolean(load_default=False)
    status = Choice(CampaignStatus)


# -- coupons -----------------------------------------------------------------------------------


class ClaimSchema(Strict):
    channel = Choice(ClaimChannel, load_default=ClaimChannel.APP)


class CouponSchema(Sent):
    code = fields.String()
    campaign_id = fields.String()
    shopper_id = fields.String()
    status = Computed(
        lambda coupon: coupon.effective_status(clock.now()),
        "string",
        metadata={"enum": list(CouponStatus)},
    )
    claim_channel = Choice(ClaimChannel)
    claimed_at = Timestamp()
    valid_from = Timestamp()
    valid_until = Timestamp()
    discount = OneOf(
        "type", DISCOUNTS, attribute="campaign.discount", metadata={"description": DISCOUNT}
    )
    redeemed_at = Timestamp(allow_none=True)
    order_id = fields.String(allow_none=True)
    store_id = fields.String(allow_none=True)
    void_reason = fields.String(
        allow_none=True, metadata={"description": "Why an admin voided it; null otherwise."}
    )


class CouponListArgs(PageArgs):
    status = Choice(CouponStatus)


class QrTokenSchema(Sent):
    token = fields.String(metadata={"description": "Signed; what the coupon's QR encodes."})
    expires_at = Timestamp()


class QrFormatArgs(Strict):
    format = Choice(QrFormat, load_default=QrFormat.PNG)


class CouponEventSchema(Sent):
    type = Choice(CouponEventType)
    at = Timestamp()
    actor_role = Choice(ActorRole, allow_none=True)
    actor_id = fields.String(allow_none=True)
    store_id = fields.String(allow_none=True)
    order_id = fields.String(allow_none=True)


class CouponEventListSchema(Sent):
    items = fields.List(fields.Nested(CouponEventSchema))


class CouponVoidSchema(Strict):
    reason = fields.String(
        validate=validate.Length(max=255),
        allow_none=True,
        metadata={"description": "Why it is voided, for the operator's records (optional)."},
    )


# -- sandbox -----------------------------------------------------------------------------------

CLOCK_MODE = "`frozen`: held at `now` (after any set or advance); `real`: follows the real clock."


class ClockSetSchema(Strict):
    now = Timestamp()
    advance_seconds = Count(0, 10 * 365 * 86400)
    mode = Choice(
        ClockMode,
        metadata={
            "description": f"{CLOCK_MODE} Setting `real` takes neither `now` nor "
            "`advance_seconds`; `frozen` alone freezes the clock where it is."
        },
    )

    @validates_schema
    def _one_move(self, data: dict[str, Any], **_: Any) -> None:
        moves = ("now" in data) + ("advance_seconds" in data)
        if data.get("mode") == ClockMode.REAL:
            if moves:
                raise ma.ValidationError("Mode real takes neither now nor advance_seconds.", "mode")
        elif moves != 1 and not (moves == 0 and "mode" in data):
            raise ma.ValidationError(
                "Give exactly one of now or advance_seconds (or a mode).", "_schema"
            )


class ClockSchema(Sent):
    now = Timestamp()
    mode = Choice(ClockMode, metadata={"description": CLOCK_MODE})


# -- checkout ----------------------------------------------------------------------------------


class ScanSchema(Strict):
    qr_token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    amount = Money(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    store_id = Text(32, metadata={"description": "Optional; must be the clerk's own store."})


class ScanResultSchema(Sent):
    coupon = fields.Nested(CouponSchema)
    applicable = fields.Boolean()
    reasons = fields.List(
        Choice(Reason), metadata={"description": "Why the coupon does not apply; empty if it does."}
    )
    discount_amount = Fen()
    payable_amount = Fen()


class ScanImageSchema(Strict):
    image = Upload(
        required=True,
        metadata={
            "description": "A photo or screenshot of one QR code: JPEG, PNG, WebP, GIF or BMP, "
            "at most O2O_SCAN_IMAGE_MAX_BYTES (default 8 MiB) and O2O_SCAN_IMAGE_MAX_PIXELS "
            "(default 50 million) pixels."
        },
    )
    amount = fields.Integer(
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": f"Required when the image is a coupon's QR. {FEN}"},
    )
    store_id = Text(32, metadata={"description": "Optional; must be the clerk's own store."})


class DecodedSchema(Sent):
    kind = Choice(
        DecodedKind,
        metadata={
            "description": "`coupon`: a coupon's QR token; `payment_code`: digits, as a "
            "shopper's payment code; `merchant`: a shopper_scan payment's merchant QR."
        },
    )
    text = fields.String(metadata={"description": "What the QR code holds, as read."})
    valid_shape = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "payment_code only: whether the digits have a payment code's shape "
            "(18 digits starting 10 to 15), never whether the code was issued; null otherwise."
        },
    )
    payment_id = fields.String(
        allow_none=True,
        metadata={"description": "merchant only: the payment the QR is for; null otherwise."},
    )
    wallet_url = fields.String(
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "merchant only: the wallet's page paying this payment; null otherwise.",
        },
    )


class ScanImageResultSchema(Sent):
    decoded = fields.Nested(DecodedSchema)
    coupon = fields.Nested(
        CouponSchema,
        allow_none=True,
        metadata={"description": "coupon only, as POST /scans answers; null otherwise."},
    )
    applicable = fields.Boolean(allow_none=True, metadata={"description": "coupon only."})
    reasons = fields.List(
        Choice(Reason),
        allow_none=True,
        metadata={"description": "coupon only: why it does not apply; empty if it does."},
    )
    discount_amount = Fen(allow_none=True, metadata={"description": "coupon only."})
    payable_amount = Fen(allow_none=True, metadata={"description": "coupon only."})


class OrderCreateSchema(Strict):
    amount = Money(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    qr_token = fields.String(
        validate=validate.Length(min=1, max=512),
        metadata={"description": "Clerk only (in store): the token of the coupon's QR."},
    )
    coupon_code = Text(
        32, metadata={"description": "Shopper only (online): one of their coupons' codes."}
    )
    store_id = Text(
        32,
        metadata={
            "description": "A clerk's must be their own store (the default); a shopper's is "
            "optional, for a coupon bound to stores."
        },
    )


class OrderSchema(Sent):
    id = fields.String()
    channel = Choice(Channel)
    store_id = fields.String(allow_none=True)
    shopper_id = fields.String(allow_none=True)
    amount = Fen()
    discount_amount = Fen()
    payable_amount = Fen()
    coupon_code = fields.String(allow_none=True)
    status = Computed(
        lambda order: order.effective_status(clock.now()),
        "string",
        metadata={"enum": list(OrderStatus)},
    )
    created_at = Timestamp()
    expires_at = Timestamp()
    paid_at = Timestamp(allow_none=True)


class PaymentCreateSchema(Strict):
    method = Choice(PaymentMethod, required=True)
    flow = Choice(
        PaymentFlow,
        required=True,
        metadata={
            "description": "`clerk_scan` and `shopper_scan` for a clerk (an in-store order), "
            "`online` for a shopper (an online order)."
        },
    )
    auth_code = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "clerk_scan only, and required there: the shopper's "
            "18-digit payment code."
        },
    )

    @validates_schema
    def _auth_code_with_clerk_scan(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("flow") == PaymentFlow.CLERK_SCAN and not data.get("auth_code"):
            raise ma.ValidationError({"auth_code": ["Required for the clerk_scan flow."]})
        if (
            data.get("flow") in (PaymentFlow.SHOPPER_SCAN, PaymentFlow.ONLINE)
            and "auth_code" in data
        ):
            raise ma.ValidationError(
                {"auth_code": ["Only the clerk_scan flow takes an auth_code."]}
            )


class MockOutcomeSchema(ma.Schema):
    outcome = Choice(
        MockOutcome,
        data_key="O2O-Mock-Outcome",
        load_default=MockOutcome.SUCCESS,
        metadata={"description": "The mock provider's answer (sandbox testing)."},
    )


class RefundOutcomeSchema(ma.Schema):
    outcome = Choice(
        RefundOutcome,
        data_key="O2O-Mock-Outcome",
        load_default=RefundOutcome.SUCCESS,
        metadata={
            "description": "The mock provider's answer to the refund (sandbox testing): "
            "`declined` or `account_abnormal` make a `failed` refund that moves no money."
        },
    )


class PaymentSchema(Sent):
    id = fields.String()
    order_id = fields.String()
    method = Choice(PaymentMethod)
    flow = Choice(PaymentFlow)
    amount = Fen()
    status = Choice(PaymentStatus)
    failure_code = Choice(
        PaymentFailureCode,
        allow_none=True,
        metadata={"description": "Why a payment failed or was canceled; null otherwise."},
    )
    qr_url = Computed(
        lambda payment: (
            public_url("payments.payment_qr", payment_id=payment.id)
            if payment.flow == PaymentFlow.SHOPPER_SCAN
            else None
        ),
        "string",
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "shopper_scan only: the merchant's QR image for the shopper to "
            "scan; null for the other flows.",
        },
    )
    created_at = Timestamp()
    succeeded_at = Timestamp(allow_none=True)
    refunded_amount = Fen()


class RefundCreateSchema(Strict):
    amount = Money(
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Default: all that is left of the payment."},
    )
    reason = fields.String(validate=validate.Length(max=255), allow_none=True)


class RefundSchema(Sent):
    id = fields.String()
    payment_id = fields.String()
    amount = Fen()
    reason = fields.String(allow_none=True)
    status = Choice(RefundStatus)
    failure_code = Choice(
        RefundFailureCode,
        allow_none=True,
        metadata={"description": "Why the provider refused a failed refund; null otherwise."},
    )
    created_at = Timestamp()


class PaymentCodeArgs(Strict):
    qr = Choice(
        ["png"],
        metadata={"description": "`png`: the answer adds `qr`, the code as a QR image."},
    )


class PaymentCodeSchema(Sent):
    auth_code = fields.String(metadata={"description": "18 digits, single use."})
    expires_at = Timestamp()
    qr = fields.String(
        allow_none=True,
        metadata={
            "description": "Null unless `?qr=png`: a QR of `auth_code`, as a "
            "`data:image/png;base64,` URL (what the wallet shows the till's scanner)."
        },
    )


EXCLUSIVE = "Exclusive bound on `created_at` (RFC 3339 with an offset; URL-encode a `+`)."


class LedgerListArgs(PageArgs):
    """The filters orders, payments and refunds share; each narrows the caller's own scope."""

    store_id = Text(32, metadata={"description": "Only those of this store's orders."})
    shopper_id = Text(32, metadata={"description": "Only those of this shopper."})
    created_after = Timestamp(metadata={"description": EXCLUSIVE})
    created_before = Timestamp(metadata={"description": EXCLUSIVE})


class OrderListArgs(LedgerListArgs):
    status = Choice(OrderStatus, metadata={"description": "The order's status as it reads now."})


class PaymentListArgs(LedgerListArgs):
    status = Choice(PaymentStatus)


class RefundListArgs(LedgerListArgs):
    status = Choice(RefundStatus)


# -- the day statement ------------------------------------------------------------------------

EARLIEST_DAY, LATEST_DAY = date(1970, 1, 2), date(9999, 12, 30)


class StatementArgs(Strict):
    date = fields.Date(
        required=True,
        validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY),
        metadata={"description": "YYYY-MM-DD: a day in O2O_TIMEZONE (default Asia/Shanghai)."},
    )
    format = Choice(
        ("json", "csv"),
        load_default="json",
        metadata={
            "description": "`csv`: text/csv (UTF-8), one row per payment and refund, "
            "then the totals."
        },
    )


class StatementLineSchema(Sent):
    type = Choice(("payment", "refund"))
    id = fields.String(metadata={"description": "The payment's or the refund's id."})
    at = Timestamp(metadata={"description": "A payment's succeeded_at, a refund's created_at."})
    method = Choice(PaymentMethod, metadata={"description": "A refund's: its payment's."})
    flow = Choice(PaymentFlow, metadata={"description": "A refund's: its payment's."})
    order_id = fields.String()
    payment_id = fields.String(metadata={"description": "A payment's own id; a refund's payment."})
    coupon_code = fields.String(allow_none=True)
    amount = Fen()
    refunded_amount = Fen(
        allow_none=True,
        metadata={"description": "A payment's refunds so far, of any day; null for a refund."},
    )


class StatementTotalSchema(Sent):
    paid_count = fields.Integer(metadata={"description": "Payments that succeeded that day."})
    paid_amount = Fen()
    refunded_count = fields.Integer(metadata={"description": "Refunds made that day."})
    refunded_amount = Fen()
    net_amount = Fen(metadata={"description": "paid_amount − refunded_amount."})


class MethodTotalSchema(StatementTotalSchema):
    method = Choice(PaymentMethod)


class FlowTotalSchema(StatementTotalSchema):
    flow = Choice(PaymentFlow)


class StatementSchema(Sent):
    store_id = fields.String()
    date = fields.Date()
    timezone = fields.String(metadata={"description": "O2O_TIMEZONE: whose day `date` is."})
    starts_at = Timestamp(metadata={"description": "The day's first moment (inclusive)."})
    ends_at = Timestamp(metadata={"description": "The next day's first moment (exclusive)."})
    payments = fields.List(
        fields.Nested(StatementLineSchema),
        metadata={"description": "Payments that succeeded that day, oldest first."},
    )
    refunds = fields.List(
        fields.Nested(StatementLineSchema),
        metadata={"description": "Refunds made that day (of payments of any day), oldest first."},
    )
    totals = fields.Nested(StatementTotalSchema)
    by_method = fields.List(fields.Nested(MethodTotalSchema))
    by_flow = fields.List(fields.Nested(FlowTotalSchema))


# -- stats -------------------------------------------------------------------------------------

DISCOUNT_TOTAL = (
    "The discount of the orders that used its coupons and are paid (or partly refunded)."
)
GMV = "What those orders' payments took, net of refunds."


class PlaceStatsSchema(Sent):
    redeemed = fields.Integer()
    discount_total = Fen(metadata={"description": DISCOUNT_TOTAL})
    gmv = Fen(metadata={"description": GMV})


class StoreStatsSchema(PlaceStatsSchema):
    store_id = fields.String()


class ChannelStatsSchema(Sent):
    in_store = fields.Nested(PlaceStatsSchema)
    online = fields.Nested(PlaceStatsSchema)


class CampaignStatsSchema(Sent):
    campaign_id = fields.String()
    total_quantity = fields.Integer()
    claimed = fields.Integer()
    available = fields.Integer()
    reserved = fields.Integer()
    redeemed = fields.Integer()
    expired = fields.Integer()
    redemption_rate = fields.Float(
        metadata={"description": "redeemed / claimed; 0 when nothing was claimed."}
    )
    discount_total = Fen(metadata={"description": DISCOUNT_TOTAL})
    gmv = Fen(metadata={"description": GMV})
    by_channel = fields.Nested(ChannelStatsSchema)
    by_store = fields.List(fields.Nested(StoreStatsSchema))


# -- API keys ----------------------------------------------------------------------------------


class IssuedKeySchema(Sent):
    api_key = fields.String(metadata={"description": "The new bearer key, shown once."})
    key_id = fields.String()
    created_at = Timestamp()
    previous_key_expires_at = Timestamp(
        allow_none=True,
        metadata={
            "description": "When the keys this one replaces stop working (O2O_KEY_OVERLAP_SECONDS"
            " after now); null when there were none."
        },
    )
