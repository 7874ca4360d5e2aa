"""Thin flask-smorest blueprints: parse → call a service → dump."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, request

from o2o.api import (
    campaigns,
    checkout,
    coupons,
    events,
    ledger,
    openapi,
    payments,
    people,
    sandbox,
    webhooks,
    wechatpay,
)
from o2o.api.base import unstorable_text
from o2o.errors import O2OError, validation_failed
from o2o.extensions import make_api
from o2o.vocabulary import ErrorCode

PREFIX = "/api/v1"


def register(app: Flask) -> None:
    """Mount every blueprint under /api/v1 on a fresh Api (the sandbox only in sandbox mode)."""
    events.install()
    api = make_api(app, **openapi.spec_options())
    modules = (people, campaigns, coupons, checkout, payments, ledger, events, webhooks, wechatpay)
    for module in modules:
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    if app.config["O2O_SANDBOX"]:
        api.register_blueprint(sandbox.blp, url_prefix=PREFIX)
    else:  # not in the spec: a hint for whoever reaches for the sandbox on a live service
        for path in (f"{PREFIX}/sandbox", f"{PREFIX}/sandbox/<path:rest>"):
            app.add_url_rule(path, "sandbox_off", _sandbox_off, methods=["GET", "POST"])
    openapi.document(api, app)
    app.before_request(_refuse_hostile_input)


def _sandbox_off(rest: str = "") -> Any:
    raise O2OError(
        ErrorCode.NOT_FOUND,
        "The sandbox is off on this server: start the service with O2O_SANDBOX=1 to use it.",
    )


# The app's own limits on the request line and headers. gunicorn.conf.py raises gunicorn's
# above these, so that the app refuses oversize input, in the envelope, rather than gunicorn with
# an HTML page. They are gunicorn's defaults: nothing that passed before is refused now.
MAX_URL_BYTES = 4094  # the request target as sent: path and query string
MAX_HEADER_BYTES = 8190  # one header line: name, ": " and value
MAX_HEADERS = 100


def _refuse_hostile_input() -> None:
    """Refuse an oversize URL or headers (414, 431), then NUL or a lone surrogate in the path,
    query string or headers (422 naming each); the body parser applies the same rule to bodies."""
    environ = request.environ
    # The target as sent (gunicorn's RAW_URI); rebuilt where a server does not pass it on.
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    target = target or quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    if "?" not in target and environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    if len(target) > MAX_URL_BYTES:
        raise O2OError(ErrorCode.URI_TOO_LONG, details={"max_bytes": MAX_URL_BYTES})
    headers = _headers(environ)
    if len(headers) > MAX_HEADERS:
        raise O2OError(ErrorCode.REQUEST_HEADER_TOO_LARGE, details={"max_headers": MAX_HEADERS})
    for name, value in headers.items():
        if len(name) + 2 + len(value) > MAX_HEADER_BYTES:
            details = {"header": name, "max_bytes": MAX_HEADER_BYTES}
            raise O2OError(ErrorCode.REQUEST_HEADER_TOO_LARGE, details=details)
    strings = [headers, request.view_args or {}]
    if environ.get("QUERY_STRING"):
        # A repeated parameter is checked as one string: a bad character in any of its values.
        strings.append({name: "".join(request.args.getlist(name)) for name in request.args})
    found: dict[str, Any] = {}
    for mapping in strings:
        found.update(unstorable_text(mapping))
    if found:
        raise validation_failed(found)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """Header name → value, straight from the WSGI environ (werkzeug's EnvironHeaders costs
    several times more, and this runs on every request)."""
    return {
        key.removeprefix("HTTP_").replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    }
