"""The sandbox clock: one database row that every worker reads, so time moves for all at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update

from o2o import clock, store
from o2o.errors import field_error
from o2o.extensions import db
from o2o.models import SandboxClock
from o2o.services.housekeeping import catch_up

_ROW = 1
# Far enough for any test, and far enough from datetime's end (9999) that the service's own
# arithmetic (an order's TTL, a coupon's validity) never overflows.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _advanced(current: datetime, seconds: int) -> datetime:
    try:
        return current + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


class DatabaseClock:
    """The sandbox's clock port adapter (installed by create_app when O2O_SANDBOX is on)."""

    def now(self) -> datetime:
        return read_clock()


def read_clock() -> datetime:
    """The sandbox's now; the first read starts it at the real time, in the caller's transaction."""
    current = db.session.scalar(select(SandboxClock.now).where(SandboxClock.id == _ROW))
    if current is not None:
        return current
    # The row commits with the caller's work; a worker starting it meanwhile waits for that
    # (PostgreSQL's unique index, SQLite's one writer), then finds its row and keeps it.
    store.insert_unless_present(SandboxClock, id=_ROW, now=clock.real_now())
    return db.session.execute(select(SandboxClock.now).where(SandboxClock.id == _ROW)).scalar_one()


def current_time() -> datetime:
    """The sandbox's now, kept: a first read starts the clock there for every worker."""
    now = read_clock()
    store.commit()
    return now


def set_clock(*, now: datetime | None = None, advance_seconds: int | None = None) -> datetime:
    """Move the sandbox clock to `now`, or forward by `advance_seconds` (safe under races)."""
    while True:
        current = read_clock()
        target = now if now is not None else _advanced(current, advance_seconds or 0)
        if target > LATEST:
            raise field_error(
                "now" if now is not None else "advance_seconds",
                f"The sandbox clock goes no later than {LATEST.isoformat()}.",
            )
        # compare-and-set: two concurrent advances of 60 s make 120 s, not 60
        moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            update(SandboxClock)
            .where(SandboxClock.id == _ROW, SandboxClock.now == current)
            .values(now=target)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            break
        store.rollback()
    catch_up(target)  # history and stats follow the clock: releases, expiries
    store.commit()
    clock.forget_cached_now()
    return target
