"""Security headers: nosniff on every response; no-store on every response, above all those
that carry an API key, a QR token, a payment code or a payment QR."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.test import TestResponse

from tests.builders import ADMIN_KEY, Api
from tests.conftest import AppFactory


def assert_private(response: TestResponse) -> None:
    assert response.headers["Cache-Control"] == "no-store", response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff", response.headers


def test_responses_carrying_keys_tokens_codes_and_payment_qrs_are_never_stored(api: Api) -> None:
    store_id = api.store()["id"]
    clerk_response = api.post("/clerks", ADMIN_KEY, json={"name": "Li", "store_id": store_id})
    shopper_response = api.post("/shoppers", ADMIN_KEY, json={"name": "Mei"})
    clerk, shopper = clerk_response.get_json(), shopper_response.get_json()
    code = api.coupon(shopper)["code"]
    token = api.get(f"/coupons/{code}/qr-token", shopper["api_key"])
    order = api.order(clerk, token=token.get_json()["token"])
    pending = api.post(
        f"/orders/{order['id']}/payments",
        clerk["api_key"],
        json={"method": "alipay", "flow": "shopper_scan"},
    )
    payment_id = pending.get_json()["id"]
    carrying_secrets = {
        "POST /clerks (api_key)": clerk_response,
        "POST /shoppers (api_key)": shopper_response,
        "GET /coupons/{code}/qr-token": token,
        "GET /coupons/{code}/qr": api.get(f"/coupons/{code}/qr", shopper["api_key"]),
        "GET /coupons/{code}/qr?format=svg": api.get(
            f"/coupons/{code}/qr?format=svg", shopper["api_key"]
        ),
        "GET /me/payment-code": api.get("/me/payment-code", shopper["api_key"]),
        "POST /orders/{id}/payments (qr_url)": pending,
        "GET /payments/{id}": api.get(f"/payments/{payment_id}", clerk["api_key"]),
        "GET /payments/{id}/qr": api.get(f"/payments/{payment_id}/qr", clerk["api_key"]),
        # last: a rotation ends the clerk's old key
        "POST /clerks/{id}/keys (rotation)": api.post(f"/clerks/{clerk['id']}/keys", ADMIN_KEY),
        "POST /shoppers/{id}/keys (rotation)": api.post(
            f"/shoppers/{api.shopper()['id']}/keys", ADMIN_KEY
        ),
    }
    for name, response in carrying_secrets.items():
        assert response.status_code in (200, 201), (name, response.status_code)
        assert_private(response)


def test_every_route_and_every_error_carries_both_headers(app: Flask) -> None:
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            assert_private(client.open(path, method=method))
    for path in ("/nowhere", "/api/v1/coupons//events", "/healthz", "/readyz"):
        assert_private(client.get(path))
    assert_private(client.delete("/api/v1/stores"))  # 405


def test_a_response_that_chose_its_own_caching_keeps_it(app_factory: AppFactory) -> None:
    app = app_factory()
    app.add_url_rule(
        "/cacheable", "cacheable", lambda: ("{}", 200, {"Cache-Control": "public, max-age=60"})
    )
    response = app.test_client().get("/cacheable")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
