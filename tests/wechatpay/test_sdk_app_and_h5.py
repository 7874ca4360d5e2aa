"""APP and H5 payments through the official SDK: the APP `prepay_id` is paid at the mock
cashier with the app's `sign` (over the bare prepay id), the `h5_url` opens the wallet on the
payment it asks for; both are ordinary orders of this service, and both keep the magic amounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wechatpayv3 import WeChatPay, WeChatPayType

from tests.builders import Api, error_code
from tests.wechatpay.conftest import register, sdk

H5_SCENE = {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}


def _app_params(wxpay: WeChatPay, appid: str, prepay_id: str) -> dict[str, Any]:
    """What the merchant's server hands its app (its `sign` from the SDK's sign()), in the
    cashier's field names."""
    timestamp, nonce = "1765080000", "APP0NONCE0000000000000000000000X"
    return {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": f"prepay_id={prepay_id}",
        "signType": "RSA",
        "paySign": wxpay.sign([appid, timestamp, nonce, prepay_id]),
    }


def test_an_app_payment_is_paid_at_the_cashier_with_the_apps_sign(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path, WeChatPayType.APP)
    code, text = wxpay.pay(
        description="GXG 卫衣", out_trade_no="APP20261207001", amount={"total": 29900}
    )
    assert code == 200, text
    prepay_id = json.loads(text)["prepay_id"]
    params = _app_params(wxpay, merchant.registered["appid"], prepay_id)
    shopper = api.shopper()

    jsapi_signed = {
        **params,
        "paySign": wxpay.sign(
            [params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]
        ),
    }
    refused = api.post("/wechatpay/cashier/pay", shopper["api_key"], json=jsapi_signed)
    assert error_code(refused) == "validation_error"
    paid = api.post("/wechatpay/cashier/pay", shopper["api_key"], json=params)
    assert paid.status_code == 200, paid.get_json()

    trade = json.loads(wxpay.query(out_trade_no="APP20261207001")[1])
    assert (trade["trade_state"], trade["trade_type"]) == ("SUCCESS", "APP")
    assert trade["amount"]["payer_total"] == 29900
    order = api.get(f"/orders/{paid.get_json()['order_id']}", shopper["api_key"]).get_json()
    assert (order["status"], order["payable_amount"]) == ("paid", 29900)


def test_an_h5_url_opens_the_wallet_on_its_payment_and_paying_it_settles_the_trade(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path, WeChatPayType.H5)
    code, text = wxpay.pay(
        description="GXG 围巾",
        out_trade_no="H520261207001",
        amount={"total": 9900},
        scene_info=H5_SCENE,
    )
    assert code == 200, text
    h5_url = json.loads(text)["h5_url"]
    path = urlsplit(h5_url).path
    assert path.startswith("/wallet/wechatpay/pay_")
    assert api.client.get(path).status_code == 200  # the wallet's confirm screen

    code, text = wxpay.query(out_trade_no="H520261207001")
    assert json.loads(text)["trade_state"] == "NOTPAY"
    payment_id = path.rsplit("/", 1)[1]
    code_url = f"weixin://wxpay/bizpayurl?pr={payment_id}"
    shopper = api.shopper()
    paid = api.post("/wechatpay/code-url/pay", shopper["api_key"], json={"code_url": code_url})
    assert paid.status_code == 200, paid.get_json()

    trade = json.loads(wxpay.query(out_trade_no="H520261207001")[1])
    assert (trade["trade_state"], trade["trade_type"]) == ("SUCCESS", "MWEB")


def test_an_app_payment_of_a_magic_amount_fails_at_the_cashier_as_the_table_says(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path, WeChatPayType.APP)
    code, text = wxpay.pay(
        description="GXG", out_trade_no="APP20261207002", amount={"total": 10001}
    )
    prepay_id = json.loads(text)["prepay_id"]
    params = _app_params(wxpay, merchant.registered["appid"], prepay_id)

    paid = api.post("/wechatpay/cashier/pay", api.shopper()["api_key"], json=params)
    assert paid.get_json()["trade_state"] == "PAYERROR"
    code, text = wxpay.query(out_trade_no="APP20261207002")
    assert json.loads(text)["trade_state"] == "PAYERROR"


