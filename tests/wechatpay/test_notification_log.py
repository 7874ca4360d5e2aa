"""A merchant's notification log: what WeChat Pay's notifications to it were and how each
attempt went, from the one delivery log (GET /api/v1/wechatpay/merchants/{mchid}/notifications)."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from tests.builders import Api, deliver, error_code
from tests.wechatpay.conftest import NotifyUrl, register, sdk


def test_a_merchants_log_shows_each_notification_its_attempts_and_the_body_the_sdk_verifies(
    api: Api, app: Flask, pointed_here: str, tmp_path: Path, notify_url: NotifyUrl
) -> None:
    merchant, other = register(api, "public_key"), register(api, "public_key")
    wxpay = sdk(merchant, tmp_path, notify_url=notify_url.url)
    api.clock(advance_seconds=0)
    code, text = wxpay.pay(description="GXG", out_trade_no="LOG000000001", amount={"total": 39900})
    body = {"code_url": json.loads(text)["code_url"]}
    assert (
        api.post("/wechatpay/code-url/pay", api.shopper()["api_key"], json=body).status_code == 200
    )
    notify_url.status = 500
    deliver(app)
    notify_url.status = 204
    api.clock(advance_seconds=15)
    deliver(app)

    path = f"/wechatpay/merchants/{merchant.mchid}/notifications"
    [shown] = api.listed(path, api.admin_key)
    assert (shown["notification_type"], shown["event_type"]) == (
        "TRANSACTION.SUCCESS",
        "payment.succeeded",
    )
    assert (shown["channel"], shown["url"], shown["status"]) == (
        "wechatpay",
        notify_url.url,
        "succeeded",
    )
    assert [attempt["status_code"] for attempt in shown["attempts"]] == [500, 204]
    headers, received = notify_url.received[-1]
    assert shown["body"].encode() == received
    assert wxpay.callback(headers, shown["body"].encode()) is not None

    assert api.listed(path, api.admin_key, status="pending") == []
    assert api.listed(f"/wechatpay/merchants/{other.mchid}/notifications", api.admin_key) == []
    unknown = api.get("/wechatpay/merchants/1234567890/notifications", api.admin_key)
    assert error_code(unknown) == "not_found"
    assert api.get(path, api.shopper()["api_key"]).status_code == 403
