"""The wallet pays WeChat Pay sandbox trades in real Chromium: a Native trade's `weixin://`
code_url pasted on "Pay a store's QR", and an H5 trade's `h5_url` opened in the browser; the
outcome is the sandbox's (the magic amounts), not the page's, and the merchant's SDK sees it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from tests.browser.support import Browser, World, open_page

TIMEOUT = 10_000  # ms


@pytest.fixture
def wxpay(base: str, world: World, monkeypatch: pytest.MonkeyPatch) -> WeChatPay:
    """A public-key-mode merchant selling in the world's store, its SDK pointed at the live
    server the README's one-line way."""
    registered: dict[str, Any] = world.api.call(
        "POST",
        "/wechatpay/merchants",
        body={
            "appid": "wx5555555555555555",
            "name": "GXG 杭州",
            "store_ids": [world.store["id"]],
            "mode": "public_key",
        },
    )
    here = property(lambda self: base, lambda self, value: None)
    monkeypatch.setattr(Core, "_gate_way", here, raising=False)
    return WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=registered["mchid"],
        private_key=registered["private_key"],
        cert_serial_no=registered["cert_serial_no"],
        appid=registered["appid"],
        apiv3_key=registered["apiv3_key"],
        notify_url="http://127.0.0.1:9/notify",
        public_key=registered["platform"]["public_key"],
        public_key_id=registered["platform"]["public_key_id"],
    )


def trade_state(wxpay: WeChatPay, out_trade_no: str) -> str:
    code, text = wxpay.query(out_trade_no=out_trade_no)
    assert code == 200, text
    return str(json.loads(text)["trade_state"])


def test_a_pasted_code_url_of_a_magic_amount_is_declined_as_the_sandbox_says(
    browser: Browser, base: str, world: World, wxpay: WeChatPay
) -> None:
    code, text = wxpay.pay(
        description="GXG 衬衫", out_trade_no="WALLET000001", amount={"total": 12801}
    )
    assert code == 200, text
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    wallet.locator("#merchant-text").fill(json.loads(text)["code_url"])
    wallet.locator("#merchant-text").press("Enter")
    wallet.locator("#confirm-screen").wait_for(timeout=TIMEOUT)
    assert "¥128.01" in wallet.locator("#confirm-details").inner_text()
    assert wallet.locator("#wallet-outcome").is_hidden()  # the sandbox decides, not the page
    wallet.get_by_role("button", name="Pay", exact=True).click()
    wallet.locator("#confirm-status").get_by_text("The payment failed:").wait_for(timeout=TIMEOUT)
    assert wallet.get_by_role("button", name="Pay", exact=True).is_hidden()
    assert trade_state(wxpay, "WALLET000001") == "PAYERROR"


def test_an_h5_url_opened_in_the_browser_is_paid_from_the_wallet(
    browser: Browser, base: str, world: World, wxpay: WeChatPay
) -> None:
    code, text = wxpay.pay(
        description="GXG 围巾",
        out_trade_no="WALLET000002",
        amount={"total": 6600},
        scene_info={"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}},
        pay_type=WeChatPayType.H5,
    )
    assert code == 200, text
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    wallet.goto(json.loads(text)["h5_url"])
    wallet.locator("#confirm-screen").wait_for(timeout=TIMEOUT)
    assert "¥66.00" in wallet.locator("#confirm-details").inner_text()
    wallet.get_by_role("button", name="Pay", exact=True).click()
    wallet.locator("#confirm-status").get_by_text("Paid").wait_for(timeout=TIMEOUT)
    assert trade_state(wxpay, "WALLET000002") == "SUCCESS"


def test_a_code_url_that_waits_for_the_password_says_so_and_settles_on_the_sandbox_clock(
    browser: Browser, base: str, world: World, wxpay: WeChatPay
) -> None:
    code, text = wxpay.pay(
        description="GXG 外套", out_trade_no="WALLET000003", amount={"total": 50003}
    )
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    wallet.locator("#merchant-text").fill(json.loads(text)["code_url"])
    wallet.locator("#merchant-text").press("Enter")
    wallet.get_by_role("button", name="Pay", exact=True).click()
    wallet.locator("#confirm-status").get_by_text("The payment is going through").wait_for(
        timeout=TIMEOUT
    )
    assert wallet.get_by_role("button", name="Pay", exact=True).is_hidden()  # no second confirm
    assert trade_state(wxpay, "WALLET000003") == "USERPAYING"
    world.api.call("POST", "/sandbox/clock", body={"advance_seconds": 6})
    assert trade_state(wxpay, "WALLET000003") == "SUCCESS"


def cashier_path(wxpay: WeChatPay, appid: str, prepay_id: str, **changed: str) -> str:
    """The mock cashier's link with what the merchant's page hands wx.requestPayment."""
    timestamp, nonce, package = (
        "1765080000",
        "CASHIER0NONCE0000000000000000000",
        f"prepay_id={prepay_id}",
    )
    params = {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": wxpay.sign([appid, timestamp, nonce, package]),
        **changed,
    }
    return "/wallet/cashier?" + urlencode(params)


def test_the_mock_cashier_checks_the_paysign_and_pays_a_jsapi_trade(
    browser: Browser, base: str, world: World, wxpay: WeChatPay
) -> None:
    appid = "wx5555555555555555"
    openid = world.api.call("GET", f"/wechatpay/openid?appid={appid}", world.shopper_key)["openid"]
    code, text = wxpay.pay(
        description="GXG 羊毛大衣",
        out_trade_no="CASHIER00001",
        amount={"total": 129900},
        payer={"openid": openid},
        pay_type=WeChatPayType.JSAPI,
    )
    assert code == 200, text
    prepay_id = json.loads(text)["prepay_id"]

    forged = cashier_path(wxpay, appid, prepay_id, nonceStr="F" * 32)
    cashier = open_page(browser, base, forged, world.shopper_key, world.outside)
    cashier.locator("#cashier-screen").wait_for(timeout=TIMEOUT)
    details = cashier.locator("#cashier-details").inner_text()
    for shown in ("GXG 杭州", "GXG 羊毛大衣", "¥1299.00"):
        assert shown in details
    cashier.get_by_role("button", name="Pay", exact=True).click()
    cashier.locator("#message").get_by_text("paySign").wait_for(timeout=TIMEOUT)
    assert trade_state(wxpay, "CASHIER00001") == "NOTPAY"

    cashier.goto(base + cashier_path(wxpay, appid, prepay_id))
    cashier.get_by_role("button", name="Pay", exact=True).click()
    cashier.locator("#cashier-status").get_by_text("Paid").wait_for(timeout=TIMEOUT)
    assert trade_state(wxpay, "CASHIER00001") == "SUCCESS"
