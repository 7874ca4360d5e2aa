"""Event views (admin): the outbox, newest first; the event schema and its renderer."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from o2o import clock, events
from o2o.api.auth import require
from o2o.api.base import Blueprint
from o2o.api.schemas import (
    CampaignSchema,
    Choice,
    CouponSchema,
    OrderSchema,
    PageArgs,
    PaymentSchema,
    RefundSchema,
    Sent,
    Timestamp,
    page_of,
)
from o2o.models import Event
from o2o.services import events as event_service
from o2o.vocabulary import EventType, ObjectType, Role

OBJECT_SCHEMAS: dict[ObjectType, ma.Schema] = {
    ObjectType.COUPON: CouponSchema(),
    ObjectType.ORDER: OrderSchema(),
    ObjectType.PAYMENT: PaymentSchema(),
    ObjectType.REFUND: RefundSchema(),
    ObjectType.CAMPAIGN: CampaignSchema(),
}

blp = Blueprint("events", __name__, description="Events: every state change, as it happened")


class EventDataSchema(Sent):
    object = fields.Dict(
        metadata={
            "description": "The resource (coupon, order, payment, refund or campaign) exactly "
            "as the API returns it, as of the change; its kind is the type's first word "
            "(`payment.succeeded` carries a Payment).",
            "oneOf": [
                {"$ref": f"#/components/schemas/{name}"}
                for name in ("Coupon", "Order", "Payment", "Refund", "Campaign")
            ],
        }
    )


class EventSchema(Sent):
    id = fields.String(metadata={"description": "`evt_…`; never changes (webhook-id)."})
    type = Choice(EventType)
    created_at = Timestamp(metadata={"description": "When the change happened (service time)."})
    data = fields.Nested(EventDataSchema)

    @ma.pre_dump
    def _as_of_the_change(self, event: Any, **kwargs: Any) -> Any:
        """An Event row is shown with its object restored and dumped as of the change."""
        if not isinstance(event, Event):
            return event
        instance = events.restore(event)
        with clock.as_of(event.created_at):
            shown = OBJECT_SCHEMAS[ObjectType(event.object_type)].dump(instance)
        return {
            "id": event.id,
            "type": event.type,
            "created_at": event.created_at,
            "data": {"object": shown},
        }


class TypeList(fields.List):
    """`type=a&type=b` and/or `type=a,b`: each an exact event type."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        raw = super()._deserialize(value, attr, data, **kwargs)
        types = [part.strip() for item in raw for part in str(item).split(",") if part.strip()]
        unknown = sorted({t for t in types if t not in set(EventType)})
        if unknown:
            raise ma.ValidationError(
                f"Unknown event type(s): {', '.join(unknown)}; one of {', '.join(EventType)}."
            )
        return types


class EventListArgs(PageArgs):
    type = TypeList(
        fields.String(validate=validate.Length(max=1000)),
        load_default=list,
        metadata={
            "description": "Only these exact types: repeat the parameter and/or separate "
            "types by commas (`type=order.paid,payment.succeeded`)."
        },
    )
    created_after = Timestamp(metadata={"description": "Only events after this moment."})
    created_before = Timestamp(metadata={"description": "Only events before this moment."})


def render(event: Event) -> dict[str, Any]:
    """The event's JSON: its object dumped by the resource's schema as of the event's time."""
    body: dict[str, Any] = _EVENT.dump(event)
    return body


_EVENT = EventSchema()


def install() -> None:
    """Make `render` how o2o.events shows an event."""
    events.set_renderer(render)


@blp.route("/events", methods=["GET"])
@blp.doc(operationId="listEvents")
@require(Role.ADMIN)
@blp.arguments(EventListArgs, location="query")
@blp.response(200, page_of(EventSchema))
def list_events(args: dict[str, Any]) -> Any:
    """List events, newest first."""
    return event_service.list_events(
        types=args["type"],
        created_after=args.get("created_after"),
        created_before=args.get("created_before"),
        limit=args["limit"],
        cursor=args.get("cursor"),
    )


@blp.route("/events/<event_id>", methods=["GET"])
@blp.doc(operationId="getEvent")
@require(Role.ADMIN)
@blp.response(200, EventSchema)
def get_event(event_id: str) -> Any:
    """Show one event."""
    return event_service.get_event(event_id)