def test_the_cashier_shows_a_jsapi_trade_only_to_its_shopper_and_an_app_trade_to_anyone(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    appid = merchant.registered["appid"]
    wxpay = sdk(merchant, tmp_path, WeChatPayType.JSAPI)
    buyer, other = api.shopper(), api.shopper()
    openid = api.get(f"/wechatpay/openid?appid={appid}", buyer["api_key"]).get_json()["openid"]
    jsapi = wxpay.pay(
        description="GXG 外套",
        out_trade_no="CASH20261207001",
        amount={"total": 59900},
        payer={"openid": openid},
    )[1]
    app = wxpay.pay(
        description="GXG 卫衣",
        out_trade_no="CASH20261207002",
        amount={"total": 29900},
        pay_type=WeChatPayType.APP,
    )[1]
    jsapi_id, app_id = json.loads(jsapi)["prepay_id"], json.loads(app)["prepay_id"]

    shown = api.get(f"/wechatpay/cashier?prepay_id={jsapi_id}", buyer["api_key"]).get_json()
    assert (shown["merchant_name"], shown["description"]) == ("GXG 杭州", "GXG 外套")
    assert (shown["payable_amount"], shown["trade_state"]) == (59900, "NOTPAY")
    hidden = api.get(f"/wechatpay/cashier?prepay_id={jsapi_id}", other["api_key"])
    assert error_code(hidden) == "not_found"
    shown = api.get(f"/wechatpay/cashier?prepay_id={app_id}", other["api_key"]).get_json()
    assert (shown["trade_type"], shown["payable_amount"]) == ("APP", 29900)
    unknown = api.get("/wechatpay/cashier?prepay_id=wx123", buyer["api_key"])
    assert error_code(unknown) == "not_found"


def test_paying_twice_under_two_idempotency_keys_is_refused_cleanly_and_nothing_half_kept(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path, WeChatPayType.APP)
    code, text = wxpay.pay(
        description="GXG", out_trade_no="APP20261207009", amount={"total": 19900}
    )
    params = _app_params(wxpay, merchant.registered["appid"], json.loads(text)["prepay_id"])
    code, text = sdk(merchant, tmp_path).pay(
        description="GXG", out_trade_no="NAT20261207009", amount={"total": 39900}
    )
    native = {"code_url": json.loads(text)["code_url"]}
    shopper, coupon_owner = api.shopper(), api.shopper()
    coupon = api.coupon(coupon_owner)

    for path, body, who in (
        ("/wechatpay/cashier/pay", params, shopper),
        ("/wechatpay/code-url/pay", native, shopper),
    ):
        first = api.post(path, who["api_key"], json=body, headers={"Idempotency-Key": "k1" + path})
        assert first.status_code == 200, first.get_json()
        again = api.post(path, who["api_key"], json=body, headers={"Idempotency-Key": "k2" + path})
        assert error_code(again) in ("payment_not_pending", "not_found"), again.get_json()
        replay = api.post(path, who["api_key"], json=body, headers={"Idempotency-Key": "k1" + path})
        assert replay.get_json() == first.get_json()

    code, text = sdk(merchant, tmp_path).pay(
        description="GXG", out_trade_no="NAT20261207010", amount={"total": 39901}
    )
    declined = {"code_url": json.loads(text)["code_url"]}
    owner = coupon_owner["api_key"]
    paid = api.post(
        "/wechatpay/code-url/pay", owner, json=declined, headers={"Idempotency-Key": "k3"}
    )
    assert paid.get_json()["trade_state"] == "PAYERROR"
    with_coupon = {**declined, "coupon_code": coupon["code"]}
    again = api.post(
        "/wechatpay/code-url/pay", owner, json=with_coupon, headers={"Idempotency-Key": "k4"}
    )
    assert error_code(again) == "payment_not_pending"
    # the coupon applied before the refused payment went back with it: one unit of work
    assert api.coupon_status(coupon["code"]) == "available"
    order = api.get(f"/orders/{paid.get_json()['order_id']}", api.admin_key).get_json()
    assert order["coupon_code"] is None


def test_a_wechat_trades_payment_cannot_be_confirmed_with_an_outcome_the_shopper_picks(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path, WeChatPayType.H5)
    code, text = wxpay.pay(
        description="GXG",
        out_trade_no="H520261207099",
        amount={"total": 10001},
        scene_info=H5_SCENE,
    )
    payment_id = urlsplit(json.loads(text)["h5_url"]).path.rsplit("/", 1)[1]
    shopper = api.shopper()
    picked = api.post(
        f"/payments/{payment_id}/confirm",
        shopper["api_key"],
        json={},
        headers={"O2O-Mock-Outcome": "success"},
    )
    assert error_code(picked) == "forbidden"
    assert json.loads(wxpay.query(out_trade_no="H520261207099")[1])["trade_state"] == "NOTPAY"
    code_url = f"weixin://wxpay/bizpayurl?pr={payment_id}"
    paid = api.post("/wechatpay/code-url/pay", shopper["api_key"], json={"code_url": code_url})
    assert paid.get_json()["trade_state"] == "PAYERROR"  # the magic amount decides
