"""Events: the outbox row each state change writes with it, and how an event is shown.

An event's `data` holds the changed row's columns as of the change (JSON). Python use cases
`record()` a model instance; the hot path's statements build the same JSON in SQL
(`row_to_json` on PostgreSQL). Reading an event back, `restore()` makes a transient model of
those columns and the API layer's renderer (`set_renderer`) dumps it with the resource's own
schema, as of the event's time: `{id, type, created_at, data: {object: …}}`.
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


def record(type_: EventType, instance: Base, at: datetime | None = None) -> Event:
    """Add the event of a change to the session, to commit with the change: `instance` as it
    is now (flush first whatever changed it by UPDATE and refresh it)."""
    values = columns_of(instance)
    object_type = type_.object_type
    event = Event(
        id=new_event_id(),
        type=type_,
        created_at=at or clock.now(),
        object_type=object_type,
        object_id=str(values[primary_key(object_type)]),
        data=snapshot(values),
    )
    db.session.add(event)
    return event


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
