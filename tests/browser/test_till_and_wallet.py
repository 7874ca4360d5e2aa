"""The till and the wallet in real Chromium, against a live sandbox server."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.support import (
    Browser,
    LiveApi,
    Page,
    Playwright,
    World,
    decode,
    launch,
    open_page,
    qr_image,
    write_y4m,
)
from tests.builders import campaign_fields

TIMEOUT = 10_000  # ms: what a screen may take to turn


def claim_and_show_qr(wallet: Page, world: World) -> str:
    """The wallet claims the campaign's coupon and shows its QR; the QR's text, as scanned."""
    wallet.get_by_role("button", name=f"Claim {world.campaign['name']}").click()
    coupon = wallet.locator("#coupons li[data-status=available]")
    coupon.get_by_role("button").click()
    wallet.locator("#qr-screen").wait_for()
    wallet.wait_for_function("() => document.getElementById('qr-img').naturalWidth > 0")
    assert int(wallet.locator("#countdown").inner_text()) > 0
    return decode(wallet.locator("#qr-img").screenshot())


def take_coupon(till: Page, token: str, yuan: str) -> None:
    till.locator("#coupon-text").fill(token)
    till.locator("#amount").fill(yuan)
    till.locator("#amount").press("Enter")


def test_in_store_with_clerk_scan_the_till_takes_the_wallets_coupon_and_payment_code(
    browser: Browser, base: str, world: World
) -> None:
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, viewport=(1280, 800))
    token = claim_and_show_qr(wallet, world)
    take_coupon(till, token, "399")
    quote = till.locator("#quote")
    quote.get_by_text("The coupon applies.").wait_for(timeout=TIMEOUT)
    assert "Discount ¥50.00" in quote.inner_text()
    assert "To pay ¥349.00" in quote.inner_text()
    till.get_by_role("button", name="Check out").click()
    till.locator("#pay-screen").wait_for()
    assert "To pay ¥349.00" in till.locator("#order-summary").inner_text()
    wallet.get_by_role("button", name="Show my payment code").click()
    digits = wallet.locator("#qr-digits")
    digits.wait_for()
    wallet.wait_for_function("() => document.getElementById('qr-img').src.startsWith('data:')")
    code = decode(wallet.locator("#qr-img").screenshot())  # as the till's scanner reads it
    assert re.fullmatch(r"\d{18}", code)
    assert re.sub(r"\D", "", digits.inner_text()) == code  # the same code, also as digits
    till.locator("#paycode-text").fill(code)
    till.locator("#paycode-text").press("Enter")
    receipt = till.locator("#receipt")
    receipt.wait_for(timeout=TIMEOUT)
    text = receipt.inner_text()
    assert "¥349.00" in text
    assert "¥50.00" in text
    assert "WeChat Pay" in text
    wallet.reload()
    wallet.locator("#coupons li[data-status=redeemed]").wait_for(timeout=TIMEOUT)
    assert "redeemed" in wallet.locator("#coupons").inner_text()


def test_in_store_with_shopper_scan_the_till_turns_to_paid_when_the_wallet_confirms(
    browser: Browser, base: str, world: World
) -> None:
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    token = claim_and_show_qr(wallet, world)
    take_coupon(till, token, "399.50")
    till.locator("#quote").get_by_text("To pay ¥349.50").wait_for(timeout=TIMEOUT)
    till.get_by_role("button", name="Check out").click()
    till.get_by_label("The shopper scans the store's QR").check()
    till.get_by_label("Method").select_option("alipay")
    till.get_by_role("button", name="Take the payment").click()
    till.wait_for_function("() => document.getElementById('merchant-qr-img').naturalWidth > 0")
    assert "Waiting for the shopper" in till.locator("#pay-status").inner_text()
    link = decode(till.locator("#merchant-qr-img").screenshot())
    assert re.fullmatch(rf"{re.escape(base)}/wallet/pay/\w+", link), link
    wallet.goto(link)  # what the phone's camera opens
    wallet.locator("#confirm-screen").wait_for(timeout=TIMEOUT)
    details = wallet.locator("#confirm-details").inner_text()
    assert "¥349.50" in details
    assert world.store["id"] in details
    wallet.get_by_role("button", name="Pay", exact=True).click()
    wallet.locator("#confirm-status").get_by_text("Paid").wait_for(timeout=TIMEOUT)
    till.locator("#receipt").wait_for(timeout=TIMEOUT)  # no reload: the till polled
    assert "Alipay" in till.locator("#receipt").inner_text()


def show_merchant_qr_of_a_walk_in(till: Page, yuan: str) -> bytes:
    """The till checks out a walk-in (no coupon: an order without a shopper) and shows the
    merchant QR of its shopper_scan payment; a screenshot of that QR."""
    till.locator("#amount").fill(yuan)
    till.get_by_role("button", name="Check out").click()
    till.locator("#pay-screen").wait_for()
    assert "Discount ¥0.00" in till.locator("#order-summary").inner_text()
    till.get_by_label("The shopper scans the store's QR").check()
    till.get_by_role("button", name="Take the payment").click()
    till.wait_for_function("() => document.getElementById('merchant-qr-img').naturalWidth > 0")
    return bytes(till.locator("#merchant-qr-img").screenshot())


@pytest.mark.parametrize("opened_by", ["link", "camera"])
def test_a_walk_in_pays_the_tills_qr_from_a_wallet_and_the_till_turns_to_paid(
    driver: Playwright,
    browser: Browser,
    base: str,
    world: World,
    tmp_path: Path,
    opened_by: str,
) -> None:
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, viewport=(1280, 800))
    merchant_qr = show_merchant_qr_of_a_walk_in(till, "258")
    link = decode(merchant_qr)
    assert re.fullmatch(rf"{re.escape(base)}/wallet/pay/\w+", link), link
    # the phone opens the link its camera read, or scans the QR in the wallet
    phone = launch(driver, camera=write_y4m(qr_image(merchant_qr), tmp_path / "qr.y4m"))
    try:
        path = link.removeprefix(base) if opened_by == "link" else "/wallet"
        wallet = open_page(phone, base, path, world.shopper_key, world.outside)
        if opened_by == "camera":
            wallet.locator("#merchant-camera").click()
        wallet.locator("#confirm-screen").wait_for(timeout=TIMEOUT)
        details = wallet.locator("#confirm-details").inner_text()
        assert "¥258.00" in details
        assert world.store["id"] in details
        assert "No coupon" in details
        wallet.get_by_role("button", name="Pay", exact=True).click()
        wallet.locator("#confirm-status").get_by_text("Paid").wait_for(timeout=TIMEOUT)
        # paid, the order is this shopper's: it is among their orders
        wallet.locator("#orders").get_by_text("¥258.00").first.wait_for(timeout=TIMEOUT)
    finally:
        phone.close()
    till.locator("#receipt").wait_for(timeout=TIMEOUT)  # no reload: the till polled
    receipt = till.locator("#receipt").inner_text()
    assert "¥258.00" in receipt
    assert "No coupon" in receipt


def test_a_second_wallet_opening_a_walk_ins_qr_after_it_was_paid_is_told_so(
    browser: Browser, base: str, world: World
) -> None:
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    link = decode(show_merchant_qr_of_a_walk_in(till, "99"))
    payment_id = link.rsplit("/", 1)[1]
    world.api.call("POST", f"/payments/{payment_id}/confirm", world.shopper_key, {})
    till.locator("#receipt").wait_for(timeout=TIMEOUT)
    other = world.api.call("POST", "/shoppers", body={"name": "Wei"})
    wallet = open_page(browser, base, link.removeprefix(base), other["api_key"], world.outside)
    wallet.locator("#message").get_by_text("not waiting for you").wait_for(timeout=TIMEOUT)
    assert wallet.locator("#confirm-screen").is_hidden()


def test_amounts_typed_in_yuan_are_sent_in_exact_fen(
    browser: Browser, base: str, world: World, api: LiveApi
) -> None:
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    parsed = till.evaluate(
        """async () => {
            const { yuanToFen, money } = await import('/web/static/common.js');
            const inputs = ['399', '399.5', '399.50', '0.07', '1.10', '¥12.3', ' 8 ',
                            '', 'abc', '1.234', '-5', '0', '1e3', '12,5'];
            return { fen: inputs.map(yuanToFen), shown: [34900, 7, 0, 123456].map(money) };
        }"""
    )
    assert parsed["fen"] == [
        39900,
        39950,
        39950,
        7,
        110,
        1230,
        800,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert parsed["shown"] == ["¥349.00", "¥0.07", "¥0.00", "¥1234.56"]


def paid_sale(world: World, yuan: int = 399) -> dict[str, object]:
    """A sale paid at the till through the API beside the page: the coupon, then clerk_scan."""
    api, shopper = world.api, world.shopper_key
    coupon = api.call("POST", f"/campaigns/{world.campaign['id']}/claims", shopper, {})
    token = api.call("GET", f"/coupons/{coupon['code']}/qr-token", shopper)["token"]
    order = api.call("POST", "/orders", world.clerk_key, {"amount": yuan * 100, "qr_token": token})
    code = api.call("GET", "/me/payment-code", shopper)["auth_code"]
    body = {"method": "wechat_pay", "flow": "clerk_scan", "auth_code": code}
    return dict(api.call("POST", f"/orders/{order['id']}/payments", world.clerk_key, body))


def test_a_declined_payment_is_explained_and_its_retry_is_paid(
    browser: Browser, base: str, world: World
) -> None:
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    till.locator("#amount").fill("128")
    till.get_by_role("button", name="Check out").click()
    till.locator("#pay-screen").wait_for()
    shopper = world.shopper_key
    till.get_by_label("Sandbox outcome").select_option("declined")
    till.locator("#paycode-text").fill(
        world.api.call("GET", "/me/payment-code", shopper)["auth_code"]
    )
    till.get_by_role("button", name="Take the payment").click()
    status = till.locator("#pay-status")
    status.get_by_text("The payment failed: The payment was declined.").wait_for(timeout=TIMEOUT)
    till.get_by_role("button", name="Try again").click()
    till.get_by_label("Sandbox outcome").select_option("success")
    till.locator("#paycode-text").fill(
        world.api.call("GET", "/me/payment-code", shopper)["auth_code"]
    )
    till.locator("#paycode-text").press("Enter")
    till.locator("#receipt").wait_for(timeout=TIMEOUT)
    assert "¥128.00" in till.locator("#receipt").inner_text()


def test_a_refund_from_the_statement_gives_the_payment_back(
    browser: Browser, base: str, world: World, docs: Path
) -> None:
    payment = paid_sale(world)
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, viewport=(1280, 800))
    refund = till.locator(f"#statement button[data-payment='{payment['id']}']")
    refund.wait_for(timeout=TIMEOUT)
    till.locator("#amount").fill("399")
    till.screenshot(path=str(docs / "till.png"))
    assert (docs / "till.png").stat().st_size > 10_000
    refund.click()
    till.locator("#statement").get_by_text("Refunded ¥349.00").wait_for(timeout=TIMEOUT)
    assert refund.count() == 0
    totals = till.locator("#statement-total").inner_text()
    assert "Total ¥0.00" in totals  # paid ¥349.00, refunded ¥349.00, the same day
    assert "Refunds 1 (¥349.00)" in totals
    after = world.api.call("GET", f"/payments/{payment['id']}", world.clerk_key)
    assert after["refunded_amount"] == payment["amount"] == 34900


def test_the_statement_downloads_as_a_csv_file_with_its_rows_and_totals(
    browser: Browser, base: str, world: World
) -> None:
    first = paid_sale(world)  # ¥349.00 by clerk_scan, with the coupon
    order = world.api.call("POST", "/orders", world.clerk_key, {"amount": 50000})
    body = {"method": "alipay", "flow": "shopper_scan"}
    walk_in = world.api.call("POST", f"/orders/{order['id']}/payments", world.clerk_key, body)
    second = world.api.call("POST", f"/payments/{walk_in['id']}/confirm", world.shopper_key, {})
    refund = world.api.call("POST", f"/payments/{first['id']}/refunds", body={"amount": 1000})
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, viewport=(1280, 800))
    requests: list[tuple[str, dict[str, str]]] = []
    till.on("request", lambda request: requests.append((request.url, request.headers)))
    till.locator(f"#statement button[data-payment='{second['id']}']").wait_for(timeout=TIMEOUT)
    with till.expect_download(timeout=TIMEOUT) as started:
        till.get_by_role("button", name="Download CSV").click()
    download = started.value
    date = till.locator("#statement-date").input_value()
    assert download.suggested_filename == f"statement-{world.store['id']}-{date}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    lines = [(r["type"], r["id"], r["amount_fen"], r["refunded_fen"]) for r in rows if r["id"]]
    assert [line[0] for line in lines] == ["payment", "payment", "refund"]
    assert sorted(lines) == sorted(  # every payment of the day, then every refund
        [
            ("payment", first["id"], "34900", "1000"),
            ("payment", second["id"], "50000", "0"),
            ("refund", refund["id"], "1000", ""),
        ]
    )
    total = next(r for r in rows if r["type"] == "total" and r["method"] == "all")
    assert (total["paid_count"], total["amount_fen"], total["refunded_fen"]) == (
        "2",
        "84900",
        "1000",
    )
    assert total["net_fen"] == "83900"
    day = world.api.call("GET", f"/stores/{world.store['id']}/statement?date={date}")
    assert int(total["net_fen"]) == day["totals"]["net_amount"]  # the page's statement, as CSV
    # the key went in the Authorization header, never in a URL
    fetched = [headers for url, headers in requests if "format=csv" in url]
    assert [h.get("authorization") for h in fetched] == [f"Bearer {world.clerk_key}"]
    assert not [url for url, _ in requests if world.clerk_key in url]


def test_the_wallet_on_a_phone_lists_coupons_by_status_and_shows_a_qr(
    browser: Browser, base: str, world: World, docs: Path
) -> None:
    paid_sale(world)
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    wallet.locator("#coupons li[data-status=redeemed]").wait_for(timeout=TIMEOUT)
    tote = {"type": "exchange", "exchange_price": 100, "item": "Canvas tote", "min_spend": 0}
    made = world.api.call("POST", "/campaigns", body=campaign_fields(name="Tote", discount=tote))
    wallet.reload()
    wallet.get_by_role("button", name="Claim Tote").click()
    wallet.locator("#coupons li[data-status=available] button").click()
    wallet.wait_for_function("() => document.getElementById('qr-img').naturalWidth > 0")
    statuses = wallet.locator("#coupons li").evaluate_all(
        "items => items.map(i => i.dataset.status)"
    )
    assert statuses == ["available", "redeemed"]
    wallet.screenshot(path=str(docs / "wallet.png"), full_page=True)
    assert (docs / "wallet.png").stat().st_size > 10_000
    world.api.call("PATCH", f"/campaigns/{made['id']}", body={"status": "ended"})


# Last: these move the service clock on, which the wallet's countdowns would show.


def test_a_user_paying_payment_shows_waiting_until_it_settles_by_itself(
    browser: Browser, base: str, world: World
) -> None:
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    till.locator("#amount").fill("66.6")
    till.get_by_role("button", name="Check out").click()
    till.get_by_label("Sandbox outcome").select_option("user_paying")
    code = world.api.call("GET", "/me/payment-code", world.shopper_key)["auth_code"]
    till.locator("#paycode-text").fill(code)
    till.get_by_role("button", name="Take the payment").click()
    till.locator("#pay-status").get_by_text("Waiting for the shopper to pay").wait_for()
    world.api.call("POST", "/sandbox/clock", body={"advance_seconds": 6})
    till.locator("#receipt").wait_for(timeout=TIMEOUT)
    assert "¥66.60" in till.locator("#receipt").inner_text()


@pytest.mark.parametrize(
    ("locale", "min_spend", "expired"),
    [
        ("en-US", "below the coupon's minimum spend", "The coupon's QR has expired"),
        ("zh-CN", "订单金额未达到优惠券的最低消费", "优惠券二维码已过期"),
    ],
)
def test_a_min_spend_miss_and_an_expired_coupon_qr_are_explained_in_words(
    browser: Browser, base: str, world: World, locale: str, min_spend: str, expired: str
) -> None:
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside, locale=locale)
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, locale=locale)
    assert till.locator("html").get_attribute("lang") == locale.replace("-US", "")
    claim = "领取" if locale == "zh-CN" else "Claim"
    wallet.get_by_role("button", name=f"{claim} {world.campaign['name']}").click()
    wallet.locator("#coupons li[data-status=available] button").click()
    wallet.wait_for_function("() => document.getElementById('qr-img').naturalWidth > 0")
    token = decode(wallet.locator("#qr-img").screenshot())
    take_coupon(till, token, "299")
    till.locator("#quote").get_by_text(min_spend).wait_for(timeout=TIMEOUT)
    assert "¥299.00" in till.locator("#quote").inner_text()  # nothing off: all of it to pay
    world.api.call("POST", "/sandbox/clock", body={"advance_seconds": 301})
    till.locator("#amount").fill("399")
    till.locator("#amount").press("Enter")
    till.locator("#message").get_by_text(expired).wait_for(timeout=TIMEOUT)
