"""The till and the wallet as the server serves them: headers, languages, the wallet link."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from o2o.web.messages import LANGUAGES, WORDS
from tests.conftest import build_app

PAGES = ["/till", "/wallet", "/wallet/pay/pay_123", "/wallet/wechatpay/pay_123", "/wallet/cashier"]


@pytest.fixture(scope="module")
def app() -> Flask:
    return build_app("sqlite://")


def page_data(response: TestResponse) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', response.text, re.S
    )
    assert found, response.text[:500]
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_html_under_a_strict_policy_that_allows_no_inline_script(
    app: Flask, path: str
) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Accept-Language" in response.headers["Vary"]
    # every script is a file of this app; the one inline block is data, never run
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    for attributes, body in scripts:
        assert 'type="application/json"' in attributes or (
            'src="/web/static/' in attributes and not body.strip()
        ), attributes
    assert "http://" not in response.text
    assert "https://" not in response.text


@pytest.mark.parametrize(
    ("accept_language", "lang", "title"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "收银台"),
        ("en-US,en;q=0.9", "en", "Till"),
        ("fr-FR", "en", "Till"),
        ("", "en", "Till"),
    ],
)
def test_the_till_speaks_the_language_the_browser_asks_for(
    app: Flask, accept_language: str, lang: str, title: str
) -> None:
    response = app.test_client().get("/till", headers={"Accept-Language": accept_language})
    assert f'<html lang="{lang}">' in response.text
    assert f"<h1>{title}</h1>" in response.text
    assert page_data(response)["lang"] == lang


def test_the_switch_on_the_page_chooses_the_other_language_whatever_the_browser_asks(
    app: Flask,
) -> None:
    client = app.test_client()
    chinese = client.get("/wallet", headers={"Accept-Language": "zh-CN"})
    assert 'href="/wallet?lang=en"' in chinese.text
    english = client.get("/wallet?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text
    assert "<h1>Wallet</h1>" in english.text
    assert 'href="/wallet?lang=zh-CN"' in english.text


def test_the_wallet_link_of_a_merchant_qr_opens_the_confirm_screen_of_that_payment(
    app: Flask,
) -> None:
    response = app.test_client().get("/wallet/pay/pay_123")
    assert page_data(response)["payment_id"] == "pay_123"
    assert 'id="confirm-screen"' in response.text


def test_a_payment_id_in_the_wallet_link_cannot_break_out_of_the_page_data(app: Flask) -> None:
    response = app.test_client().get("/wallet/pay/%3C!--%3Cscript%3Ealert(1)")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "<!--" not in response.text
    assert page_data(response)["payment_id"] == "<!--<script>alert(1)"


def test_every_word_of_the_pages_is_there_in_both_languages() -> None:
    assert LANGUAGES == ["zh-CN", "en"]
    for key, (english, chinese) in WORDS.items():
        assert english.strip(), key
        assert chinese.strip(), key
    for reason in ("min_spend_not_met", "coupon_expired", "store_not_eligible"):
        assert reason in WORDS


def test_the_pages_files_are_served_and_an_unknown_one_is_the_error_envelope(app: Flask) -> None:
    client = app.test_client()
    for name, mimetype in [
        ("till.js", "text/javascript"),
        ("wallet.js", "text/javascript"),
        ("common.js", "text/javascript"),
        ("web.css", "text/css"),
    ]:
        response = client.get(f"/web/static/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    missing = client.get("/web/static/../__init__.py")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
