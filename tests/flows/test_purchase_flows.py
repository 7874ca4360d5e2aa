"""End to end over HTTP: a coupon claimed online is spent in store, or remotely."""

from __future__ import annotations

from tests.builders import ADMIN_KEY, Api


def test_in_store_flow_claim_qr_scan_order_payment_code_redeems_the_coupon(api: Api) -> None:
    store = api.store(name="West Lake")
    clerk = api.clerk(store["id"])
    shopper = api.shopper(name="Zhang Wei")
    campaign = api.campaign()  # ¥50 off ¥300
    code = api.claim(shopper, campaign["id"])["code"]

    token = api.get(f"/coupons/{code}/qr-token", shopper["api_key"]).get_json()["token"]
    scan = api.post("/scans", clerk["api_key"], json={"qr_token": token, "amount": 39900})
    assert scan.status_code == 200
    assert scan.get_json()["applicable"] is True
    assert scan.get_json()["payable_amount"] == 34900

    order = api.post("/orders", clerk["api_key"], json={"amount": 39900, "qr_token": token})
    assert order.status_code == 201
    order_body = order.get_json()
    assert order_body["channel"] == "in_store"
    assert order_body["store_id"] == store["id"]
    assert order_body["shopper_id"] == shopper["id"]
    assert (order_body["discount_amount"], order_body["payable_amount"]) == (5000, 34900)
    assert api.get(f"/coupons/{code}", shopper["api_key"]).get_json()["status"] == "reserved"

    auth_code = api.get("/me/payment-code", shopper["api_key"]).get_json()["auth_code"]
    payment = api.post(
        f"/orders/{order_body['id']}/payments",
        clerk["api_key"],
        json={"method": "wechat_pay", "flow": "clerk_scan", "auth_code": auth_code},
    )
    assert payment.status_code == 201
    pay = payment.get_json()
    assert (pay["status"], pay["amount"], pay["flow"]) == ("succeeded", 34900, "clerk_scan")

    assert api.get(f"/orders/{order_body['id']}", shopper["api_key"]).get_json()["status"] == "paid"
    coupon = api.get(f"/coupons/{code}", shopper["api_key"]).get_json()
    assert coupon["status"] == "redeemed"
    assert (coupon["order_id"], coupon["store_id"]) == (order_body["id"], store["id"])
    events = api.get(f"/coupons/{code}/events", shopper["api_key"]).get_json()["items"]
    assert [e["type"] for e in events] == ["claimed", "reserved", "redeemed"]
    assert api.get(f"/campaigns/{campaign['id']}", ADMIN_KEY).get_json()["redeemed_count"] == 1


def test_online_flow_order_with_coupon_code_and_online_payment(api: Api) -> None:
    store = api.store()
    shopper = api.shopper()
    campaign = api.campaign(
        discount={"type": "percent_off", "percent_off": 20, "max_discount": 10000}
    )
    code = api.claim(shopper, campaign["id"])["code"]

    order = api.post(
        "/orders",
        shopper["api_key"],
        json={"amount": 19999, "coupon_code": code.lower(), "store_id": store["id"]},
    ).get_json()
    assert order["channel"] == "online"
    assert (order["discount_amount"], order["payable_amount"]) == (3999, 16000)

    payment = api.post(
        f"/orders/{order['id']}/payments",
        shopper["api_key"],
        json={"method": "alipay", "flow": "online"},
    )
    assert payment.status_code == 201
    assert payment.get_json()["status"] == "succeeded"
    assert api.get(f"/orders/{order['id']}", shopper["api_key"]).get_json()["status"] == "paid"
    assert api.get(f"/coupons/{code}", shopper["api_key"]).get_json()["status"] == "redeemed"


def test_shopper_scan_flow_pays_when_the_shopper_confirms(api: Api) -> None:
    clerk = api.clerk()
    shopper = api.shopper()
    order = api.post("/orders", clerk["api_key"], json={"amount": 5000}).get_json()
    payment = api.post(
        f"/orders/{order['id']}/payments",
        clerk["api_key"],
        json={"method": "wechat_pay", "flow": "shopper_scan"},
    ).get_json()
    assert payment["status"] == "pending"
    assert payment["qr_url"].endswith(f"/api/v1/payments/{payment['id']}/qr")

    confirmed = api.post(f"/payments/{payment['id']}/confirm", shopper["api_key"])
    assert confirmed.status_code == 200
    assert confirmed.get_json()["status"] == "succeeded"
    paid = api.get(f"/orders/{order['id']}", shopper["api_key"]).get_json()
    assert (paid["status"], paid["shopper_id"]) == ("paid", shopper["id"])
