"""Merchant coupons (商家券) under the official SDK, unmodified and verifying every signature, in
certificate mode and in public-key mode: a stock is an ordinary campaign of this service, sent
to a user as WeChat's mini-program would (POST /api/v1/wechatpay/busifavor/send), listed,
used, given back and deactivated through /v3/, with COUPON.SEND at the merchant's callback."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from wechatpayv3 import WeChatPay

from o2o.wechatpay import protocol
from tests.builders import Api, deliver, error_code
from tests.wechatpay.conftest import Merchant, NotifyUrl, register, sdk


def _at(api: Api, days: float) -> str:
    """The sandbox clock's now plus `days`, as WeChat writes a time."""
    now = datetime.fromisoformat(api.clock(advance_seconds=0))
    return protocol.rfc3339(now + timedelta(days=days))


def create_stock(api: Api, wxpay: WeChatPay, merchant: Merchant, **changes: Any) -> str:
    """A ¥50-off-¥300 stock of the merchant (100 coupons, 1 a user), valid 30 days; its id."""
    code, text = wxpay.marketing_busifavor_stock_create(**stock_fields(api, merchant, **changes))
    assert code == 200, text
    return str(json.loads(text)["stock_id"])


def stock_fields(api: Api, merchant: Merchant, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "stock_name": "GXG 满300减50",
        "belong_merchant": merchant.mchid,
        "goods_name": "全场通用",
        "stock_type": "NORMAL",
        "coupon_use_rule": {
            "coupon_available_time": {
                "available_begin_time": _at(api, -1),
                "available_end_time": _at(api, 30),
            },
            "fixed_normal_coupon": {"discount_amount": 5000, "transaction_minimum": 30000},
            "use_method": "OFF_LINE",
        },
        "stock_send_rule": {"max_coupons": 100, "max_coupons_per_user": 1},
        "out_request_no": "STOCK0001",
        "coupon_code_mode": "WECHATPAY_MODE",
    }
    fields.update(changes)
    return fields


def openid(api: Api, merchant: Merchant, shopper: dict[str, Any]) -> str:
    appid = merchant.registered["appid"]
    response = api.get(f"/wechatpay/openid?appid={appid}", shopper["api_key"])
    return str(response.get_json()["openid"])


def send(api: Api, stock_id: str, to: str, key: str) -> Any:
    return api.post("/wechatpay/busifavor/send", key, json={"stock_id": stock_id, "openid": to})


def sent(api: Api, stock_id: str, shopper: dict[str, Any], merchant: Merchant) -> str:
    """A coupon of the stock sent to the shopper; its code."""
    response = send(api, stock_id, openid(api, merchant, shopper), shopper["api_key"])
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["coupon_code"])


def states(wxpay: WeChatPay, to: str, **filters: Any) -> list[tuple[str, str]]:
    code, text = wxpay.marketing_busifavor_user_coupon(to, **filters)
    assert code == 200, text
    return [(c["coupon_code"], c["coupon_state"]) for c in json.loads(text)["data"]]


