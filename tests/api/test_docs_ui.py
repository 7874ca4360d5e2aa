"""The landing page at / and Swagger UI at /api/v1/docs: public, offline, outside the spec."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from o2o.api.docs_ui import INIT_JS
from o2o.extensions import db
from tests.conftest import build_app

DOCS = "/api/v1/docs"
SPEC = "/api/v1/openapi.json"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class Page(HTMLParser):
    """Every <script src>, <link href> and <a href> of a page, and its elements' attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[dict[str, str]] = []
        self.anchors: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "script":
            self.scripts.append(attributes.get("src", ""))  # "" would be an inline script
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "a":
            self.anchors.append(attributes["href"])

    def attribute(self, name: str) -> str:
        [value] = [attrs[name] for _, attrs in self.elements if name in attrs]
        return value


def _apps(**config: Any) -> Iterator[Flask]:
    app = build_app("sqlite://", **config)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app() -> Iterator[Flask]:
    """No table is touched by these pages: an in-memory database is enough."""
    yield from _apps()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _internal(url: str) -> str:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("", ""), f"{url} is not served by this app"
    assert parts.path.startswith("/"), url
    return url


def test_every_script_and_stylesheet_of_the_docs_page_is_served_by_the_app(
    client: FlaskClient,
) -> None:
    page_response = client.get(DOCS)
    assert page_response.status_code == 200
    assert page_response.mimetype == "text/html"
    page = Page(page_response.get_data(as_text=True))
    assert len(page.scripts) == 3
    assert all(page.scripts), "no inline script"
    kinds = {"script": "javascript", "stylesheet": "text/css", "icon": "image/png"}
    fetched = [("script", src) for src in page.scripts]
    fetched += [(link["rel"], link["href"]) for link in page.links]
    assert {kind for kind, _ in fetched} == set(kinds)
    for kind, url in fetched:
        response = client.get(_internal(url))
        assert response.status_code == 200, url
        assert kinds[kind] in (response.mimetype or ""), (url, response.mimetype)
        assert "max-age=" in response.headers["Cache-Control"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.data) > 0


def test_the_docs_page_points_swagger_ui_at_the_spec_the_app_serves(client: FlaskClient) -> None:
    page = Page(client.get(DOCS).get_data(as_text=True))
    spec_url = _internal(page.attribute("data-spec-url"))
    assert spec_url == SPEC
    spec = client.get(spec_url)
    assert spec.status_code == 200
    assert spec.get_json()["openapi"].startswith("3.")
    assert "root.dataset.specUrl" in INIT_JS
    assert "validatorUrl: null" in INIT_JS  # no badge from validator.swagger.io
    assert "://" not in INIT_JS


def test_the_docs_page_answers_with_and_without_the_trailing_slash(client: FlaskClient) -> None:
    plain, slashed = client.get(DOCS), client.get(f"{DOCS}/")
    assert plain.status_code == slashed.status_code == 200
    assert plain.data == slashed.data  # absolute paths: the same page from either URL


def test_the_docs_page_allows_scripts_from_this_origin_only(client: FlaskClient) -> None:
    policy = client.get(DOCS).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert "script-src" not in directives  # so default-src 'self' rules scripts: none inline


def test_only_the_page_files_of_the_bundle_are_served(client: FlaskClient) -> None:
    for name in ("index.html", "oauth2-redirect.html", "../__init__.py", "nowhere.js"):
        response = client.get(f"{DOCS}/assets/{name}")
        assert response.status_code == 404, name
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_landing_page_links_to_the_docs_page_and_the_spec_and_each_link_answers(
    client: FlaskClient,
) -> None:
    response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    anchors = Page(response.get_data(as_text=True)).anchors
    assert {DOCS, SPEC, "/healthz"} <= set(anchors)
    for href in anchors:
        assert client.get(_internal(href)).status_code == 200, href


def test_the_landing_page_answers_json_to_a_client_that_prefers_it(client: FlaskClient) -> None:
    for accept in ("application/json", "*/*"):  # curl sends */*
        response = client.get("/", headers={"Accept": accept})
        assert response.mimetype == "application/json", accept
        body = response.get_json()
        assert body["service"] == "O2O coupon-and-payment service"
        assert body["links"]["docs"] == f"http://127.0.0.1:5000{DOCS}"  # from O2O_PUBLIC_URL
        for url in body["links"].values():
            assert client.get(urlsplit(url).path).status_code == 200, url
    assert "Accept" in response.headers["Vary"]


def test_the_pages_are_public_and_none_of_them_is_in_the_spec(client: FlaskClient) -> None:
    for path in ("/", DOCS, f"{DOCS}/"):
        assert client.get(path).status_code == 200, path  # no Authorization header sent
    paths = client.get(SPEC).get_json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith(DOCS)]


def test_the_pages_answer_on_a_live_configuration_with_rate_limits_on() -> None:
    for app in _apps(O2O_SANDBOX=False):
        client = app.test_client()
        page = Page(client.get(DOCS).get_data(as_text=True))
        for url in [*page.scripts, SPEC, "/"]:
            assert client.get(url).status_code == 200, url


def test_a_forged_host_or_prefix_changes_no_link_on_the_pages() -> None:
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    forged |= {"X-Forwarded-Prefix": "/evil", "X-Forwarded-Proto": "https"}
    for app in _apps(O2O_PROXY_FIX=1):
        client = app.test_client()
        for path, accept in ((DOCS, BROWSER), ("/", BROWSER), ("/", {"Accept": "*/*"})):
            body = client.get(path, headers={**forged, **accept}).get_data(as_text=True)
            assert "evil" not in body, path


def test_every_link_carries_the_path_of_the_configured_public_url() -> None:
    for app in _apps(O2O_PUBLIC_URL="https://pay.example.com/base/"):
        client = app.test_client()
        page = Page(client.get(DOCS).get_data(as_text=True))
        urls = [*page.scripts, *(link["href"] for link in page.links)]
        urls.append(page.attribute("data-spec-url"))
        urls += Page(client.get("/", headers=BROWSER).get_data(as_text=True)).anchors
        assert all(url.startswith("/base/") for url in urls), urls
        links = client.get("/", headers={"Accept": "application/json"}).get_json()["links"]
        assert links["openapi"] == f"https://pay.example.com/base{SPEC}"
