"""Marshmallow schemas: they validate requests, shape responses and generate the OpenAPI spec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate, validates_schema

from o2o import clock
from o2o.api.urls import public_url
from o2o.vocabulary import (
    CampaignStatus,
    Channel,
    ClaimChannel,
    ClockMode,
    CouponEventType,
    CouponStatus,
    DiscountType,
    MockOutcome,
    OrderStatus,
    PaymentFlow,
    PaymentMethod,
    PaymentStatus,
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far enough, and room for `now + ttl` arithmetic
MAX_AMOUNT = 1_000_000_000  # ¥10,000,000.00 in fen; keeps amounts inside 32-bit columns


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


def Money(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads as a field type
    """An integer number of fen; floats are rejected, never rounded."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_AMOUNT))
    return fields.Integer(strict=True, **kwargs)


def Count(low: int, high: int, **kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


def Text(max_length: int, **kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class EmptySchema(Strict):
    """No body, or `{}`."""


class PageArgs(Strict):
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    cursor = fields.String(validate=validate.Length(max=500))


def page_of(item: type[ma.Schema]) -> type[ma.Schema]:
    """A list envelope `{items, next_cursor}` of `item`."""
    return type(
        f"{item.__name__.removesuffix('Schema')}PageSchema",
        (ma.Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
    )


# -- stores and people -------------------------------------------------------------------------


class StoreSchema(Strict):
    id = fields.String(dump_only=True)
    name = Text(120, required=True)
    city = Text(60, required=True)
    address = fields.String(validate=validate.Length(max=255), allow_none=True, load_default=None)
    created_at = Timestamp(dump_only=True)


class ClerkSchema(Strict):
    id = fields.String(dump_only=True)
    name = Text(120, required=True)
    store_id = Text(32, required=True)
    api_key = fields.String(dump_only=True, metadata={"description": "Shown once."})


class ShopperSchema(Strict):
    id = fields.String(dump_only=True)
    name = Text(120, required=True)
    phone = fields.String(validate=validate.Length(max=32), allow_none=True, load_default=None)
    api_key = fields.String(dump_only=True, metadata={"description": "Shown once."})


# -- campaigns ---------------------------------------------------------------------------------

_DISCOUNT_FIELDS = {
    DiscountType.AMOUNT_OFF: {"amount_off"},
    DiscountType.PERCENT_OFF: {"percent_off", "max_discount"},
    DiscountType.EXCHANGE: {"exchange_price", "item"},
}
_REQUIRED_DISCOUNT_FIELDS = {
    DiscountType.AMOUNT_OFF: {"amount_off"},
    DiscountType.PERCENT_OFF: {"percent_off"},
    DiscountType.EXCHANGE: {"exchange_price", "item"},
}


class DiscountSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf(list(DiscountType)))
    amount_off = Money(validate=validate.Range(min=1, max=MAX_AMOUNT))
    percent_off = Count(1, 100)
    max_discount = Money(allow_none=True)
    exchange_price = Money()
    item = Text(200)
    min_spend = Money(load_default=0)

    @validates_schema
    def _fields_match_type(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        if kind not in _DISCOUNT_FIELDS:
            return
        errors: dict[str, list[str]] = {}
        for name in _REQUIRED_DISCOUNT_FIELDS[kind] - data.keys():
            errors[name] = [f"Required for a {kind} discount."]
        other = set().union(*_DISCOUNT_FIELDS.values()) - _DISCOUNT_FIELDS[kind]
        for name in other & data.keys():
            errors[name] = [f"Not a field of a {kind} discount."]
        if errors:
            raise ma.ValidationError(errors)


class CampaignSchema(Strict):
    id = fields.String(dump_only=True)
    name = Text(200, required=True)
    discount = fields.Nested(DiscountSchema, required=True)
    total_quantity = Count(1, 10_000_000, required=True)
    per_shopper_limit = Count(1, 1000, load_default=1)
    claim_starts_at = Timestamp(allow_none=True)
    claim_ends_at = Timestamp(allow_none=True)
    valid_from = Timestamp(allow_none=True)
    valid_until = Timestamp(allow_none=True)
    valid_days_after_claim = Count(1, 3650, allow_none=True)
    wait_days_after_claim = Count(0, 3650, load_default=0)
    store_ids = fields.List(
        Text(32), allow_none=True, load_default=None, validate=validate.Length(min=1, max=500)
    )
    channels = fields.List(
        fields.String(validate=validate.OneOf(list(Channel))),
        load_default=lambda: list(Channel),
        validate=validate.Length(min=1),
    )
    restore_on_refund = fields.Boolean(load_default=True)
    status = fields.String(
        validate=validate.OneOf(list(CampaignStatus)), load_default=CampaignStatus.ACTIVE
    )
    claimed_count = fields.Integer(dump_only=True)
    redeemed_count = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)

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


class CampaignPatchSchema(Strict):
    name = Text(200)
    status = fields.String(validate=validate.OneOf(list(CampaignStatus)))
    total_quantity = Count(1, 10_000_000)


class CampaignListArgs(PageArgs):
    claimable = fields.Boolean(load_default=False)
    status = fields.String(validate=validate.OneOf(list(CampaignStatus)))


# -- coupons -----------------------------------------------------------------------------------


class ClaimSchema(Strict):
    channel = fields.String(
        validate=validate.OneOf(list(ClaimChannel)), load_default=ClaimChannel.APP
    )


class CouponSchema(Strict):
    code = fields.String()
    campaign_id = fields.String()
    shopper_id = fields.String()
    status = fields.Function(
        lambda coupon: coupon.effective_status(clock.now()),
        metadata={"enum": list(CouponStatus)},
    )
    claim_channel = fields.String()
    claimed_at = Timestamp()
    valid_from = Timestamp()
    valid_until = Timestamp()
    discount = fields.Function(lambda coupon: coupon.campaign.discount)
    redeemed_at = Timestamp(allow_none=True)
    order_id = fields.String(allow_none=True)
    store_id = fields.String(allow_none=True)


class CouponListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(list(CouponStatus)))


class QrTokenSchema(ma.Schema):
    token = fields.String(required=True)
    expires_at = Timestamp(required=True)


class QrFormatArgs(Strict):
    format = fields.String(validate=validate.OneOf(("png", "svg")), load_default="png")


class CouponEventSchema(ma.Schema):
    type = fields.String(metadata={"enum": list(CouponEventType)})
    at = Timestamp()
    actor_role = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    store_id = fields.String(allow_none=True)
    order_id = fields.String(allow_none=True)


class CouponEventListSchema(ma.Schema):
    items = fields.List(fields.Nested(CouponEventSchema), required=True)


# -- sandbox -----------------------------------------------------------------------------------


class ClockSchema(Strict):
    now = Timestamp()
    advance_seconds = Count(0, 10 * 365 * 86400, load_only=True)
    mode = fields.String(
        validate=validate.OneOf(list(ClockMode)),
        metadata={
            "description": "`frozen`: held at `now` (after any set or advance); `real`: follows "
            "the real clock. Setting `real` takes neither `now` nor `advance_seconds`; "
            "`frozen` alone freezes the clock where it is."
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


# -- checkout ----------------------------------------------------------------------------------


class ScanSchema(Strict):
    qr_token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    amount = Money(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    store_id = Text(32, metadata={"description": "Optional; must be the clerk's own store."})


class ScanResultSchema(ma.Schema):
    coupon = fields.Nested(CouponSchema, required=True)
    applicable = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True)
    discount_amount = fields.Integer(required=True)
    payable_amount = fields.Integer(required=True)


class OrderCreateSchema(Strict):
    amount = Money(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    qr_token = fields.String(
        validate=validate.Length(min=1, max=512), metadata={"description": "Clerk, in store."}
    )
    coupon_code = Text(32, metadata={"description": "Shopper, online."})
    store_id = Text(32)


class OrderSchema(ma.Schema):
    id = fields.String()
    channel = fields.String(metadata={"enum": list(Channel)})
    store_id = fields.String(allow_none=True)
    shopper_id = fields.String(allow_none=True)
    amount = fields.Integer()
    discount_amount = fields.Integer()
    payable_amount = fields.Integer()
    coupon_code = fields.String(allow_none=True)
    status = fields.Function(
        lambda order: order.effective_status(clock.now()), metadata={"enum": list(OrderStatus)}
    )
    created_at = Timestamp()
    expires_at = Timestamp()
    paid_at = Timestamp(allow_none=True)


class PaymentCreateSchema(Strict):
    method = fields.String(required=True, validate=validate.OneOf(list(PaymentMethod)))
    flow = fields.String(required=True, validate=validate.OneOf(list(PaymentFlow)))
    auth_code = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "clerk_scan only: the shopper's 18-digit payment code."},
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
    outcome = fields.String(
        data_key="O2O-Mock-Outcome",
        load_default=MockOutcome.SUCCESS,
        validate=validate.OneOf(list(MockOutcome)),
        metadata={"description": "The mock provider's answer (sandbox testing)."},
    )


class PaymentSchema(ma.Schema):
    id = fields.String()
    order_id = fields.String()
    method = fields.String(metadata={"enum": list(PaymentMethod)})
    flow = fields.String(metadata={"enum": list(PaymentFlow)})
    amount = fields.Integer()
    status = fields.String(metadata={"enum": list(PaymentStatus)})
    failure_code = fields.String(allow_none=True)
    qr_url = fields.Function(
        lambda payment: (
            public_url("payments.payment_qr", payment_id=payment.id)
            if payment.flow == PaymentFlow.SHOPPER_SCAN
            else None
        ),
        allow_none=True,
    )
    created_at = Timestamp()
    succeeded_at = Timestamp(allow_none=True)
    refunded_amount = fields.Integer()


class RefundCreateSchema(Strict):
    amount = Money(validate=validate.Range(min=1, max=MAX_AMOUNT))
    reason = fields.String(validate=validate.Length(max=255), allow_none=True)


class RefundSchema(ma.Schema):
    id = fields.String()
    payment_id = fields.String()
    amount = fields.Integer()
    reason = fields.String(allow_none=True)
    status = fields.String()
    created_at = Timestamp()


class PaymentCodeSchema(ma.Schema):
    auth_code = fields.String(required=True)
    expires_at = Timestamp(required=True)


# -- stats -------------------------------------------------------------------------------------


class PlaceStatsSchema(ma.Schema):
    redeemed = fields.Integer(required=True)
    discount_total = fields.Integer(required=True)
    gmv = fields.Integer(required=True)


class StoreStatsSchema(PlaceStatsSchema):
    store_id = fields.String(required=True)


class ChannelStatsSchema(ma.Schema):
    in_store = fields.Nested(PlaceStatsSchema, required=True)
    online = fields.Nested(PlaceStatsSchema, required=True)


class CampaignStatsSchema(ma.Schema):
    campaign_id = fields.String(required=True)
    total_quantity = fields.Integer(required=True)
    claimed = fields.Integer(required=True)
    available = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)
    expired = fields.Integer(required=True)
    redemption_rate = fields.Float(required=True, metadata={"description": "redeemed / claimed"})
    discount_total = fields.Integer(required=True)
    gmv = fields.Integer(required=True, metadata={"description": "Net of refunds, in fen"})
    by_channel = fields.Nested(ChannelStatsSchema, required=True)
    by_store = fields.List(fields.Nested(StoreStatsSchema), required=True)


# -- API keys ----------------------------------------------------------------------------------


class IssuedKeySchema(ma.Schema):
    api_key = fields.String(required=True, metadata={"description": "Shown once."})
    key_id = fields.String(required=True)
    created_at = Timestamp(required=True)
    previous_key_expires_at = Timestamp(
        required=True,
        allow_none=True,
        metadata={
            "description": "When the keys this one replaces stop working (O2O_KEY_OVERLAP_SECONDS"
            " after now); null when there were none."
        },
    )