def test_a_stock_is_sent_used_given_back_and_deactivated_as_the_merchants_sdk_sees_it(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    assert stock_id.isdigit()
    assert len(stock_id) >= 10
    shopper = api.shopper()
    user = openid(api, merchant, shopper)
    answer = send(api, stock_id, user, shopper["api_key"])
    assert answer.status_code == 201, answer.get_json()
    code = answer.get_json()["coupon_code"]
    assert (answer.get_json()["stock_id"], answer.get_json()["openid"]) == (stock_id, user)
    coupon = api.get(f"/coupons/{code}", api.admin_key).get_json()
    assert (coupon["claim_channel"], coupon["status"]) == ("mini_program", "available")
    assert states(wxpay, user) == [(code, "SENDED")]

    use_time = _at(api, 0)
    used = wxpay.marketing_busifavor_coupon_use(code, use_time, "USE0001", stock_id, user)
    assert used[0] == 200, used[1]
    assert json.loads(used[1])["stock_id"] == stock_id
    assert states(wxpay, user) == [(code, "USED")]
    assert states(wxpay, user, coupon_state="SENDED") == []
    detail = json.loads(wxpay.marketing_busifavor_coupon_detail(code, user)[1])
    assert (detail["coupon_state"], detail["use_time"][:10]) == ("USED", use_time[:10])

    returned = wxpay.marketing_busifavor_coupon_return(code, stock_id, "RETURN0001")
    assert returned[0] == 200, returned[1]
    assert states(wxpay, user) == [(code, "SENDED")]

    voided = wxpay.marketing_busifavor_coupon_deactivate(code, stock_id, "DEACT0001", "印错了")
    assert voided[0] == 200, voided[1]
    coupon = api.get(f"/coupons/{code}", api.admin_key).get_json()
    assert (coupon["status"], coupon["void_reason"]) == ("voided", "印错了")
    assert api.events(code) == ["claimed", "redeemed", "restored", "voided"]
    assert states(wxpay, user) == [(code, "DEACTIVATED")]
    assert states(wxpay, user, coupon_state="SENDED") == []
    again = wxpay.marketing_busifavor_coupon_use(code, _at(api, 0), "USE0002", stock_id, user)
    assert (again[0], json.loads(again[1])["code"]) == (400, "INVALID_REQUEST")


def test_the_stock_query_counts_what_was_sent_and_shows_a_modification(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant, comment="双十二")
    for _ in range(2):
        sent(api, stock_id, api.shopper(), merchant)

    code, text = wxpay.marketing_busifavor_stock_query(stock_id)
    assert code == 200, text
    stock = json.loads(text)
    assert (stock["stock_state"], stock["stock_name"], stock["comment"]) == (
        "RUNNING",
        "GXG 满300减50",
        "双十二",
    )
    assert stock["send_count_information"] == {
        "total_send_num": 2,
        "total_send_amount": 10000,
        "today_send_num": 2,
        "today_send_amount": 10000,
    }
    assert stock["coupon_use_rule"]["fixed_normal_coupon"] == {
        "discount_amount": 5000,
        "transaction_minimum": 30000,
    }

    changed = wxpay.marketing_busifavor_stock_modify(
        stock_id, "MODIFY0001", comment="年终", goods_name="外套可用"
    )
    assert changed[0] == 204, changed[1]
    stock = json.loads(wxpay.marketing_busifavor_stock_query(stock_id)[1])
    assert (stock["comment"], stock["goods_name"]) == ("年终", "外套可用")


def test_the_budget_grows_but_never_below_what_was_sent_nor_from_a_wrong_current_count(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    sent(api, stock_id, api.shopper(), merchant)

    code, text = wxpay.marketing_busifavor_stock_budget(
        stock_id, "BUDGET0001", target_max_coupons=300, current_max_coupons=100
    )
    assert (code, json.loads(text)) == (200, {"max_coupons": 300, "max_coupons_by_day": 300})
    stale = wxpay.marketing_busifavor_stock_budget(
        stock_id, "BUDGET0002", target_max_coupons=400, current_max_coupons=100
    )
    assert (stale[0], json.loads(stale[1])["code"]) == (400, "INVALID_REQUEST")
    shrunk = wxpay.marketing_busifavor_stock_budget(stock_id, "BUDGET0003", target_max_coupons=50)
    assert (shrunk[0], json.loads(shrunk[1])["code"]) == (400, "INVALID_REQUEST")
    stock = json.loads(wxpay.marketing_busifavor_stock_query(stock_id)[1])
    assert stock["stock_send_rule"]["max_coupons"] == 300
    campaign_id = api.coupon_campaign(sent(api, stock_id, api.shopper(), merchant))
    campaign = api.get(f"/campaigns/{campaign_id}", api.admin_key).get_json()
    assert (campaign["total_quantity"], campaign["claimed_count"]) == (300, 2)


def test_a_use_again_with_the_same_use_request_no_answers_the_same_and_another_coupon_is_refused(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    first, second = (sent(api, stock_id, api.shopper(), merchant) for _ in range(2))

    used = wxpay.marketing_busifavor_coupon_use(first, _at(api, 0), "USE0001")
    assert used[0] == 200, used[1]
    api.clock(advance_seconds=90)
    again = wxpay.marketing_busifavor_coupon_use(first, _at(api, 0), "USE0001")
    assert again == used
    other = wxpay.marketing_busifavor_coupon_use(second, _at(api, 0), "USE0001")
    assert (other[0], json.loads(other[1])["code"]) == (400, "INVALID_REQUEST")
    assert api.coupon_status(second) == "available"
    assert api.events(first) == ["claimed", "redeemed"]
    stats = api.get(f"/campaigns/{api.coupon_campaign(first)}/stats", api.admin_key).get_json()
    assert (stats["claimed"], stats["redeemed"]) == (2, 1)


def test_another_merchant_can_neither_see_nor_use_nor_create_for_the_stock(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    owner = register(api, mode)
    stock_id = create_stock(api, sdk(owner, tmp_path / "owner"), owner)
    code = sent(api, stock_id, api.shopper(), owner)
    other = register(api, mode, store_ids=owner.store_ids)
    wxpay = sdk(other, tmp_path / "other")

    seen = wxpay.marketing_busifavor_stock_query(stock_id)
    assert (seen[0], json.loads(seen[1])["code"]) == (404, "RESOURCE_NOT_EXISTS")
    used = wxpay.marketing_busifavor_coupon_use(code, _at(api, 0), "USE0001")
    assert (used[0], json.loads(used[1])["code"]) == (404, "RESOURCE_NOT_EXISTS")
    assert api.coupon_status(code) == "available"
    theirs = stock_fields(api, other, belong_merchant=owner.mchid)
    made = wxpay.marketing_busifavor_stock_create(**theirs)
    assert (made[0], json.loads(made[1])["code"]) == (403, "NO_AUTH")


def test_sending_is_refused_in_this_services_envelope_beyond_the_limit_or_to_another_openid(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    stock_id = create_stock(api, sdk(merchant, tmp_path), merchant)
    shopper, stranger = api.shopper(), api.shopper()
    sent(api, stock_id, shopper, merchant)

    user = openid(api, merchant, shopper)
    assert error_code(send(api, stock_id, user, shopper["api_key"])) == "per_shopper_limit_reached"
    assert send(api, stock_id, user, stranger["api_key"]).status_code == 403
    assert send(api, "999999999999", user, shopper["api_key"]).status_code == 404
    assert send(api, stock_id, "o" + "x" * 27, api.admin_key).status_code == 404
    by_admin = send(api, stock_id, openid(api, merchant, stranger), api.admin_key)
    assert by_admin.status_code == 201, by_admin.get_json()


def test_a_stock_create_again_answers_the_same_stock_and_unsupported_modes_are_refused(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    fields = stock_fields(api, merchant)
    first, again = (wxpay.marketing_busifavor_stock_create(**fields) for _ in range(2))
    assert json.loads(first[1])["stock_id"] == json.loads(again[1])["stock_id"]
    changed = wxpay.marketing_busifavor_stock_create(**{**fields, "stock_name": "另一个"})
    assert (changed[0], json.loads(changed[1])["code"]) == (400, "INVALID_REQUEST")
    upload = {**fields, "out_request_no": "STOCK0002", "coupon_code_mode": "MERCHANT_UPLOAD"}
    refused = wxpay.marketing_busifavor_stock_create(**upload)
    assert (refused[0], json.loads(refused[1])["code"]) == (400, "NOT_SUPPORTED")
    codes = wxpay.marketing_busifavor_couponcode_upload(
        json.loads(first[1])["stock_id"], "U1", ["A1"]
    )
    assert (codes[0], json.loads(codes[1])["code"]) == (400, "NOT_SUPPORTED")


def test_a_discount_stock_of_88_percent_is_a_campaign_of_12_percent_off(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    rule = stock_fields(api, merchant)["coupon_use_rule"]
    rule = {
        "coupon_available_time": rule["coupon_available_time"],
        "discount_coupon": {"discount_percent": 88, "transaction_minimum": 10000},
        "use_method": "OFF_LINE",
    }
    stock_id = create_stock(
        api, wxpay, merchant, stock_type="DISCOUNT", coupon_use_rule=rule, out_request_no="D1"
    )
    code = sent(api, stock_id, api.shopper(), merchant)
    coupon = api.get(f"/coupons/{code}", api.admin_key).get_json()
    assert coupon["discount"] == {
        "type": "percent_off",
        "percent_off": 12,
        "max_discount": None,
        "min_spend": 10000,
    }
    stock = json.loads(wxpay.marketing_busifavor_stock_query(stock_id)[1])
    assert stock["coupon_use_rule"]["discount_coupon"]["discount_percent"] == 88


def test_coupon_send_reaches_the_callback_url_and_the_sdk_decrypts_it(
    api: Api,
    app: Flask,
    pointed_here: str,
    mode: str,
    tmp_path: Path,
    notify_url: NotifyUrl,
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    code, text = wxpay.marketing_busifavor_callback_update(notify_url=notify_url.url)
    assert (code, json.loads(text)["notify_url"]) == (200, notify_url.url)
    code, text = wxpay.marketing_busifavor_callback_query()
    assert (code, json.loads(text)) == (
        200,
        {"notify_url": notify_url.url, "mchid": merchant.mchid},
    )
    stock_id = create_stock(api, wxpay, merchant)
    shopper = api.shopper()
    coupon_code = sent(api, stock_id, shopper, merchant)
    while deliver(app):
        pass

    headers, body = notify_url.received[-1]
    told = wxpay.callback(headers, body)
    assert told is not None
    assert told["event_type"] == "COUPON.SEND"
    resource = told["resource"]
    assert (resource["event_type"], resource["coupon_code"], resource["stock_id"]) == (
        "EVENT_TYPE_BUSICOUPON_SEND",
        coupon_code,
        stock_id,
    )
    assert resource["openid"] == openid(api, merchant, shopper)
    assert resource["send_channel"] == "BUSICOUPON_SEND_CHANNEL_MINIAPP"
    assert resource["send_merchant"] == merchant.mchid
    assert wxpay.callback(headers, body.replace(b"COUPON.SEND", b"COUPON.USE")) is None


def test_a_coupon_send_answered_with_500_is_retried_every_minute_on_the_sandbox_clock(
    api: Api,
    app: Flask,
    pointed_here: str,
    tmp_path: Path,
    notify_url: NotifyUrl,
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    assert wxpay.marketing_busifavor_callback_update(notify_url=notify_url.url)[0] == 200
    stock_id = create_stock(api, wxpay, merchant)
    api.clock(advance_seconds=0)
    notify_url.status = 500
    sent(api, stock_id, api.shopper(), merchant)
    deliver(app)
    attempts = [len(notify_url.received)]
    for _ in range(2):
        api.clock(advance_seconds=59)
        deliver(app)
        attempts.append(len(notify_url.received))
        api.clock(advance_seconds=1)
        deliver(app)
        attempts.append(len(notify_url.received))
    assert attempts == [1, 1, 2, 2, 3]


def test_a_busifavor_coupon_used_at_a_facade_checkout_shows_in_promotion_detail(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    shopper = api.shopper()
    code = sent(api, stock_id, shopper, merchant)
    code_url = json.loads(
        wxpay.pay(description="GXG 外套", out_trade_no="BUSI00000001", amount={"total": 39900})[1]
    )["code_url"]
    body = {"code_url": code_url, "coupon_code": code}
    paid = api.post("/wechatpay/code-url/pay", shopper["api_key"], json=body)
    assert paid.status_code == 200, paid.get_json()

    trade = json.loads(wxpay.query(out_trade_no="BUSI00000001")[1])
    assert trade["amount"]["payer_total"] == 34900
    assert [(p["coupon_id"], p["amount"]) for p in trade["promotion_detail"]] == [(code, 5000)]
    assert states(wxpay, openid(api, merchant, shopper)) == [(code, "USED")]


def test_a_coupon_held_by_an_order_that_lapsed_is_used_at_the_merchants_till(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    shopper = api.shopper()
    code = sent(api, stock_id, shopper, merchant)
    code_url = json.loads(
        wxpay.pay(description="GXG", out_trade_no="BUSI00000009", amount={"total": 39901})[1]
    )["code_url"]
    declined = api.post(
        "/wechatpay/code-url/pay",
        shopper["api_key"],
        json={"code_url": code_url, "coupon_code": code},
    )
    assert declined.get_json()["trade_state"] == "PAYERROR"  # the order holds the coupon a while
    api.clock(advance_seconds=901)  # the order lapses: the coupon reads available again
    assert states(wxpay, openid(api, merchant, shopper)) == [(code, "SENDED")]

    used = wxpay.marketing_busifavor_coupon_use(
        code, _at(api, 0), "USE-LAPSED-1", stock_id=stock_id
    )
    assert used[0] == 200, used[1]
    assert states(wxpay, openid(api, merchant, shopper)) == [(code, "USED")]
    stats = api.get(f"/campaigns/{api.coupon_campaign(code)}/stats", api.admin_key).get_json()
    assert (stats["redeemed"], stats["by_channel"]["in_store"]["redeemed"]) == (1, 1)


def test_a_coupon_is_associated_with_one_order_at_a_time_and_disassociated_from_it(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    shopper = api.shopper()
    code = sent(api, stock_id, shopper, merchant)
    for out_trade_no in ("ASSOC0000001", "ASSOC0000002"):
        wxpay.pay(description="GXG", out_trade_no=out_trade_no, amount={"total": 39900})

    tied = wxpay.marketing_busifavor_coupon_associate(stock_id, code, "ASSOC0000001", "A1")
    assert tied[0] == 200, tied[1]
    assert "wechatpay_associate_time" in json.loads(tied[1])
    twice = wxpay.marketing_busifavor_coupon_associate(stock_id, code, "ASSOC0000002", "A2")
    assert (twice[0], json.loads(twice[1])["code"]) == (400, "INVALID_REQUEST")
    unknown = wxpay.marketing_busifavor_coupon_associate(stock_id, code, "NOSUCHORDER1", "A3")
    assert (unknown[0], json.loads(unknown[1])["code"]) == (404, "ORDER_NOT_EXIST")
    user = openid(api, merchant, shopper)
    detail = json.loads(wxpay.marketing_busifavor_coupon_detail(code, user)[1])
    assert detail["associate_out_trade_no"] == "ASSOC0000001"

    wrong = wxpay.marketing_busifavor_coupon_disassociate(stock_id, code, "ASSOC0000002", "D1")
    assert (wrong[0], json.loads(wrong[1])["code"]) == (400, "INVALID_REQUEST")
    untied = wxpay.marketing_busifavor_coupon_disassociate(stock_id, code, "ASSOC0000001", "D2")
    assert untied[0] == 200, untied[1]
    detail = json.loads(wxpay.marketing_busifavor_coupon_detail(code, user)[1])
    assert "associate_out_trade_no" not in detail


def test_one_coupon_associated_with_several_orders_at_once_is_tied_to_one(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    shopper = api.shopper()
    code = sent(api, stock_id, shopper, merchant)
    orders = [f"RACEASSOC{number:03d}" for number in range(4)]
    for out_trade_no in orders:
        wxpay.pay(description="GXG", out_trade_no=out_trade_no, amount={"total": 39900})

    def tie(number: int) -> int:
        answer = wxpay.marketing_busifavor_coupon_associate(
            stock_id, code, orders[number], f"RA{number}"
        )
        return int(answer[0])

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(tie, range(4)))
    assert statuses == [200, 400, 400, 400]
    detail = json.loads(
        wxpay.marketing_busifavor_coupon_detail(code, openid(api, merchant, shopper))[1]
    )
    assert detail["associate_out_trade_no"] in orders


def test_text_that_cannot_be_stored_is_a_param_error_and_never_a_stock(
    api: Api, pointed_here: str, tmp_path: Path
) -> None:
    merchant = register(api, "public_key")
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    code = sent(api, stock_id, api.shopper(), merchant)
    bodies = [
        stock_fields(api, merchant, out_request_no="NUL1", stock_name="GXG\u0000"),
        stock_fields(api, merchant, out_request_no="NUL2", comment="\ud800"),
        stock_fields(api, merchant, out_request_no="NUL3", custom_entrance={"hall_id": "\ud800"}),
    ]
    for body in bodies:
        answer = wxpay.marketing_busifavor_stock_create(**body)
        assert (answer[0], json.loads(answer[1])["code"]) == (400, "PARAM_ERROR")
    used = wxpay.marketing_busifavor_coupon_use(code + "\u0000", _at(api, 0), "USE0001")
    assert (used[0], json.loads(used[1])["code"]) == (400, "PARAM_ERROR")
    forever = stock_fields(api, merchant, out_request_no="FOREVER1")
    forever["coupon_use_rule"]["coupon_available_time"]["available_end_time"] = (
        "9999-12-31T23:59:59Z"
    )
    answer = wxpay.marketing_busifavor_stock_create(**forever)
    assert (answer[0], json.loads(answer[1])["code"]) == (400, "PARAM_ERROR")
    to = openid(api, merchant, api.shopper())
    listed = wxpay.marketing_busifavor_user_coupon(to, offset="\u00b2")  # "²" is no digit here
    assert (listed[0], json.loads(listed[1])["code"]) == (400, "PARAM_ERROR")
    campaigns = api.listed("/campaigns", api.admin_key)
    assert len(campaigns) == 1


def test_one_coupon_used_by_several_requests_at_once_is_redeemed_once(
    api: Api, pointed_here: str, mode: str, tmp_path: Path
) -> None:
    merchant = register(api, mode)
    wxpay = sdk(merchant, tmp_path)
    stock_id = create_stock(api, wxpay, merchant)
    code = sent(api, stock_id, api.shopper(), merchant)
    use_time = _at(api, 0)

    def use(number: int) -> int:
        status: int = wxpay.marketing_busifavor_coupon_use(code, use_time, f"RACE{number}")[0]
        return status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(use, range(4)))
    assert statuses == [200, 400, 400, 400]
    assert api.events(code) == ["claimed", "redeemed"]
    campaign = api.get(f"/campaigns/{api.coupon_campaign(code)}", api.admin_key).get_json()
    assert campaign["redeemed_count"] == 1
