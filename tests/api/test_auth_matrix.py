"""Every endpoint refuses a missing key (401) and every role it does not serve (403)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from tests.builders import ADMIN_KEY, Api, error_code

# The spec and the Swagger UI page on it (o2o.api.docs_ui) answer anyone.
PUBLIC = {
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/",
    "/api/v1/docs/assets/<path:filename>",
}


def endpoints(app: Flask) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        view: Any = app.view_functions[rule.endpoint]  # api.auth tags each view with its roles
        roles: tuple[str, ...] = view.o2o_roles
        path = re.sub(r"<[^>]+>", "X", rule.rule).removeprefix("/api/v1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, roles))
    return found


def test_every_api_endpoint_declares_its_roles(app: Flask) -> None:
    assert len(endpoints(app)) >= 25


def test_every_endpoint_needs_a_key(api: Api, app: Flask) -> None:
    for method, path, _ in endpoints(app):
        response = api.call(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert error_code(response) == "unauthenticated"


def test_every_endpoint_refuses_the_roles_it_does_not_serve(api: Api, app: Flask) -> None:
    keys = {
        "admin": ADMIN_KEY,
        "clerk": api.clerk()["api_key"],
        "shopper": api.shopper()["api_key"],
    }
    checked = 0
    for method, path, roles in endpoints(app):
        for role in set(keys) - set(roles):
            response = api.call(method, path, keys[role], json={})
            assert response.status_code == 403, (method, path, role)
            assert error_code(response) == "forbidden"
            checked += 1
    assert checked >= 20
