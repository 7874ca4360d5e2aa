"""WeChat Pay's notifications, as the merchant's `notify_url` gets them: TRANSACTION.SUCCESS and
REFUND.SUCCESS / ABNORMAL / CLOSED that the SDK's own `callback()` verifies and decrypts, sent
by the one delivery engine, and retried on WeChat's schedule on the sandbox clock while the
merchant answers 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.builders import Api, deliver
from tests.wechatpay.conftest import NotifyUrl, register, sdk


def _paid_native(api: Api, wxpay: Any, out_trade_no: str) -> None:
    code, text = wxpay.pay(description="GXG", out_trade_no=out_trade_no, amount={"total": 39900})
    assert code == 200, text
    body = {"code_url": json.loads(text)["code_url"]}
    assert (
        api.post("/wechatpay/code-url/pay", api.shopper()["api_key"], json=body).status_code == 200
    )


def test_the_sdk_decrypts_the_payment_and_refund_notifications_its_notify_url_gets(
    api: Api, app: Flask, pointed_here: str, mode: str, tmp_path: Path, notify_url: NotifyUrl
) -> None:
    wxpay = sdk(register(api, mode), tmp_path, notify_url=notify_url.url)
    _paid_native(api, wxpay, "NOTIFY000001")
    while deliver(app):
        pass
    headers, body = notify_url.received[-1]
    told = wxpay.callback(headers, body)
    assert told is not None
    assert told["event_type"] == "TRANSACTION.SUCCESS"
    assert told["resource"]["out_trade_no"] == "NOTIFY000001"
    assert told["resource"]["trade_state"] == "SUCCESS"

    refund = {"refund": 39900, "total": 39900, "currency": "CNY"}
    assert wxpay.refund(out_refund_no="NR1", amount=refund, out_trade_no="NOTIFY000001")[0] == 200
    while deliver(app):
        pass
    headers, body = notify_url.received[-1]
    told = wxpay.callback(headers, body)
    assert told is not None
    assert told["event_type"] == "REFUND.SUCCESS"
    assert (told["resource"]["out_refund_no"], told["resource"]["refund_status"]) == (
        "NR1",
        "SUCCESS",
    )

    tampered = body.replace(b"REFUND.SUCCESS", b"REFUND.CLOSED")
    assert wxpay.callback(headers, tampered) is None


def _told(app: Flask, wxpay: Any, notify_url: NotifyUrl) -> dict[str, Any]:
    """The last notification the merchant got, as the SDK's `callback()` decrypts it."""
    while deliver(app):
        pass
    headers, body = notify_url.received[-1]
    told: dict[str, Any] | None = wxpay.callback(headers, body)
    assert told is not None
    return told


@pytest.mark.parametrize(
    ("refund_fen", "status", "summary"),
    [(10005, "ABNORMAL", "退款异常"), (10006, "CLOSED", "退款关闭")],
    ids=["abnormal", "closed"],
)
def test_a_refund_of_a_magic_amount_fails_with_its_notification_and_a_later_refund_succeeds(
    api: Api,
    app: Flask,
    pointed_here: str,
    mode: str,
    tmp_path: Path,
    notify_url: NotifyUrl,
    refund_fen: int,
    status: str,
    summary: str,
) -> None:
    wxpay = sdk(register(api, mode), tmp_path, notify_url=notify_url.url)
    _paid_native(api, wxpay, "FAILREFUND01")
    assert _told(app, wxpay, notify_url)["event_type"] == "TRANSACTION.SUCCESS"
    amount = {"refund": refund_fen, "total": 39900, "currency": "CNY"}

    code, text = wxpay.refund(out_refund_no="FR1", amount=amount, out_trade_no="FAILREFUND01")

    assert code == 200, text
    assert json.loads(text)["status"] == status
    assert "success_time" not in json.loads(text)
    assert json.loads(wxpay.query_refund(out_refund_no="FR1")[1])["status"] == status
    assert json.loads(wxpay.query(out_trade_no="FAILREFUND01")[1])["trade_state"] == "SUCCESS"
    told = _told(app, wxpay, notify_url)
    assert (told["event_type"], told["summary"]) == (f"REFUND.{status}", summary)
    resource = told["resource"]
    assert (resource["out_refund_no"], resource["refund_status"]) == ("FR1", status)
    assert resource["amount"]["refund"] == refund_fen
    assert "success_time" not in resource

    amount = {"refund": 39900, "total": 39900, "currency": "CNY"}
    code, text = wxpay.refund(out_refund_no="FR2", amount=amount, out_trade_no="FAILREFUND01")
    assert (code, json.loads(text)["status"]) == (200, "SUCCESS")
    told = _told(app, wxpay, notify_url)
    assert (told["event_type"], told["resource"]["refund_status"]) == ("REFUND.SUCCESS", "SUCCESS")
    assert json.loads(wxpay.query(out_trade_no="FAILREFUND01")[1])["trade_state"] == "REFUND"


def test_a_notification_answered_with_500_is_retried_on_wechats_schedule_on_the_sandbox_clock(
    api: Api, app: Flask, pointed_here: str, tmp_path: Path, notify_url: NotifyUrl
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path, notify_url=notify_url.url)
    api.clock(advance_seconds=0)  # frozen: only the test moves it
    _paid_native(api, wxpay, "RETRY0000001")
    notify_url.status = 500
    deliver(app)
    attempts = [len(notify_url.received)]
    for wait in (15, 15, 30, 180, 600):
        api.clock(advance_seconds=wait - 1)
        deliver(app)
        attempts.append(len(notify_url.received))  # not due a second early
        api.clock(advance_seconds=1)
        deliver(app)
        attempts.append(len(notify_url.received))
    assert attempts == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    notify_url.status = 204
    api.clock(advance_seconds=1200)
    deliver(app)
    api.clock(advance_seconds=3600)
    deliver(app)
    assert len(notify_url.received) == 7  # acknowledged: no more
