"""Registering WeChat Pay merchants: what is shown once, what is never shown, what is refused;
and the platform identity, made once and kept."""

from __future__ import annotations

from typing import Any

from flask import Flask

from o2o import crypto
from tests.builders import Api, error_code
from tests.wechatpay.conftest import register


def _merchant_body(api: Api, **fields: Any) -> dict[str, Any]:
    store_id = api.store()["id"]
    return {"appid": "wx8888888888888888", "name": "GXG", "store_ids": [store_id], **fields}


def test_a_registered_merchant_gets_its_keys_once_and_the_list_never_shows_them(api: Api) -> None:
    registered = register(api, "certificate").registered
    assert len(registered["apiv3_key"]) == 32
    assert registered["apiv3_key"].isascii()
    assert registered["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert f"mchid={registered['mchid']!r}" in registered["sdk_config"]
    listed = api.get("/wechatpay/merchants", api.admin_key).get_json()["items"]
    assert [m["mchid"] for m in listed] == [registered["mchid"]]
    assert not {"apiv3_key", "private_key"} & set(listed[0])


def test_a_merchant_that_uploads_its_public_key_gets_no_private_key(api: Api) -> None:
    private_key = crypto.generate_rsa_key()
    body = _merchant_body(api, merchant_public_key=crypto.public_key_pem(private_key))
    response = api.post("/wechatpay/merchants", api.admin_key, json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["private_key"] is None


def test_a_taken_mchid_an_unknown_store_and_a_garbage_key_are_refused(api: Api) -> None:
    body = _merchant_body(api, mchid="1900000001")
    assert api.post("/wechatpay/merchants", api.admin_key, json=body).status_code == 201
    again = api.post("/wechatpay/merchants", api.admin_key, json=body)
    assert (again.status_code, error_code(again)) == (409, "merchant_exists")
    unknown = api.post(
        "/wechatpay/merchants", api.admin_key, json={**body, "mchid": None, "store_ids": ["st_no"]}
    )
    assert error_code(unknown) == "validation_error"
    assert "store_ids" in unknown.get_json()["error"]["details"]
    garbage = {**body, "mchid": "1900000002", "merchant_public_key": "not a key"}
    refused = api.post("/wechatpay/merchants", api.admin_key, json=garbage)
    assert error_code(refused) == "validation_error"
    assert "merchant_public_key" in refused.get_json()["error"]["details"]


def test_only_an_admin_registers_merchants(api: Api) -> None:
    shopper = api.shopper()
    response = api.post("/wechatpay/merchants", shopper["api_key"], json=_merchant_body(api))
    assert error_code(response) == "forbidden"


def test_the_platform_serial_survives_a_restart(app: Flask, app_factory: Any) -> None:
    first = Api(app.test_client()).get("/wechatpay/platform", "test-admin-key").get_json()
    again = Api(app_factory().test_client()).get("/wechatpay/platform", "test-admin-key")
    assert again.get_json()["serial_no"] == first["serial_no"]
    assert again.get_json()["public_key_id"] == first["public_key_id"]
    assert first["public_key_id"].startswith("PUB_KEY_ID_")
