"""The Flask error handlers: every error leaves as the API's envelope."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

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
}


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


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as the envelope, after rolling back the session."""

    @app.errorhandler(O2OError)
    def handle_o2o_error(error: O2OError) -> ResponseReturnValue:
        db.session.rollback()
        return jsonify(error.envelope()), error.status

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
        body, status = http_exception_envelope(error)
        headers = {}
        if status == 405 and error.get_response().headers.get("Allow"):
            headers["Allow"] = error.get_response().headers["Allow"]
        return jsonify(body), status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        app.logger.exception("unhandled error", exc_info=error)
        return jsonify(O2OError(ErrorCode.INTERNAL_ERROR).envelope()), 500
