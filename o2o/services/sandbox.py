"""The sandbox clock: one database row that every worker reads, so time moves for all at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from o2o import clock
from o2o.extensions import db
from o2o.models import SandboxClock
from o2o.services.housekeeping import catch_up

_ROW = 1


def read_clock() -> datetime:
    """The sandbox's now; the first read starts it at the real time."""
    row = db.session.get(SandboxClock, _ROW)
    if row is not None:
        return row.now
    start = clock.real_now()
    try:
        db.session.add(SandboxClock(id=_ROW, now=start))
        db.session.commit()
    except IntegrityError:  # another worker started it first
        db.session.rollback()
        row = db.session.get(SandboxClock, _ROW)
        assert row is not None
        return row.now
    return start


def set_clock(*, now: datetime | None = None, advance_seconds: int | None = None) -> datetime:
    """Move the sandbox clock to `now`, or forward by `advance_seconds` (safe under races)."""
    while True:
        current = read_clock()
        target = now if now is not None else current + timedelta(seconds=advance_seconds or 0)
        # compare-and-set: two concurrent advances of 60 s make 120 s, not 60
        moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            update(SandboxClock)
            .where(SandboxClock.id == _ROW, SandboxClock.now == current)
            .values(now=target)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            break
        db.session.rollback()
    catch_up(target)  # history and stats follow the clock: releases, expiries
    db.session.commit()
    clock.forget_cached_now()
    return target
