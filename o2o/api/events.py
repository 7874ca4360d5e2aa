"""Events as the API shows them: the schema of an event and the renderer o2o.events uses."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from o2o import clock, events
from o2o.api.schemas import (
    CampaignSchema,
    Choice,
    CouponSchema,
    OrderSchema,
    PaymentSchema,
    RefundSchema,
    Sent,
    Timestamp,
)
from o2o.models import Event
from o2o.vocabulary import EventType, ObjectType

OBJECT_SCHEMAS: dict[ObjectType, ma.Schema] = {
    ObjectType.COUPON: CouponSchema(),
    ObjectType.ORDER: OrderSchema(),
    ObjectType.PAYMENT: PaymentSchema(),
    ObjectType.REFUND: RefundSchema(),
    ObjectType.CAMPAIGN: CampaignSchema(),
}


class EventDataSchema(Sent):
    object = fields.Dict(
        metadata={
            "description": "The resource (coupon, order, payment, refund or campaign) exactly "
            "as the API returns it, as of the change; its kind is the type's first word."
        }
    )


class EventSchema(Sent):
    id = fields.String(metadata={"description": "`evt_…`; never changes (webhook-id)."})
    type = Choice(EventType)
    created_at = Timestamp(metadata={"description": "When the change happened (service time)."})
    data = fields.Nested(EventDataSchema)


def render(event: Event) -> dict[str, Any]:
    """The event's JSON: its object dumped by the resource's schema as of the event's time."""
    instance = events.restore(event)
    with clock.as_of(event.created_at):
        shown = OBJECT_SCHEMAS[ObjectType(event.object_type)].dump(instance)
    body: dict[str, Any] = EventSchema().dump(
        {"id": event.id, "type": event.type, "created_at": event.created_at, "data": {}}
    )
    body["data"] = {"object": shown}
    return body


def install() -> None:
    """Make `render` how o2o.events shows an event."""
    events.set_renderer(render)
