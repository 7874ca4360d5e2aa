"""Bearer-key authentication and role checks for views."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request

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


# Keys are never revoked through the API, so a principal may be remembered briefly per process:
# it saves one query on every request of the hot path. Unknown keys are never cached.
PRINCIPAL_TTL = 60.0
_CACHE_LIMIT = 10_000


def _principal(key: str | None) -> Principal:
    cache: dict[str, tuple[Principal, float]] = current_app.extensions.setdefault("o2o_keys", {})
    if key and (hit := cache.get(key)) and hit[1] > time.monotonic():
        return hit[0]
    principal = authenticate(key, current_app.config["O2O_ADMIN_KEY"])
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key or ""] = (principal, time.monotonic() + PRINCIPAL_TTL)
    return principal


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
