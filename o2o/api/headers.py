"""Security headers on every response: nosniff, and no-store unless a view chose its caching."""

from __future__ import annotations

from flask import Flask
from flask.wrappers import Response


def _security_headers(response: Response) -> Response:
    """Every answer of this API is for one caller at one moment: API keys, QR tokens, payment
    codes and payment QRs among them. None may sit in a browser's or a proxy's cache, so all
    are `no-store` (as Stripe answers every API call); a response that set its own
    Cache-Control keeps it. `nosniff`: a JSON or image body is never run as a script."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    """Add the headers to every response the app makes, errors included."""
    app.after_request(_security_headers)
