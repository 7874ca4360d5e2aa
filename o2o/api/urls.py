"""Absolute URLs the service hands out: O2O_PUBLIC_URL, then the route's path; never the Host."""

from __future__ import annotations

from typing import Any

from flask import current_app


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` as clients outside must use it.

    The base is the configured O2O_PUBLIC_URL, path prefix included; the path is built from the
    URL map alone, so neither the request's Host nor a proxy's X-Forwarded-Host or
    X-Forwarded-Prefix can change a URL that ends up in a QR code.
    """
    path = current_app.url_map.bind("public").build(endpoint, values)
    return str(current_app.config["O2O_PUBLIC_URL"]).rstrip("/") + path
