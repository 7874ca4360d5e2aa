"""Probes outside /api/v1: /healthz (liveness, touches nothing) and /readyz (database, Redis)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from o2o.api import limits
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.vocabulary import ErrorCode

OK = "ok"
UNAVAILABLE = "unavailable"


def healthz() -> Any:
    """Liveness: touches no table."""
    return jsonify(status=OK)


def readyz() -> Any:
    """Readiness: the database answers `SELECT 1`, and so does the shared rate-limit store."""
    checks = {"database": _database()}
    storage = limits.storage_ready(current_app)
    if storage is not None:
        checks["rate_limit_storage"] = OK if storage else UNAVAILABLE
    if any(check != OK for check in checks.values()):
        raise O2OError(ErrorCode.SERVICE_UNAVAILABLE, details={"checks": checks})
    return jsonify(status="ready", checks=checks)


def _database() -> str:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        current_app.logger.warning("readiness: database unavailable: %s", error)
        return UNAVAILABLE
    return OK


def register(app: Flask) -> None:
    """Mount both probes at the root, beside (not inside) the API."""
    app.add_url_rule("/healthz", view_func=healthz, methods=["GET"])
    app.add_url_rule("/readyz", view_func=readyz, methods=["GET"])
