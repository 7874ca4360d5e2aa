"""The till (/till, clerk) and the wallet (/wallet, shopper): pages that are clients of /api/v1.

Server-rendered Jinja templates and one small ES module per page (plus the module they share),
no build step, no framework, nothing from the internet. The pages hold no key and change
nothing themselves: the browser keeps the caller's API key in sessionStorage and calls the
public API with it. The language is zh-CN or English, chosen from Accept-Language unless the
page's switch (`?lang=`) says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, send_from_directory

from o2o.api import PREFIX
from o2o.web.messages import LANGUAGES, messages

blp = Blueprint("web", __name__, template_folder="templates", static_folder=None)

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_MAX_AGE = 300  # seconds: small files, no fingerprints; a deploy is seen within minutes

# The pages run only this app's scripts and styles, talk only to this app, and show images
# fetched by their scripts (blob:) or drawn from the camera; nothing may frame them.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Referrer-Policy": "no-referrer",  # /wallet/pay/<id> names a payment
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


def language() -> str:
    """The page's language: `?lang=` if it names one, else the best match of Accept-Language."""
    chosen = request.args.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def _page(template: str, **context: Any) -> Response:
    lang = language()
    other = next(code for code in LANGUAGES if code != lang)
    page = render_template(
        template,
        lang=lang,
        other_lang=other,
        t=messages(lang),
        switch_url=f"{request.path}?lang={other}",
        api_base=PREFIX,
        **context,
    )
    response = Response(page, mimetype="text/html", headers=PAGE_HEADERS)
    response.vary.add("Accept-Language")
    return response


@blp.get("/till")
def till() -> Response:
    """The clerk's till: scan a coupon, check out, take the payment, the receipt, the day."""
    return _page("web/till.html", page="till")


@blp.get("/wallet")
def wallet() -> Response:
    """The shopper's wallet: claim, show coupon QRs and the payment code, pay merchant QRs."""
    return _page("web/wallet.html", page="wallet", payment_id="")


@blp.get("/wallet/pay/<payment_id>")
def wallet_pay(payment_id: str) -> Response:
    """What a merchant QR opens: the wallet, on the confirm screen of that payment."""
    return _page("web/wallet.html", page="wallet", payment_id=payment_id)


@blp.get("/wallet/wechatpay/<payment_id>")
def wallet_wechatpay(payment_id: str) -> Response:
    """What a WeChat Pay sandbox H5 trade's `h5_url` opens: the wallet, on the confirm screen of
    its payment, paid as WeChat's client pays (the sandbox's outcome, not the page's)."""
    return _page("web/wallet.html", page="wallet", payment_id=payment_id, wechatpay=True)


@blp.get("/wallet/cashier")
def cashier() -> Response:
    """The WeChat Pay sandbox's mock cashier: what `wx.requestPayment` (JSAPI) or the app's
    WeChat SDK (APP) opens, its parameters in the query; the shopper confirms there."""
    return _page("web/cashier.html", page="cashier")


@blp.get("/web/static/<path:filename>")
def static(filename: str) -> Response:
    """The pages' own scripts and stylesheet."""
    response = send_from_directory(STATIC_DIR, filename, max_age=ASSET_MAX_AGE)
    if filename.endswith(".js"):
        response.mimetype = "text/javascript"
    return response


def register(app: Flask) -> None:
    """Mount the pages (outside /api/v1 and outside the OpenAPI spec)."""
    app.register_blueprint(blp)
