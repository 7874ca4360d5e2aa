"""The scenario format: stores, campaigns, shopper behaviour, arrivals, payments and refunds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate, validates_schema

from o2o.vocabulary import ClaimChannel, MockOutcome, PaymentFlow, PaymentMethod

Weights = dict[str, float]


def _weights(keys: Sequence[str], **kwargs: Any) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(keys)),
        values=fields.Float(validate=validate.Range(min=0)),
        validate=validate.Length(min=1),
        **kwargs,
    )


def _share(**kwargs: Any) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=1), **kwargs)


class StoreSchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    city = fields.String(load_default="Hangzhou")
    address = fields.String(load_default=None)
    traffic = fields.Float(load_default=1.0, validate=validate.Range(min=0))


class CampaignSchema(ma.Schema):
    """The API's campaign fields, with `stores` by key and an `appeal` weight for claiming."""

    class Meta:
        unknown = ma.INCLUDE  # the rest is checked by the API itself when it is published

    key = fields.String(required=True)
    stores = fields.List(fields.String(), load_default=None)
    appeal = fields.Float(load_default=1.0, validate=validate.Range(min=0))
    basket = fields.Nested(lambda: BasketSchema(), load_default=None)


class ArrivalsSchema(ma.Schema):
    visits_per_shopper_per_day = fields.Float(required=True, validate=validate.Range(min=0, max=24))
    by_weekday = fields.List(
        fields.Float(validate=validate.Range(min=0)),
        load_default=lambda: [1.0] * 7,
        validate=validate.Length(equal=7),
        metadata={"description": "Monday first"},
    )
    by_hour = fields.List(
        fields.Float(validate=validate.Range(min=0)),
        load_default=lambda: [1.0] * 24,
        validate=validate.Length(equal=24),
    )


class BasketSchema(ma.Schema):
    min = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    step = fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1))


class BehaviourSchema(ma.Schema):
    claim_probability = _share(required=True)
    claim_channels = _weights(list(ClaimChannel), load_default=lambda: {ClaimChannel.APP: 1.0})
    purchase_probability = _share(required=True)
    in_store_share = _share(required=True, metadata={"description": "of purchases"})
    use_coupon_probability = _share(load_default=0.9)
    basket = fields.Nested(BasketSchema, required=True)


class PaymentsSchema(ma.Schema):
    methods = _weights(list(PaymentMethod), required=True)
    in_store_flows = _weights([PaymentFlow.CLERK_SCAN, PaymentFlow.SHOPPER_SCAN], required=True)
    outcomes = _weights(list(MockOutcome), required=True)
    retry_failed = _share(load_default=0.8, metadata={"description": "share of failures retried"})


class RefundsSchema(ma.Schema):
    probability = _share(required=True)
    full_share = _share(load_default=0.5)
    after_days = fields.Integer(load_default=2, validate=validate.Range(min=0, max=60))


class ScenarioSchema(ma.Schema):
    name = fields.String(required=True)
    start = fields.AwareDateTime(required=True)
    stores = fields.List(fields.Nested(StoreSchema), required=True, validate=validate.Length(min=1))
    campaigns = fields.List(
        fields.Nested(CampaignSchema), required=True, validate=validate.Length(min=1)
    )
    arrivals = fields.Nested(ArrivalsSchema, required=True)
    behaviour = fields.Nested(BehaviourSchema, required=True)
    payments = fields.Nested(PaymentsSchema, required=True)
    refunds = fields.Nested(RefundsSchema, required=True)

    @validates_schema
    def _references(self, data: dict[str, Any], **_: Any) -> None:
        store_keys = {s["key"] for s in data.get("stores", [])}
        for campaign in data.get("campaigns", []):
            unknown = set(campaign.get("stores") or []) - store_keys
            if unknown:
                raise ma.ValidationError(
                    f"campaign {campaign['key']} names unknown stores {sorted(unknown)}",
                    "campaigns",
                )
        basket = data.get("behaviour", {}).get("basket", {})
        if basket and basket["min"] > basket["max"]:
            raise ma.ValidationError("basket.min must not exceed basket.max", "behaviour")


def load_scenario(path: Path) -> dict[str, Any]:
    """Read and validate a scenario file; raises ValueError with the field messages."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        scenario: dict[str, Any] = ScenarioSchema().load(raw)
    except (ValueError, ma.ValidationError) as exc:
        messages = exc.messages if isinstance(exc, ma.ValidationError) else str(exc)
        raise ValueError(f"{path}: {messages}") from exc
    return scenario
