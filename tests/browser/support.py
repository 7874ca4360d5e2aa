"""Browser-test support: the one module that imports Playwright; Chromium, a camera, the API.

Playwright drives Debian's /usr/bin/chromium (never a browser of Playwright's own download).
Chromium's fake camera plays a .y4m file that the test writes from the QR it needs.
"""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from tests.builders import ADMIN_KEY, campaign_fields

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("O2O_REQUIRE_BROWSER") == "1"  # CI: a skip here is a failure

try:
    from playwright.sync_api import Browser, Page, Playwright, sync_playwright
except ImportError:  # pragma: no cover - the dev extra brings it
    sync_playwright = None  # type: ignore[assignment]


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if sync_playwright is None:
        return "Playwright for Python is not installed (make install brings it)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def require_browser() -> None:
    """Skip with the reason, or fail with it when O2O_REQUIRE_BROWSER=1."""
    if reason := unavailable():
        if REQUIRE:
            pytest.fail(f"O2O_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@contextmanager
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


def launch(driver: Playwright, camera: Path | None = None) -> Browser:
    """Headless Chromium; with `camera`, its fake capture device plays that .y4m file."""
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    return driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)


def write_y4m(image: Image.Image, path: Path, width: int = 640, height: int = 480) -> Path:
    """One 4:2:0 frame of `image` (centred on white) as a Y4M file; Chromium loops it."""
    frame = Image.new("RGB", (width, height), "white")
    picture = image.convert("RGB")
    picture.thumbnail((height - 40, height - 40))
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + planes)
    return path


def decode(png: bytes) -> str:
    """The one QR in a screenshot, read by an independent decoder (as a clerk's scanner)."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1, results
    return str(results[0].text)


def qr_image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


@dataclass
class LiveApi:
    """The public API of the live server, called the way any client calls it."""

    base: str

    def call(
        self, method: str, path: str, key: str = ADMIN_KEY, body: Any = None, **headers: str
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                **({"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}),
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from error

    def world(self, **campaign: Any) -> World:
        """A store, its clerk, a shopper and a claimable campaign (¥50 off ¥300 unless told)."""
        store = self.call("POST", "/stores", body={"name": "西湖店", "city": "杭州"})
        clerk = self.call("POST", "/clerks", body={"name": "Li", "store_id": store["id"]})
        shopper = self.call("POST", "/shoppers", body={"name": "Mei"})
        fields = campaign_fields(name=f"GXG ¥50 off ¥300 {uuid.uuid4().hex[:6]}", **campaign)
        created = self.call("POST", "/campaigns", body=fields)
        return World(self, store, clerk, shopper, created)


@dataclass
class World:
    api: LiveApi
    store: dict[str, Any]
    clerk: dict[str, Any]
    shopper: dict[str, Any]
    campaign: dict[str, Any]
    outside: list[str] = field(default_factory=list)

    @property
    def clerk_key(self) -> str:
        return str(self.clerk["api_key"])

    @property
    def shopper_key(self) -> str:
        return str(self.shopper["api_key"])

    def coupons(self) -> list[dict[str, Any]]:
        return list(self.api.call("GET", "/me/coupons", self.shopper_key)["items"])


def open_page(
    browser: Browser,
    base: str,
    path: str,
    key: str,
    outside: list[str],
    locale: str = "en-US",
    viewport: tuple[int, int] = (390, 844),
) -> Page:
    """A new context and tab on `path` (a phone's screen unless told), the key entered once;
    every request to anywhere but `base` is recorded in `outside`."""
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=locale,
        timezone_id="Asia/Shanghai",  # the stores' O2O_TIMEZONE: the till's day is theirs
    )
    context.grant_permissions(["camera"], origin=base)
    page = context.new_page()
    # blob: URLs of this origin are the API's images, already fetched from it
    inside = (f"{base}/", f"blob:{base}/")
    page.on(
        "request",
        lambda request: None if request.url.startswith(inside) else outside.append(request.url),
    )
    page.goto(f"{base}{path}")
    page.locator("#api-key").fill(key)
    page.locator("#api-key").press("Enter")  # the keyboard alone signs in
    page.locator("#app").wait_for()
    return page
