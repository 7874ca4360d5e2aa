"""The human front door: a landing page at / and Swagger UI at /api/v1/docs, served offline.

A plain Flask blueprint, not a flask-smorest one, so none of these pages enter the OpenAPI spec.
Every script and stylesheet comes from this app: Swagger UI's own files from the pip-installed
swagger-ui-bundle (the one module that imports it), and the few lines that start it from
INIT_JS below, served as a file of its own so that the page has no inline script (a
Content-Security-Policy of `script-src 'self'` holds). Links are paths taken from O2O_PUBLIC_URL
and the URL map, never from the Host or X-Forwarded-* headers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template_string,
    request,
    send_from_directory,
)

from o2o.api import PREFIX
from o2o.api.urls import public_url
from o2o.errors import O2OError
from o2o.vocabulary import ErrorCode

SWAGGER_UI_DIR = Path(str(swagger_ui_bundle.swagger_ui_path))
# e.g. "4.15.5", from the bundle's directory name: the assets' URLs carry it, so an upgrade of
# the bundle is fetched afresh despite the long caching below.
SWAGGER_UI_VERSION = SWAGGER_UI_DIR.name.removeprefix("swagger-ui-")

# The only files served from the bundle: what the page loads, and the source maps a browser's
# developer tools ask for. Not its index.html and initializer, which open the Petstore demo.
PAGE_ASSETS = (
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
)
FAVICONS = ("favicon-32x32.png", "favicon-16x16.png")
SERVED_ASSETS = frozenset(
    (*PAGE_ASSETS, *FAVICONS, *(f"{name}.map" for name in PAGE_ASSETS if name != "index.css"))
)
ASSET_MAX_AGE = 7 * 24 * 3600  # seconds: the URLs change with the bundle's version
INIT_FILE = "swagger-initializer.js"  # this module's INIT_JS, not the bundle's Petstore one

DOCS_PATH = f"{PREFIX}/docs"
SERVICE_LINKS = {  # name → endpoint, in the order the landing page lists them
    "docs": "docs_ui.docs_page",
    "openapi": "api-docs.openapi_json",
    "health": "healthz",
    "readiness": "readyz",
}
REPOSITORY_DOCS = ("README.md", "docs/")  # guides that live beside the code, not on the server

blp = Blueprint("docs_ui", __name__)

INIT_JS = """\
// Start Swagger UI on the spec named by #swagger-ui's data-spec-url (served by this app).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no badge fetched from validator.swagger.io: the page stays offline
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
});
"""

INIT_VERSION = hashlib.sha256(INIT_JS.encode()).hexdigest()[:12]

DOCS_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }} · API reference</title>
  {%- for href in styles %}
  <link rel="stylesheet" href="{{ href }}">
  {%- endfor %}
  {%- for size, href in icons %}
  <link rel="icon" type="image/png" sizes="{{ size }}" href="{{ href }}">
  {%- endfor %}
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ spec_url }}"></div>
  {%- for src in scripts %}
  <script src="{{ src }}" charset="utf-8"></script>
  {%- endfor %}
</body>
</html>
"""

LANDING_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
</head>
<body>
  <h1>{{ title }}</h1>
  <p>Online coupon campaigns, QR redemption in store and mock payments, over a JSON API
  under <code>{{ prefix }}</code> (API keys as <code>Authorization: Bearer &lt;key&gt;</code>).</p>
  <ul>
    <li><a href="{{ links.docs }}">API reference</a> (Swagger UI)</li>
    <li><a href="{{ links.openapi }}">OpenAPI spec</a> (JSON)</li>
    <li><a href="{{ links.health }}">Liveness</a> and <a href="{{ links.readiness }}">readiness</a>
    probes</li>
  </ul>
  <p>The guides live in the repository: {% for name in repository_docs %}<code>{{ name }}</code>\
{{ " and " if not loop.last }}{% endfor %}.</p>
</body>
</html>
"""

# The docs page loads only what this app serves; Swagger UI draws its icons from data: URLs
# and sets inline styles, and "Try it out" calls this same origin.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _path(endpoint: str, **values: Any) -> str:
    """The path (O2O_PUBLIC_URL's prefix included) of an endpoint: no scheme, no host."""
    url = urlsplit(public_url(endpoint, **values))
    return url.path + (f"?{url.query}" if url.query else "")


def _asset(name: str) -> str:
    version = INIT_VERSION if name == INIT_FILE else SWAGGER_UI_VERSION
    return _path("docs_ui.asset", filename=name, v=version)


@blp.get("/")
def landing() -> Any:
    """What this service is and where its docs, spec and probes are (HTML, or JSON if asked)."""
    title = current_app.config["API_TITLE"]
    links = {name: _path(endpoint) for name, endpoint in SERVICE_LINKS.items()}
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        page = render_template_string(
            LANDING_HTML, title=title, prefix=PREFIX, links=links, repository_docs=REPOSITORY_DOCS
        )
        response = Response(page, mimetype="text/html")
    else:  # curl's */* and API clients
        absolute = {name: public_url(endpoint) for name, endpoint in SERVICE_LINKS.items()}
        body = {"service": title, "version": current_app.config["API_VERSION"]}
        response = jsonify(**body, links=absolute, repository_docs=list(REPOSITORY_DOCS))
    response.vary.add("Accept")
    return response


@blp.get(f"{DOCS_PATH}/")
@blp.get(DOCS_PATH)  # registered first: the path links are built to
def docs_page() -> Any:
    """Swagger UI on this service's OpenAPI spec, every asset served by this app."""
    page = render_template_string(
        DOCS_HTML,
        title=current_app.config["API_TITLE"],
        styles=[_asset("swagger-ui.css"), _asset("index.css")],
        icons=[
            (name.removeprefix("favicon-").removesuffix(".png"), _asset(name)) for name in FAVICONS
        ],
        scripts=[
            _asset("swagger-ui-bundle.js"),
            _asset("swagger-ui-standalone-preset.js"),
            _asset(INIT_FILE),
        ],
        spec_url=_path("api-docs.openapi_json"),
    )
    return Response(page, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})


@blp.get(f"{DOCS_PATH}/assets/<path:filename>")
def asset(filename: str) -> Any:
    """One of the page's files: Swagger UI's from the installed bundle, or its initializer."""
    if filename == INIT_FILE:
        response = Response(INIT_JS, mimetype="text/javascript")
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_MAX_AGE
        return response
    if filename not in SERVED_ASSETS:
        raise O2OError(ErrorCode.NOT_FOUND, "No such file of the API reference page.")
    mimetype = "application/json" if filename.endswith(".map") else None
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=ASSET_MAX_AGE, mimetype=mimetype)
