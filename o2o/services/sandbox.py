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
from o2o.vocabulary import ClockMode

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


def _clock_row() -> tuple[datetime, bool]:
    """The clock's row (its `now` and whether it is frozen); the first read starts it, frozen at
    the real time, in the caller's transaction."""
    row = db.session.execute(
        select(SandboxClock.now, SandboxClock.frozen).where(SandboxClock.id == _ROW)
    ).one_or_none()
    if row is None:
        # The row commits with the caller's work; a worker starting it meanwhile waits for that
        # (PostgreSQL's unique index, SQLite's one writer), then finds its row and keeps it.
        store.insert_unless_present(SandboxClock, id=_ROW, now=clock.real_now(), frozen=True)
        row = db.session.execute(
            select(SandboxClock.now, SandboxClock.frozen).where(SandboxClock.id == _ROW)
        ).one()
    return row.now, row.frozen


def read_clock() -> datetime:
    """The sandbox's now: where it was frozen, or the real time in real mode."""
    now, frozen = _clock_row()
    return now if frozen else clock.real_now()


def clock_mode() -> ClockMode:
    """Whether the sandbox clock is frozen or follows the real clock."""
    return ClockMode.FROZEN if _clock_row()[1] else ClockMode.REAL


def current_time() -> tuple[datetime, ClockMode]:
    """The sandbox's now and mode, kept: a first read starts the clock for every worker."""
    now, frozen = _clock_row()
    store.commit()
    return (now, ClockMode.FROZEN) if frozen else (clock.real_now(), ClockMode.REAL)


def set_clock(
    *,
    now: datetime | None = None,
    advance_seconds: int | None = None,
    mode: str = ClockMode.FROZEN,
) -> tuple[datetime, ClockMode]:
    """Freeze the sandbox clock at `now`, or `advance_seconds` past its now, or where it is;
    or (mode `real`) let it follow the real clock again. Safe under races."""
    while True:
        stored, frozen = _clock_row()
        current = stored if frozen else clock.real_now()
        target = now if now is not None else _advanced(current, advance_seconds or 0)
        if mode == ClockMode.REAL:
            target = clock.real_now()
        if target > LATEST:
            raise field_error(
                "now" if now is not None else "advance_seconds",
                f"The sandbox clock goes no later than {LATEST.isoformat()}.",
            )
        # compare-and-set: two concurrent advances of 60 s make 120 s, not 60
        moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            update(SandboxClock)
            .where(
                SandboxClock.id == _ROW,
                SandboxClock.now == stored,
                SandboxClock.frozen == frozen,
            )
            .values(now=target, frozen=mode == ClockMode.FROZEN)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            break
        store.rollback()
    catch_up(target)  # history and stats follow the clock: releases, expiries
    store.commit()
    clock.forget_cached_now()
    return target, ClockMode(mode)
