"""The official SDK, unmodified and verifying every signature, pays through the sandbox: Native
with its code_url paid by the shopper, JSAPI at the cashier, code payments with a payment code;
queries, closing and refunds; in certificate mode and in public-key mode."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from wechatpayv3 import WeChatPay, WeChatPayType

from tests.builders import MOCK_PAYING_SECONDS, Api, error_code
from tests.wechatpay.conftest import register, sdk

CHINA = timezone(timedelta(hours=8))


def code_pay(wxpay: WeChatPay, out_trade_no: str, total: int, auth_code: str) -> tuple[int, Any]:
    """A code payment (付款码) of `total` fen with a payment code: the status and parsed body."""
    code, text = wxpay.pay(
        description="GXG",
        out_trade_no=out_trade_no,
        amount={"total": total},
        payer={"auth_code": auth_code},
        pay_type=WeChatPayType.CODEPAY,
    )
    return code, json.loads(text)


def test_a_native_payment_is_paid_by_the_shopper_and_refunded_in_part_then_in_full(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    code, text = wxpay.pay(
        description="GXG 衬衫", out_trade_no="GXG20261204001", amount={"total": 39900}
    )
    assert code == 200, text
    code_url = json.loads(text)["code_url"]
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")

    code, text = wxpay.query(out_trade_no="GXG20261204001")
    assert (code, json.loads(text)["trade_state"]) == (200, "NOTPAY")

    shopper = api.shopper()
    paid = api.post("/wechatpay/code-url/pay", shopper["api_key"], json={"code_url": code_url})
    assert paid.status_code == 200, paid.get_json()

    code, text = wxpay.query(out_trade_no="GXG20261204001")
    trade = json.loads(text)
    assert trade["trade_state"] == "SUCCESS"
    assert trade["amount"]["payer_total"] == 39900
    code, text = wxpay.query(transaction_id=trade["transaction_id"])
    assert json.loads(text)["out_trade_no"] == "GXG20261204001"

    code, text = wxpay.refund(
        out_refund_no="R1",
        amount={"refund": 10000, "total": 39900, "currency": "CNY"},
        out_trade_no="GXG20261204001",
    )
    assert code == 200, text
    assert json.loads(text)["status"] == "SUCCESS"
    code, text = wxpay.refund(
        out_refund_no="R2",
        amount={"refund": 29900, "total": 39900, "currency": "CNY"},
        out_trade_no="GXG20261204001",
    )
    assert code == 200, text
    code, text = wxpay.query_refund(out_refund_no="R1")
    assert (code, json.loads(text)["amount"]["refund"]) == (200, 10000)
    code, text = wxpay.query(out_trade_no="GXG20261204001")
    assert json.loads(text)["trade_state"] == "REFUND"
    order = api.get(f"/orders/{paid.get_json()['order_id']}", api.admin_key).get_json()
    assert order["status"] == "refunded"


def test_a_jsapi_payment_is_paid_at_the_cashier_with_the_paysign_the_sdk_made(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path, WeChatPayType.JSAPI)
    shopper = api.shopper()
    appid = merchant.registered["appid"]
    openid = api.get(f"/wechatpay/openid?appid={appid}", shopper["api_key"]).get_json()["openid"]
    code, text = wxpay.pay(
        description="GXG 外套",
        out_trade_no="JS20261204001",
        amount={"total": 59900},
        payer={"openid": openid},
        pay_type=WeChatPayType.JSAPI,
    )
    assert code == 200, text
    package = f"prepay_id={json.loads(text)['prepay_id']}"
    timestamp, nonce = "1733300000", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    pay_sign = wxpay.sign([appid, timestamp, nonce, package])
    cashier = {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": pay_sign,
    }

    forged = api.post(
        "/wechatpay/cashier/pay", shopper["api_key"], json={**cashier, "nonceStr": "X" * 32}
    )
    assert error_code(forged) == "validation_error"
    paid = api.post("/wechatpay/cashier/pay", shopper["api_key"], json=cashier)
    assert paid.status_code == 200, paid.get_json()

    code, text = wxpay.query(out_trade_no="JS20261204001")
    trade = json.loads(text)
    assert (trade["trade_state"], trade["payer"]["openid"]) == ("SUCCESS", openid)
    assert trade["trade_type"] == "JSAPI"


def test_a_code_payment_that_waits_for_the_password_settles_when_the_sandbox_clock_moves_on(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path, WeChatPayType.CODEPAY)
    shopper = api.shopper()
    api.clock(advance_seconds=0)
    code, text = wxpay.pay(
        description="GXG 毛衣",
        out_trade_no="CP20261204003",
        amount={"total": 39903},
        payer={"auth_code": api.payment_code(shopper)},
        pay_type=WeChatPayType.CODEPAY,
        scene_info={"store_info": {"id": merchant.store_ids[0]}},
    )
    assert (code, json.loads(text)["code"]) == (202, "USERPAYING")
    code, text = wxpay.query(out_trade_no="CP20261204003")
    assert json.loads(text)["trade_state"] == "USERPAYING"

    api.clock(advance_seconds=MOCK_PAYING_SECONDS)
    code, text = wxpay.query(out_trade_no="CP20261204003")
    trade = json.loads(text)
    assert (trade["trade_state"], trade["amount"]["payer_total"]) == ("SUCCESS", 39903)


def test_a_code_payment_succeeds_at_once_and_a_declined_one_says_payerror(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path, WeChatPayType.CODEPAY)
    shopper = api.shopper()
    code, body = code_pay(wxpay, "CP20261204100", 39900, api.payment_code(shopper))
    assert (code, body["trade_state"]) == (200, "SUCCESS")
    code, body = code_pay(wxpay, "CP20261204101", 39901, api.payment_code(shopper))
    assert (code, body["code"]) == (400, "PAYERROR")
    code, body = code_pay(wxpay, "CP20261204102", 39902, api.payment_code(shopper))
    assert (code, body["code"]) == (403, "NOTENOUGH")
    code, body = code_pay(wxpay, "CP20261204103", 39900, "134567890123456789")
    assert (code, body["code"]) == (400, "AUTH_CODE_INVALID")
    code, text = wxpay.query(out_trade_no="CP20261204103")
    assert (code, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")


def test_an_outcome_chosen_in_the_sandbox_wins_over_the_magic_amount(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path, WeChatPayType.CODEPAY)
    chosen = {"mchid": merchant.mchid, "outcome": "success"}
    assert api.post("/sandbox/outcomes", api.admin_key, json=chosen).status_code == 201
    code, body = code_pay(wxpay, "CP20261204201", 39901, api.payment_code(api.shopper()))
    assert (code, body["trade_state"]) == (200, "SUCCESS")
    code, body = code_pay(wxpay, "CP20261204202", 39901, api.payment_code(api.shopper()))
    assert body["code"] == "PAYERROR"  # the chosen outcome was used up


def test_an_unpaid_order_closes_and_then_cannot_be_paid(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    code, text = wxpay.pay(description="GXG", out_trade_no="N20261204300", amount={"total": 19900})
    code_url = json.loads(text)["code_url"]
    code, text = wxpay.close(out_trade_no="N20261204300")
    assert (code, text) == (204, b"")  # no body, and still signed: the SDK verified it
    code, text = wxpay.query(out_trade_no="N20261204300")
    assert json.loads(text)["trade_state"] == "CLOSED"
    paid = api.post(
        "/wechatpay/code-url/pay", api.shopper()["api_key"], json={"code_url": code_url}
    )
    assert paid.status_code == 404, paid.get_json()  # a closed trade's payment is no one's to pay
    code, text = wxpay.pay(description="GXG", out_trade_no="N20261204300", amount={"total": 19900})
    assert (code, json.loads(text)["code"]) == (400, "ORDER_CLOSED")


def test_a_paid_order_cannot_be_placed_again_and_a_repeated_unpaid_one_answers_the_same(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    first = wxpay.pay(description="GXG", out_trade_no="N20261204400", amount={"total": 19900})
    again = wxpay.pay(description="GXG", out_trade_no="N20261204400", amount={"total": 19900})
    assert first == again
    other = wxpay.pay(description="GXG", out_trade_no="N20261204400", amount={"total": 29900})
    assert json.loads(other[1])["code"] == "OUT_TRADE_NO_USED"
    code_url = json.loads(first[1])["code_url"]
    api.post("/wechatpay/code-url/pay", api.shopper()["api_key"], json={"code_url": code_url})
    code, text = wxpay.pay(description="GXG", out_trade_no="N20261204400", amount={"total": 19900})
    assert (code, json.loads(text)["code"]) == (400, "ORDERPAID")


def test_a_coupon_used_at_the_cashier_shows_in_promotion_detail_and_everywhere_an_order_does(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    shopper = api.shopper()
    coupon = api.coupon(shopper)  # ¥50 off ¥300
    code, text = wxpay.pay(
        description="GXG 衬衫", out_trade_no="PROMO000001", amount={"total": 39900}
    )
    code_url = json.loads(text)["code_url"]
    body = {"code_url": code_url, "coupon_code": coupon["code"]}
    paid = api.post("/wechatpay/code-url/pay", shopper["api_key"], json=body)
    assert paid.status_code == 200, paid.get_json()

    trade = json.loads(wxpay.query(out_trade_no="PROMO000001")[1])
    assert trade["amount"] == {
        "total": 39900,
        "payer_total": 34900,
        "currency": "CNY",
        "payer_currency": "CNY",
    }
    assert [(p["coupon_id"], p["amount"]) for p in trade["promotion_detail"]] == [
        (coupon["code"], 5000)
    ]

    order_id = paid.get_json()["order_id"]
    assert order_id in [order["id"] for order in api.listed("/orders", api.admin_key)]
    assert api.events(coupon["code"]) == ["claimed", "reserved", "redeemed"]
    stats = api.get(f"/campaigns/{coupon['campaign_id']}/stats", api.admin_key).get_json()
    assert (stats["redeemed"], stats["discount_total"], stats["gmv"]) == (1, 5000, 34900)
    day = trade["success_time"][:10]  # the store's day: Asia/Shanghai, as WeChat's +08:00
    path = f"/stores/{merchant.store_ids[0]}/statement?date={day}"
    statement = api.get(path, api.admin_key).get_json()
    assert [(p["amount"], p["coupon_code"]) for p in statement["payments"]] == [
        (34900, coupon["code"])
    ]


def test_an_order_closes_at_its_time_expire_on_the_sandbox_clock_and_a_past_one_is_refused(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    wxpay = sdk(register(api, "public_key"), tmp_path)
    now = datetime.fromisoformat(api.clock(advance_seconds=0))
    soon = (now + timedelta(seconds=60)).astimezone(CHINA).replace(microsecond=0).isoformat()
    code, text = wxpay.pay(
        description="GXG", out_trade_no="EXP20261207001", amount={"total": 9900}, time_expire=soon
    )
    assert code == 200, text
    code_url = json.loads(text)["code_url"]
    assert json.loads(wxpay.query(out_trade_no="EXP20261207001")[1])["trade_state"] == "NOTPAY"

    api.clock(advance_seconds=61)
    assert json.loads(wxpay.query(out_trade_no="EXP20261207001")[1])["trade_state"] == "CLOSED"
    late = api.post(
        "/wechatpay/code-url/pay", api.shopper()["api_key"], json={"code_url": code_url}
    )
    assert error_code(late) == "not_found"  # the lapsed payment waits for nobody

    code, text = wxpay.pay(
        description="GXG", out_trade_no="EXP20261207002", amount={"total": 9900}, time_expire=soon
    )
    assert (code, json.loads(text)["code"]) == (400, "PARAM_ERROR")
    assert "time_expire" in json.loads(text)["message"]
