"""now(): the one seam for time — a leaf port; the app installs the clock it runs on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from flask import current_app, g, has_app_context

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "o2o.clock"


class Clock(Protocol):
    """Where the service's time comes from."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM = SystemClock()


def real_now() -> datetime:
    """The real time, whatever clock the app runs on (for network retries and timeouts)."""
    return SYSTEM.now()


def install(app: Flask, clock: Clock) -> None:
    """Make `clock` the time of every request of `app` (the sandbox installs its own)."""
    app.extensions[EXTENSION] = clock


def now() -> datetime:
    """The service's current time (timezone-aware UTC), from the clock installed on the app."""
    if not has_app_context():
        return real_now()
    pinned: datetime | None = g.get("_o2o_as_of")
    if pinned is not None:
        return pinned
    installed: Clock | None = current_app.extensions.get(EXTENSION)
    if installed is None:
        return real_now()
    # An installed clock may cost a query, and a use case should see one time: ask once per
    # request (or app context).
    cached: datetime | None = g.get("_o2o_now")
    if cached is None:
        cached = g._o2o_now = installed.now()
    return cached


def forget_cached_now() -> None:
    """Drop the per-request copy after the installed clock moved."""
    if has_app_context():
        g.pop("_o2o_now", None)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Inside the block `now()` is `moment` (needs an app context): an event shows its object
    as the API showed it at the change, statuses that follow time included."""
    saved = g.get("_o2o_as_of")
    g._o2o_as_of = moment
    try:
        yield
    finally:
        g._o2o_as_of = saved
