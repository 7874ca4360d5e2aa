"""The Flask error handlers: every error leaves as the API's envelope."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from o2o.errors import O2OError, validation_failed
from o2o.extensions import db
from o2o.vocabulary import ErrorCode

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
}

# How long a client is asked to wait when the database (or the rate-limit store) is away.
UNAVAILABLE_RETRY_AFTER = 5

# SQLSTATEs that say the server cannot be reached or will not serve now, whatever the
# statement: 08 connection exception, 53 insufficient resources (too many connections, disk
# full), 57P operator intervention (shutdown, crash, database dropped), 3D000 no such database.
# Everything else (40001 serialization failure, 23 constraints, 55P03 lock timeout…) is about
# one statement and stays that statement's error.
_UNREACHABLE_SQLSTATES = ("08", "53", "57P", "3D000")

# Exception classes that other modules declare "a backing service is down" (the rate-limit
# store: o2o.api.limits), kept per app.
_UNAVAILABLE_KEY = "o2o_unavailable_errors"


def database_unreachable(error: BaseException) -> bool:
    """Whether a SQLAlchemy error means the database cannot be reached, rather than that one
    statement failed.

    True for a connection the dialect saw die (`connection_invalidated`: the server went away
    or dropped us mid-statement), a PostgreSQL error whose SQLSTATE says so, SQLite's "unable
    to open database file", psycopg's own code-less failure to connect, and a pool that ran out
    of connections. False for SQLite's "database is locked" (SQLITE_BUSY) and PostgreSQL's
    serialization failures, even at COMMIT, where no statement is attached either.
    """
    if isinstance(error, sa_exc.TimeoutError):  # QueuePool limit reached: overloaded, not broken
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return str(sqlstate).startswith(_UNREACHABLE_SQLSTATES)
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return int(sqlite_code) & 0xFF == sqlite3.SQLITE_CANTOPEN  # primary code: low byte
    # psycopg reports a refused or failed connection with no SQLSTATE, before any statement.
    return isinstance(error, sa_exc.OperationalError) and error.statement is None


def treat_as_unavailable(app: Flask, *error_types: type[BaseException]) -> None:
    """Declare exception classes that mean a backing service is down: they answer 503."""
    app.extensions.setdefault(_UNAVAILABLE_KEY, []).extend(error_types)


def service_unavailable(error: BaseException) -> bool:
    """Whether this error means the service cannot work right now (503), not that it is broken."""
    declared = tuple(current_app.extensions.get(_UNAVAILABLE_KEY, ()))
    return database_unreachable(error) or bool(declared and isinstance(error, declared))


def error_response(
    error: O2OError, headers: Mapping[str, str] | None = None
) -> ResponseReturnValue:
    """The envelope of `error` with its status (and any headers, e.g. Retry-After)."""
    return jsonify(error.envelope()), error.status, dict(headers or {})


def unavailable_response(details: dict[str, Any] | None = None) -> ResponseReturnValue:
    """503 service_unavailable with Retry-After, in the envelope."""
    error = O2OError(ErrorCode.SERVICE_UNAVAILABLE, details=details)
    return error_response(error, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)})


def _flatten_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); clients want field → messages."""
    details: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            details.update(fields)
        else:
            details[location] = fields
    return details


def http_exception_envelope(error: HTTPException) -> tuple[dict[str, Any], int]:
    """Translate werkzeug/webargs HTTP exceptions into the envelope, with their own status."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        return validation_failed(_flatten_locations(messages)).envelope(), 422
    if status == 400 and messages:
        return O2OError(
            ErrorCode.BAD_REQUEST, "The request body is not valid JSON."
        ).envelope(), 400
    code = _HTTP_CODES.get(
        status, ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.HTTP_ERROR
    )
    message = (error.description or error.name or "").strip()
    return O2OError(code, message).envelope(), status


def _rollback(app: Flask) -> None:
    """Roll the session back; a connection that is already gone has nothing to roll back."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError as error:
        app.logger.warning("rollback failed: %s", error)


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as the envelope, after rolling back the session."""

    @app.errorhandler(O2OError)
    def handle_o2o_error(error: O2OError) -> ResponseReturnValue:
        _rollback(app)
        if error.error is ErrorCode.SERVICE_UNAVAILABLE:
            return error_response(error, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)})
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
        _rollback(app)
        original = getattr(error, "original_exception", None)
        if isinstance(error, InternalServerError) and original and service_unavailable(original):
            return unavailable_response()  # lost outside the view, e.g. in an after_request hook
        body, status = http_exception_envelope(error)
        headers = {}
        if status == 405 and error.get_response().headers.get("Allow"):
            headers["Allow"] = error.get_response().headers["Allow"]
        return jsonify(body), status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: BaseException) -> ResponseReturnValue:
        _rollback(app)
        if service_unavailable(error):
            app.logger.warning("service unavailable: %s", error)
            return unavailable_response()
        app.logger.exception("unhandled error", exc_info=error)
        return jsonify(O2OError(ErrorCode.INTERNAL_ERROR).envelope()), 500
