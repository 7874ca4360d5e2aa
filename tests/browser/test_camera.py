"""The camera and the photo: Chromium's fake capture device plays a QR that the test wrote as
a .y4m file; the page sends what it captures to POST /api/v1/scans/image, which reads it."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageFilter

from tests.browser.support import (
    Browser,
    Page,
    Playwright,
    World,
    decode,
    launch,
    open_page,
    qr_image,
    write_y4m,
)

TIMEOUT = 15_000  # ms: a few frames of ~400 ms, each read by the server


def show_coupon_qr(wallet: Page, world: World) -> bytes:
    """The wallet claims the world's coupon and shows its QR; a screenshot of that QR."""
    wallet.get_by_role("button", name=f"Claim {world.campaign['name']}").click()
    wallet.locator("#coupons li[data-status=available] button").click()
    wallet.wait_for_function("() => document.getElementById('qr-img').naturalWidth > 0")
    return bytes(wallet.locator("#qr-img").screenshot())


def test_in_store_with_clerk_scan_the_tills_camera_reads_the_coupon_and_the_payment_code(
    driver: Playwright, browser: Browser, base: str, world: World, tmp_path: Path
) -> None:
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    coupon_qr = show_coupon_qr(wallet, world)
    decode(coupon_qr)  # what the wallet shows is a readable QR
    feed = write_y4m(qr_image(coupon_qr), tmp_path / "camera.y4m")
    till_browser = launch(driver, camera=feed)
    try:
        till = open_page(till_browser, base, "/till", world.clerk_key, world.outside)
        till.locator("#amount").fill("399")
        till.get_by_role("button", name="Start the camera").first.click()
        quote = till.locator("#quote")
        quote.get_by_text("The coupon applies.").wait_for(timeout=TIMEOUT)
        assert "To pay ¥349.00" in quote.inner_text()
        till.get_by_role("button", name="Check out").click()
        till.locator("#pay-screen").wait_for()
        wallet.get_by_role("button", name="Show my payment code").click()
        wallet.wait_for_function("() => document.getElementById('qr-img').src.startsWith('data:')")
        # the same fake camera, now filmed in front of the payment code (read afresh on start)
        write_y4m(qr_image(wallet.locator("#qr-img").screenshot()), feed)
        till.locator("#paycode-camera").click()
        till.locator("#receipt").wait_for(timeout=TIMEOUT)
        assert "¥349.00" in till.locator("#receipt").inner_text()
    finally:
        till_browser.close()
    wallet.reload()
    wallet.locator("#coupons li[data-status=redeemed]").wait_for(timeout=TIMEOUT)


def test_in_store_with_shopper_scan_the_wallets_camera_reads_the_merchant_qr(
    driver: Playwright, browser: Browser, base: str, world: World, tmp_path: Path
) -> None:
    # The order holds the shopper's coupon, so only they may pay it (a walk-in's order, with
    # no coupon and no shopper, is paid from the wallet in test_till_and_wallet.py).
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    token = decode(show_coupon_qr(wallet, world))
    wallet.context.close()
    till = open_page(browser, base, "/till", world.clerk_key, world.outside, viewport=(1280, 800))
    till.locator("#coupon-text").fill(token)
    till.locator("#amount").fill("388")
    till.get_by_role("button", name="Check out").click()
    till.get_by_label("The shopper scans the store's QR").check()
    till.get_by_role("button", name="Take the payment").click()
    till.wait_for_function("() => document.getElementById('merchant-qr-img').naturalWidth > 0")
    merchant_qr = till.locator("#merchant-qr-img").screenshot()
    feed = write_y4m(qr_image(merchant_qr), tmp_path / "merchant.y4m")
    phone = launch(driver, camera=feed)
    try:
        wallet = open_page(phone, base, "/wallet", world.shopper_key, world.outside)
        wallet.locator("#merchant-camera").click()
        wallet.locator("#confirm-screen").wait_for(timeout=TIMEOUT)
        details = wallet.locator("#confirm-details").inner_text()
        assert "¥338.00" in details  # ¥388 less the coupon's ¥50
        assert world.store["id"] in details
        wallet.get_by_role("button", name="Pay", exact=True).click()
        wallet.locator("#confirm-status").get_by_text("Paid").wait_for(timeout=TIMEOUT)
    finally:
        phone.close()
    till.locator("#receipt").wait_for(timeout=TIMEOUT)  # the till turned by itself


def rotated_noisy_photo(png: bytes) -> bytes:
    """A phone's photo of a QR: on a grey desk, turned 12°, blurred a little, grainy, JPEG."""
    code = Image.open(io.BytesIO(png)).convert("L")
    desk = Image.new("L", (1280, 960), 170)
    desk.paste(code.resize((520, 520)), (380, 220))
    photo = desk.rotate(12, fillcolor=170).filter(ImageFilter.GaussianBlur(1.2))
    grain = random.Random(12)
    pixels = photo.load()
    assert pixels is not None
    for _ in range(60_000):
        x, y = grain.randrange(photo.width), grain.randrange(photo.height)
        pixels[x, y] = max(0, min(255, int(pixels[x, y]) + grain.randint(-60, 60)))  # type: ignore[arg-type]
    out = io.BytesIO()
    photo.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_rotated_noisy_photo_of_the_coupon_uploaded_at_the_till_is_read(
    browser: Browser, base: str, world: World, tmp_path: Path
) -> None:
    wallet = open_page(browser, base, "/wallet", world.shopper_key, world.outside)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(rotated_noisy_photo(show_coupon_qr(wallet, world)))
    till = open_page(browser, base, "/till", world.clerk_key, world.outside)
    till.locator("#amount").fill("399")
    till.get_by_label("Take or upload a photo").first.set_input_files(str(photo))
    till.locator("#quote").get_by_text("To pay ¥349.00").wait_for(timeout=TIMEOUT)
    assert till.locator("#coupon-text").input_value()  # the token read, shown in the field
