"""Events: the outbox read back, newest first, for an admin to reconcile (they never change)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Event, sql_moment
from o2o.services.pagination import Page, paginate
from o2o.vocabulary import ErrorCode


def list_events(
    *,
    types: Sequence[str],
    created_after: datetime | None,
    created_before: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[Event]:
    """Events newest first, of any of `types` (all when empty), created strictly between the
    two moments given (service time)."""
    stmt = select(Event)
    if types:
        stmt = stmt.where(Event.type.in_(sorted(set(types))))
    if created_after is not None:
        stmt = stmt.where(Event.created_at > sql_moment(created_after))
    if created_before is not None:
        stmt = stmt.where(Event.created_at < sql_moment(created_before))
    return paginate(stmt, Event.created_at, Event.id, limit, cursor)


def get_event(event_id: str) -> Event:
    """One event by its id."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No event has this id.")
    return event
