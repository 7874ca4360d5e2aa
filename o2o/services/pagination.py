"""Keyset pagination: newest first, by (created time, id), with an opaque cursor."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from o2o.errors import field_error
from o2o.extensions import db

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(at: datetime, ident: str) -> str:
    raw = json.dumps([at.isoformat(), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    """The (time, id) a cursor of ours names; any other string is a 422 on `cursor`, whatever
    fails: base64, UTF-8, JSON, its shape, a time that is naive or out of range, an id that
    could not be stored (NUL, lone surrogates)."""
    try:
        at, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(ident, str) or "\x00" in ident:
            raise ValueError("not a cursor")
        ident.encode("utf-8")  # a lone surrogate cannot reach the database
        return moment.astimezone(UTC), ident
    except (ValueError, TypeError, OverflowError, UnicodeError) as exc:
        raise field_error("cursor", "Not a cursor this API returned.") from exc


def paginate(
    stmt: Select[Any],
    at: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[str],
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Run `stmt` for one page of at most `limit` rows."""
    if cursor:
        moment, last_id = _decode(cursor)
        # bound with the column's own type, so the UTC normalisation applies to the cursor too
        stmt = stmt.where(tuple_(at, ident) < tuple_(literal(moment, at.type), literal(last_id)))
    rows = list(db.session.scalars(stmt.order_by(at.desc(), ident.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = _encode(getattr(last, at.key), getattr(last, ident.key)) if last else None
    return Page(rows, next_cursor)
