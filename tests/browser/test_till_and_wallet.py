"""The till and the wallet in real Chromium, against a live sandbox server."""

from __future__ import annotations

import re

from tests.browser.support import Browser, LiveApi, Page, World, decode, open_page

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
    code = re.sub(r"\D", "", digits.inner_text())
    assert len(code) == 18
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
