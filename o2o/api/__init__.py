"""Thin flask-smorest blueprints: parse → call a service → dump."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from o2o.api import campaigns, checkout, coupons, payments, people, sandbox
from o2o.api.base import unstorable_text
from o2o.errors import validation_failed
from o2o.extensions import Api, make_api
from o2o.vocabulary import ErrorCode

PREFIX = "/api/v1"


def register(app: Flask) -> None:
    """Mount every blueprint under /api/v1 on a fresh Api (the sandbox only in sandbox mode)."""
    api = make_api(app)
    for module in (people, campaigns, coupons, checkout, payments):
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    if app.config["O2O_SANDBOX"]:
        api.register_blueprint(sandbox.blp, url_prefix=PREFIX)
    _document_idempotency(api)
    app.before_request(_refuse_hostile_input)


def _refuse_hostile_input() -> None:
    """Refuse NUL or a lone surrogate in the path, query string or headers (422 naming each);
    the body parser applies the same rule to bodies."""
    headers = list(request.headers.items())
    # A repeated query parameter is checked as one string: any bad character in any of them.
    query = {name: "".join(request.args.getlist(name)) for name in request.args}
    found: dict[str, Any] = {}
    for strings in (dict(headers), query, request.view_args or {}):
        found.update(unstorable_text(strings))
    if found:
        raise validation_failed(found)


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Stripe semantics: the same key and body within 24 h replays the first "
    "response (header Idempotent-Replayed: true); another body is "
    f"{ErrorCode.IDEMPOTENCY_KEY_REUSED.status} {ErrorCode.IDEMPOTENCY_KEY_REUSED.code}; "
    "a request still running is "
    f"{ErrorCode.IDEMPOTENCY_KEY_IN_USE.status} {ErrorCode.IDEMPOTENCY_KEY_IN_USE.code}.",
}


def _document_idempotency(api: Api) -> None:
    """Every POST honours Idempotency-Key (o2o.api.idempotency); say so in each POST operation."""
    for operations in api.spec._paths.values():
        if "post" in operations:
            operations["post"].setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
