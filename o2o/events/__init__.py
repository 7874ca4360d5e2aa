"""Events: the outbox row each state change writes with it, and how an event is shown.

An event's `data` holds the changed row's columns as of the change (JSON). Python use cases
`record()` a model instance; the hot path's statements build the same JSON in SQL on
PostgreSQL (`json_build_object` of the columns a block returns, o2o.store.blocks.row_json) and
from the returned row on SQLite (`columns_in`, `event_row`). Reading an event back,
`restore()` makes a transient model of those columns and the API layer's renderer
(`set_renderer`) dumps it with the resource's own schema, as of the event's time:
`{id, type, created_at, data: {object: …}}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table

from o2o import clock
from o2o.extensions import Base, db
from o2o.models import Campaign, Coupon, Event, Order, Payment, Refund, UTCDateTime, table
from o2o.tokens import new_id
from o2o.vocabulary import EventType, ObjectType

MODELS: dict[ObjectType, type[Base]] = {
    ObjectType.COUPON: Coupon,
    ObjectType.ORDER: Order,
    ObjectType.PAYMENT: Payment,
    ObjectType.REFUND: Refund,
    ObjectType.CAMPAIGN: Campaign,
}
ID_PREFIX = "evt"

Renderer = Callable[[Event], dict[str, Any]]
_renderer: list[Renderer] = []


def new_event_id() -> str:
    return new_id(ID_PREFIX)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return value


def snapshot(columns: Mapping[str, Any]) -> str:
    """The JSON an event keeps of a row: each column by name, times as naive UTC ISO text (as
    PostgreSQL's row_to_json writes them)."""
    return json.dumps({key: _json_value(value) for key, value in columns.items()})


def columns_of(instance: Base) -> dict[str, Any]:
    """A model instance's column values, by column key."""
    return {column.key: getattr(instance, column.key) for column in table(type(instance)).c}


def primary_key(object_type: ObjectType) -> str:
    """The column that is the resource's id (`code` for a coupon)."""
    (column,) = table(MODELS[object_type]).primary_key.columns
    return str(column.key)


def columns_in(model_table: Table, row: Any) -> dict[str, Any]:
    """The columns of `model_table` in a returned row (an UPDATE's RETURNING), by column key;
    anything else the row returned is left out."""
    mapping = row._mapping
    return {column.key: mapping[column.name] for column in model_table.c}


def event_row(
    type_: EventType, columns: Mapping[str, Any], at: datetime, event_id: str | None = None
) -> dict[str, Any]:
    """The `events` row of a change (every column), `columns` the changed row's as of it: the
    one place that says how an event row is made from a row, for the ORM and the hot path."""
    object_type = type_.object_type
    return {
        "id": event_id or new_event_id(),
        "type": type_,
        "created_at": at,
        "object_type": object_type,
        "object_id": str(columns[primary_key(object_type)]),
        "data": snapshot(columns),
        "dispatched": False,
    }


def record(type_: EventType, instance: Base, at: datetime | None = None) -> Event:
    """Add the event of a change to the session, to commit with the change: `instance` as it
    is now (flush first whatever changed it by UPDATE and refresh it)."""
    return record_columns(type_, columns_of(instance), at)


def record_columns(
    type_: EventType, columns: Mapping[str, Any], at: datetime | None = None
) -> Event:
    """Add the event of a change to the session, from the changed row's columns (by key)."""
    event = Event(**event_row(type_, columns, at or clock.now()))
    db.session.add(event)
    return event


def inserted_type(object_type: ObjectType, columns: Mapping[str, Any]) -> EventType:
    """The event a new row of `object_type` writes: an order is created, a refund succeeded,
    a payment is as its status says (pending, succeeded, failed)."""
    if object_type is ObjectType.PAYMENT:
        return EventType(f"payment.{columns['status']}")
    return {
        ObjectType.ORDER: EventType.ORDER_CREATED,
        ObjectType.REFUND: EventType.REFUND_SUCCEEDED,
        ObjectType.CAMPAIGN: EventType.CAMPAIGN_CREATED,
        ObjectType.COUPON: EventType.COUPON_CLAIMED,
    }[object_type]


def object_type_of(model_table: Table) -> ObjectType | None:
    """The kind of resource rows of `model_table` are (None: rows without events)."""
    return next((kind for kind, model in MODELS.items() if table(model) is model_table), None)


def _decoded(model_table: Table, raw: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for column in model_table.c:
        value = raw.get(column.key)
        if isinstance(value, str) and isinstance(column.type, DateTime | UTCDateTime):
            moment = datetime.fromisoformat(value)
            value = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        values[column.key] = value
    return values


def restore(event: Event) -> Base:
    """A transient model instance (in no session) holding the event's columns; a coupon gets
    its campaign, whose discount it shows (a campaign's discount never changes)."""
    model = MODELS[ObjectType(event.object_type)]
    instance = model(**_decoded(table(model), json.loads(event.data)))
    if isinstance(instance, Coupon):
        instance.campaign = db.session.get(Campaign, instance.campaign_id)  # type: ignore[assignment]
    return instance


def set_renderer(renderer: Renderer) -> None:
    """Install how an event is shown (the API layer's schemas)."""
    _renderer[:] = [renderer]


def body(event: Event) -> dict[str, Any]:
    """The event as the API shows it, and as a webhook delivers it."""
    if not _renderer:
        raise RuntimeError("no event renderer installed: create the app first")
    return _renderer[0](event)


def matches(patterns: Iterable[str], type_: str) -> bool:
    """Whether an event type is one of `patterns`: exact types, `coupon.*`, or `*`."""
    family = type_.partition(".")[0] + ".*"
    return any(pattern in ("*", type_, family) for pattern in patterns)
