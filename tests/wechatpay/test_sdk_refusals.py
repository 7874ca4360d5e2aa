"""What the gateway refuses, as the SDK sees it: a wrong signature, a stale timestamp, a replayed
nonce, another merchant's order, a body naming another merchant, a malformed field, and what the
sandbox does not speak. Every refusal is WeChat's code and status."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from wechatpayv3 import WeChatPayType, utils

from o2o import crypto
from tests.builders import Api
from tests.wechatpay.conftest import register, sdk


def test_a_request_signed_with_another_key_is_a_sign_error(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    merchant.registered["private_key"] = crypto.generate_rsa_key()
    code, text = sdk(merchant, tmp_path).query(out_trade_no="ANY000001")
    assert (code, json.loads(text)["code"]) == (401, "SIGN_ERROR")


def test_a_request_without_authorization_is_refused_with_a_signed_answer(
    api: Api, pointed_here: str
) -> None:
    answer = requests.get(f"{pointed_here}/v3/pay/transactions/out-trade-no/X?mchid=1", timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (401, "SIGN_ERROR")
    assert answer.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_stale_timestamp_is_refused(
    api: Api, pointed_here: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path)
    real = time.time
    monkeypatch.setattr(utils.time, "time", lambda: real() - 301)
    code, text = wxpay.query(out_trade_no="ANY000001")
    assert (code, json.loads(text)["code"]) == (401, "SIGN_ERROR")
    assert "timestamp" in json.loads(text)["message"]


def test_a_replayed_nonce_is_refused(
    api: Api, pointed_here: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path)
    fixed = uuid.UUID("12345678123456781234567812345678")
    monkeypatch.setattr(utils.uuid, "uuid4", lambda: fixed)
    assert wxpay.query(out_trade_no="ANY000001")[0] == 404
    code, text = wxpay.query(out_trade_no="ANY000001")
    assert (code, json.loads(text)["code"]) == (401, "SIGN_ERROR")
    assert "nonce" in json.loads(text)["message"]


def test_another_merchants_order_does_not_exist_for_this_one(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    store_ids = [api.store()["id"]]
    ours = sdk(register(api, mode, store_ids=store_ids), tmp_path / "ours")
    theirs = sdk(register(api, mode, store_ids=store_ids), tmp_path / "theirs")
    code, text = theirs.pay(description="GXG", out_trade_no="THEIRS00001", amount={"total": 100})
    assert code == 200, text
    code, text = ours.query(out_trade_no="THEIRS00001")
    assert (code, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")
    code, text = ours.close(out_trade_no="THEIRS00001")
    assert (code, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")


def test_a_body_naming_another_merchant_or_a_bad_amount_is_refused(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path)
    code, text = wxpay.pay(description="GXG", out_trade_no="BAD000001", amount={"total": 1.5})
    assert (code, json.loads(text)["code"]) == (400, "PARAM_ERROR")
    assert json.loads(text)["detail"]["field"] == "total"
    code, text = wxpay.pay(
        description="GXG", out_trade_no="BAD000002", amount={"total": 100}, mchid="1600000000"
    )
    assert (code, json.loads(text)["code"]) == (400, "APPID_MCHID_NOT_MATCH")
    code, text = wxpay.pay(description="GXG", out_trade_no="短", amount={"total": 100})
    assert (code, json.loads(text)["code"]) == (400, "PARAM_ERROR")


def test_partner_mode_bills_and_unknown_operations_answer_clearly(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    code, text = wxpay.trade_bill(bill_date="2026-12-03")
    assert (code, json.loads(text)["code"]) == (400, "NOT_SUPPORTED")
    code, text = wxpay.combine_pay(
        combine_out_trade_no="C20261207001",
        sub_orders=[{"mchid": merchant.mchid, "out_trade_no": "S1", "amount": {"total": 1}}],
    )
    assert (code, json.loads(text)["code"]) == (400, "NOT_SUPPORTED")


def test_an_h5_payment_without_its_scene_info_is_a_param_error(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path)
    for scene_info in (
        {"payer_client_ip": "127.0.0.1"},
        {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Watch"}},
    ):
        code, text = wxpay.pay(
            description="GXG",
            out_trade_no="H5000000001",
            amount={"total": 100},
            pay_type=WeChatPayType.H5,
            scene_info=scene_info,
        )
        assert (code, json.loads(text)["code"]) == (400, "PARAM_ERROR"), text


def test_a_serial_that_is_not_the_merchants_certificate_is_a_sign_error(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    merchant.registered["cert_serial_no"] = "1234ABCD"
    code, text = sdk(merchant, tmp_path).query(out_trade_no="ANY000001")
    assert (code, json.loads(text)["code"]) == (401, "SIGN_ERROR")
    assert "serial_no" in json.loads(text)["message"]
