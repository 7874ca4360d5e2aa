"""Absolute URLs come from O2O_PUBLIC_URL: no Host or X-Forwarded-* header changes one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.test_coupons import decode_qr
from tests.builders import Api
from tests.conftest import AppFactory

FORGED = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-For": "203.0.113.66",
}


def shopper_scan(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    """A clerk's pending shopper_scan payment, every request sent with `headers`."""
    sale = api.reserved_sale()
    path = f"/orders/{sale['order']['id']}/payments"
    body = {"method": "wechat_pay", "flow": "shopper_scan"}
    created = api.post(path, sale["clerk"]["api_key"], json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    return {**sale, "payment": created.get_json()}


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_host_changes_no_url_the_service_returns(
    app_factory: AppFactory, proxies: int
) -> None:
    """Even behind a trusted proxy (O2O_PROXY_FIX), whose X-Forwarded-Host werkzeug believes."""
    api = Api(app_factory(O2O_PROXY_FIX=proxies).test_client())
    sale = shopper_scan(api, FORGED)
    payment, clerk_key = sale["payment"], sale["clerk"]["api_key"]
    base = f"http://127.0.0.1:5000/api/v1/payments/{payment['id']}"
    assert payment["qr_url"] == f"{base}/qr"
    read = api.get(f"/payments/{payment['id']}", clerk_key, headers=FORGED)
    assert read.get_json()["qr_url"] == f"{base}/qr"
    image = api.get(f"/payments/{payment['id']}/qr", clerk_key, headers=FORGED)
    assert image.mimetype == "image/png"
    assert decode_qr(image.data) == f"http://127.0.0.1:5000/wallet/pay/{payment['id']}"
    shopper_key = sale["shopper"]["api_key"]
    confirmed = api.post(f"/payments/{payment['id']}/confirm", shopper_key, headers=FORGED)
    for response in (read, confirmed):
        assert "evil" not in json.dumps(response.get_json())
        assert "evil" not in str(response.headers)


def test_urls_start_with_the_configured_public_url_and_its_path(app_factory: AppFactory) -> None:
    api = Api(app_factory(O2O_PUBLIC_URL="https://pay.example.com/base/").test_client())
    sale = shopper_scan(api, {})
    payment = sale["payment"]
    base = f"https://pay.example.com/base/api/v1/payments/{payment['id']}"
    assert payment["qr_url"] == f"{base}/qr"
    image = api.get(f"/payments/{payment['id']}/qr", sale["clerk"]["api_key"])
    assert decode_qr(image.data) == f"https://pay.example.com/base/wallet/pay/{payment['id']}"


def test_payments_of_other_flows_have_no_qr_url(api: Api) -> None:
    shopper = api.shopper()
    paid = api.pay(api.online_order(shopper), shopper).get_json()
    assert paid["qr_url"] is None
