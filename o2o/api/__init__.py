"""Thin flask-smorest blueprints: parse → call a service → dump."""

from __future__ import annotations

from flask import Flask

from o2o.api import campaigns, checkout, coupons, payments, people, sandbox
from o2o.extensions import make_api

PREFIX = "/api/v1"


def register(app: Flask) -> None:
    """Mount every blueprint under /api/v1 on a fresh Api (the sandbox only in sandbox mode)."""
    api = make_api(app)
    for module in (people, campaigns, coupons, checkout, payments):
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    if app.config["O2O_SANDBOX"]:
        api.register_blueprint(sandbox.blp, url_prefix=PREFIX)
