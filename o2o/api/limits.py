"""Rate limits with flask-limiter (the one module that imports it): failed authentication per
client address; claims, scans, orders, payments, payment codes and coupon look-ups per caller."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage

from o2o.api.auth import current_principal, require
from o2o.api.errors import error_response, treat_as_unavailable
from o2o.errors import O2OError
from o2o.vocabulary import ErrorCode

AUTH_FAILURES = "auth_failures"

# Each limit and its default rate: what one real shop's busiest honest client stays well under.
RATE_LIMITS: dict[str, str] = {
    AUTH_FAILURES: "20/minute",  # 401 answers per client address; then 429 for any request
    "claims": "30/minute",  # per shopper
    "scans": "120/minute",  # per clerk (and per shopper reading a photo)
    "orders": "60/minute",  # per clerk, per shopper
    "payments": "60/minute",  # per clerk, per shopper: creating and confirming payments
    "payment_codes": "30/minute",  # per shopper
    "coupon_lookups": "120/minute",  # per caller: a coupon, its QR token, QR image, history
}

# The per-caller limits and the endpoints that share each one's budget.
CALLER_LIMITS: dict[str, tuple[str, ...]] = {
    "claims": ("campaigns.claim",),
    "scans": ("checkout.scan", "checkout.scan_image"),
    "orders": ("checkout.place_order",),
    "payments": ("payments.create_payment", "payments.confirm_payment"),
    "payment_codes": ("payments.payment_code",),
    "coupon_lookups": (
        "coupons.get_coupon",
        "coupons.qr_token",
        "coupons.qr_image",
        "coupons.coupon_events",
    ),
}

# Probes answer whoever asks: a locked-out address must not take an instance out of rotation.
UNLIMITED_ENDPOINTS = ("healthz", "readyz")

OFF = "off"
_EXTENSION = "o2o_limiter"


class RateLimitSettingError(ValueError):
    """O2O_RATE_LIMITS cannot be read: the app refuses to start rather than guess."""


def rate_limits(setting: str | None, sandbox: bool) -> dict[str, str]:
    """The rate of every limit in force, by name ({} when limits are off), from O2O_RATE_LIMITS.

    Unset: every limit at its default, or none in sandbox mode (test suites and `o2o simulate`
    drive thousands of calls). "" or "off": none. Otherwise `name=rate` entries separated by
    `;` change the defaults they name, e.g. `claims=10/minute;scans=off;orders=2/second,60/minute`
    (a rate in the limits library's notation, `,` joining several; `off` drops that limit).
    An unknown name or an unreadable rate raises RateLimitSettingError: the app does not start.
    """
    if setting is None:
        return {} if sandbox else dict(RATE_LIMITS)
    if setting.strip().lower() in ("", OFF):
        return {}
    rates = dict(RATE_LIMITS)
    for entry in filter(None, (part.strip() for part in setting.split(";"))):
        name, equals, rate = (part.strip() for part in entry.partition("="))
        if not equals or not rate:
            raise RateLimitSettingError(
                f"O2O_RATE_LIMITS: {entry!r} is not name=rate (e.g. claims=30/minute)."
            )
        if name not in RATE_LIMITS:
            raise RateLimitSettingError(
                f"O2O_RATE_LIMITS: no limit is called {name!r}; "
                f"the limits are {', '.join(RATE_LIMITS)}."
            )
        if rate.lower() == OFF:
            rates.pop(name, None)
            continue
        try:
            parse_many(rate)
        except ValueError as error:
            raise RateLimitSettingError(
                f"O2O_RATE_LIMITS: {name}={rate!r} is not a rate such as 30/minute "
                "or 5/second,100/hour."
            ) from error
        rates[name] = rate
    return rates


def client_address() -> str:
    """The client's address: the socket's peer, or with O2O_PROXY_FIX what the proxy saw."""
    return request.remote_addr or "unknown"


def _caller() -> str:
    """The authenticated caller: every limit keyed by it runs after authentication."""
    principal = current_principal()
    return f"{principal.role}:{principal.actor_id}"


def _authentication_failed(response: Response) -> bool:
    return response.status_code == ErrorCode.UNAUTHENTICATED.status


def install(app: Flask) -> None:
    """Put the configured limits on the app (nothing at all when limits are off)."""
    rates = rate_limits(app.config["O2O_RATE_LIMITS"], app.config["O2O_SANDBOX"])
    if not rates:
        return
    limiter = Limiter(
        key_func=client_address,
        app=app,
        storage_uri=app.config["O2O_RATE_LIMIT_STORAGE"],
        # A store that cannot be reached raises StorageError, which answers 503 like the database
        storage_options={"wrap_exceptions": True},
        strategy="fixed-window",
        # Failed authentication is an application-wide limit: checked before every request,
        # counted after it, only when it answered 401.
        application_limits=[rates[AUTH_FAILURES]] if AUTH_FAILURES in rates else None,
        application_limits_deduct_when=_authentication_failed,
        headers_enabled=False,  # X-RateLimit-* would cost a store read on every response
    )
    for endpoint in UNLIMITED_ENDPOINTS:
        if endpoint in app.view_functions:
            limiter.exempt(app.view_functions[endpoint])
    for name, endpoints in CALLER_LIMITS.items():
        if name in rates:
            limit = limiter.shared_limit(rates[name], scope=name, key_func=_caller)
            for endpoint in endpoints:
                _limit_after_authentication(app, endpoint, limit)
    treat_as_unavailable(app, StorageError)
    app.register_error_handler(RateLimitExceeded, _rate_limited(limiter))
    app.extensions[_EXTENSION] = limiter


def _limit_after_authentication(
    app: Flask, endpoint: str, limit: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Re-wrap a view as require(roles)(limit(view)): the limit's key function then reads the
    principal that require has just authenticated, and no view needs to know about limits."""
    view = app.view_functions[endpoint]
    roles = getattr(view, "o2o_roles", None)
    inner = getattr(view, "__wrapped__", None)
    if roles is None or inner is None:
        raise RuntimeError(
            f"rate limit on {endpoint}: the view is not guarded by o2o.api.auth.require, "
            "so no caller is known when its limit is checked"
        )
    app.view_functions[endpoint] = require(*roles)(limit(inner))


def _rate_limited(limiter: Limiter) -> Callable[[RateLimitExceeded], ResponseReturnValue]:
    def rate_limited(error: RateLimitExceeded) -> ResponseReturnValue:
        """429 rate_limited in the envelope, naming the limit, with Retry-After in seconds."""
        scope = error.limit.scope
        name = scope if isinstance(scope, str) and scope in RATE_LIMITS else AUTH_FAILURES
        body = O2OError(ErrorCode.RATE_LIMITED, details={"limit": name})
        return error_response(body, {"Retry-After": str(_retry_after(limiter, error))})

    return rate_limited


def _retry_after(limiter: Limiter, error: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit's window resets (its length if the store is away)."""
    window = error.limit.limit.get_expiry()
    breached = limiter.current_limit
    try:
        reset_at = breached.reset_at if breached else None
    except StorageError:
        reset_at = None
    if reset_at is None:
        return window
    return max(1, min(window, math.ceil(reset_at - time.time())))


def storage_ready(app: Flask) -> bool | None:
    """Whether the shared rate-limit store answers; None when there is none to ask (limits
    off, or counters kept in this process's memory)."""
    limiter: Limiter | None = app.extensions.get(_EXTENSION)
    if limiter is None or isinstance(limiter.storage, MemoryStorage):
        return None
    try:
        return bool(limiter.storage.check())
    except StorageError:
        return False
