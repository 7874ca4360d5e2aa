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


def walk_in_reads(api: Api, sale: dict[str, Any], keys: dict[str, str]) -> dict[str, list[int]]:
    """Each caller's status for GET /payments/{id}, /payments/{id}/qr and /orders/{id}."""
    paths = [f"/payments/{sale['payment']['id']}", f"/payments/{sale['payment']['id']}/qr"]
    paths.append(f"/orders/{sale['order']['id']}")
    return {who: [api.get(path, key).status_code for path in paths] for who, key in keys.items()}


def test_a_walk_ins_shopper_scan_payment_is_seen_by_any_shopper_until_one_confirms_it(
    api: Api,
) -> None:
    sale = api.walk_in_sale()
    payer, other = api.shopper(), api.shopper()
    keys = {
        "admin": ADMIN_KEY,
        "the store's clerk": sale["clerk"]["api_key"],
        "another store's clerk": api.clerk()["api_key"],
        "a shopper": payer["api_key"],
        "another shopper": other["api_key"],
    }
    assert walk_in_reads(api, sale, keys) == {
        "admin": [200, 200, 200],
        "the store's clerk": [200, 200, 200],
        "another store's clerk": [403, 403, 403],
        "a shopper": [200, 200, 200],
        "another shopper": [200, 200, 200],
    }
    assert api.confirm(sale["payment"]["id"], payer).get_json()["status"] == "succeeded"
    assert walk_in_reads(api, sale, keys) == {
        "admin": [200, 200, 200],
        "the store's clerk": [200, 200, 200],
        "another store's clerk": [403, 403, 403],
        "a shopper": [200, 200, 200],
        "another shopper": [404, 404, 404],
    }
