"""Bearer-key authentication and role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from o2o.errors import Forbidden
from o2o.services.accounts import Principal, authenticate

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


def require(*roles: str) -> Callable[[F], F]:
    """Authenticate the caller, then allow only the given roles (403 otherwise)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate(_bearer_key(), current_app.config["O2O_ADMIN_KEY"])
            if principal.role not in roles:
                raise Forbidden(f"This needs a key of role {' or '.join(roles)}.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.o2o_roles = roles  # type: ignore[attr-defined]  # read by the auth test
        return cast(F, wrapper)

    return decorator
