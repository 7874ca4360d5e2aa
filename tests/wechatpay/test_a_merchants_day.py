"""One merchant's sale end to end, as its own unmodified SDK sees it: a Native trade, the shopper
paying its code_url, the query, the TRANSACTION.SUCCESS notification its notify_url receives and
`callback()` decrypts, a partial then a full refund, query_refund, and both REFUND.SUCCESS
notifications — in certificate mode and in public-key mode, every signature verified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from wechatpayv3 import WeChatPay

from tests.builders import Api, deliver
from tests.wechatpay.conftest import NotifyUrl, register, sdk


def notified(app: Flask, wxpay: WeChatPay, notify_url: NotifyUrl) -> list[dict[str, Any]]:
    """Deliver what is due; what the SDK's callback() made of each notification received."""
    before = len(notify_url.received)
    while deliver(app):
        pass
    told = [wxpay.callback(headers, body) for headers, body in notify_url.received[before:]]
    assert None not in told, "a notification the SDK refused"
    return told


def test_a_native_sale_is_paid_notified_refunded_in_part_and_in_full_and_each_step_notified(
    api: Api, app: Flask, pointed_here: str, mode: str, tmp_path: Path, notify_url: NotifyUrl
) -> None:
    wxpay = sdk(register(api, mode), tmp_path, notify_url=notify_url.url)
    code, text = wxpay.pay(
        description="GXG 大衣", out_trade_no="DAY000000001", amount={"total": 89900}
    )
    assert code == 200, text
    pay = {"code_url": json.loads(text)["code_url"]}
    assert (
        api.post("/wechatpay/code-url/pay", api.shopper()["api_key"], json=pay).status_code == 200
    )
    trade = json.loads(wxpay.query(out_trade_no="DAY000000001")[1])
    assert trade["trade_state"] == "SUCCESS"

    [paid] = notified(app, wxpay, notify_url)
    assert paid["event_type"] == "TRANSACTION.SUCCESS"
    assert paid["resource"]["transaction_id"] == trade["transaction_id"]
    assert paid["resource"]["amount"]["payer_total"] == 89900

    for out_refund_no, amount in (("DAY-R1", 30000), ("DAY-R2", 59900)):
        refund = {"refund": amount, "total": 89900, "currency": "CNY"}
        code, text = wxpay.refund(
            out_refund_no=out_refund_no, amount=refund, out_trade_no="DAY000000001"
        )
        assert (code, json.loads(text)["status"]) == (200, "SUCCESS"), text
    code, text = wxpay.query_refund(out_refund_no="DAY-R1")
    assert (code, json.loads(text)["amount"]["refund"]) == (200, 30000)

    refunds = notified(app, wxpay, notify_url)
    assert sorted((told["event_type"], told["resource"]["out_refund_no"]) for told in refunds) == [
        ("REFUND.SUCCESS", "DAY-R1"),
        ("REFUND.SUCCESS", "DAY-R2"),
    ]
    assert json.loads(wxpay.query(out_trade_no="DAY000000001")[1])["trade_state"] == "REFUND"
