"""The O2OError family and the one handler that writes the API error envelope."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from o2o.extensions import db


class O2OError(Exception):
    """An error a client can act on: a status, a stable snake_case code and a sentence."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(O2OError):
    status, code, message = 400, "bad_request", "The request body must be a JSON object."


class Unauthenticated(O2OError):
    status, code, message = 401, "unauthenticated", "A valid API key is required."


class Forbidden(O2OError):
    status, code, message = 403, "forbidden", "This API key may not do that."


class NotFound(O2OError):
    status, code, message = 404, "not_found", "No such object."


class Conflict(O2OError):
    status = 409


class Unprocessable(O2OError):
    status = 422


class ValidationFailed(Unprocessable):
    code, message = "validation_error", "Some fields are invalid."

    def __init__(self, details: dict[str, Any], message: str | None = None) -> None:
        super().__init__(message, details=details)


def field_error(field: str, message: str) -> ValidationFailed:
    """A validation error about one field."""
    return ValidationFailed({field: [message]})


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
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
    """Translate werkzeug/webargs HTTP exceptions into the envelope."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        return ValidationFailed(_flatten_locations(messages)).envelope(), 422
    if status == 400 and messages:
        return BadRequest("The request body is not valid JSON.").envelope(), 400
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "http_error")
    message = (error.description or error.name or "").strip()
    return O2OError(message, code=code, status=status).envelope(), status


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
        envelope = O2OError(
            "Something went wrong on our side.", code="internal_error", status=500
        ).envelope()
        return jsonify(envelope), 500
