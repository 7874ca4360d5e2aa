"""Bearer-key authentication and role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from o2o import clock
from o2o.errors import O2OError
from o2o.principal import Principal
from o2o.services.accounts import authenticate
from o2o.vocabulary import ErrorCode, Role

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def _bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


# A looked-up principal is remembered per process for O2O_AUTH_CACHE_SECONDS (0: never), which
# saves a query on every request of the hot path; it is the most a revoked or expired key can
# outlive its end on a worker that saw it last. Never past the key's own expiry, and unknown
# keys are never remembered.
_CACHE_LIMIT = 10_000
_CACHE = "o2o_keys"


def _principal(key: str | None) -> Principal:
    cache: dict[str, tuple[Principal, float]] = current_app.extensions.setdefault(_CACHE, {})
    if key and (hit := cache.get(key)) and hit[1] > monotonic():
        return hit[0]
    principal, expires_at = authenticate(key, current_app.config["O2O_ADMIN_KEY"])
    lifetime = float(current_app.config["O2O_AUTH_CACHE_SECONDS"])
    if expires_at is not None:
        lifetime = min(lifetime, (expires_at - clock.real_now()).total_seconds())
    if key and lifetime > 0:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = (principal, monotonic() + lifetime)
    return principal


def forget_principals(*, clerk_id: str | None = None, shopper_id: str | None = None) -> None:
    """Drop this process's remembered principals of a clerk or shopper whose keys just changed
    (other workers forget theirs within the cache's lifetime)."""
    cache: dict[str, tuple[Principal, float]] = current_app.extensions.get(_CACHE, {})
    for key, (principal, _) in list(cache.items()):
        if (clerk_id and principal.clerk_id == clerk_id) or (
            shopper_id and principal.shopper_id == shopper_id
        ):
            cache.pop(key, None)


def require(*roles: Role) -> Callable[[F], F]:
    """Authenticate the caller, then allow only the given roles (403 otherwise)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = _principal(_bearer_key())
            if principal.role not in roles:
                raise O2OError(
                    ErrorCode.FORBIDDEN, f"This needs a key of role {' or '.join(roles)}."
                )
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.o2o_roles = roles  # type: ignore[attr-defined]  # read by the auth test
        return cast(F, wrapper)

    return decorator
