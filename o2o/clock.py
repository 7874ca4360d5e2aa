"""now(): the one seam for time — the real UTC clock, or the sandbox clock kept in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g, has_app_context


def real_now() -> datetime:
    return datetime.now(UTC)


def sandbox_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("O2O_SANDBOX"))


def now() -> datetime:
    """The service's current time (timezone-aware UTC)."""
    if not sandbox_enabled():
        return real_now()
    cached = g.get("_o2o_now")
    if cached is None:
        from o2o.services.sandbox import read_clock  # the clock row lives in the database

        cached = g._o2o_now = read_clock()
    return cached


def forget_cached_now() -> None:
    """Drop the per-request copy after the sandbox clock moved."""
    if has_app_context():
        g.pop("_o2o_now", None)
