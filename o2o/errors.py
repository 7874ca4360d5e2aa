"""The O2OError family: an ErrorCode, a sentence and details; no web framework in sight."""

from __future__ import annotations

from typing import Any

from o2o.vocabulary import ErrorCode


class O2OError(Exception):
    """An error a client can act on: an ErrorCode (status, stable snake_case code) and a
    sentence, by default the code's own."""

    def __init__(
        self, error: ErrorCode, message: str | None = None, *, details: dict[str, Any] | None = None
    ) -> None:
        self.error = error
        self.message = message or error.message
        self.details = details or {}
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def status(self) -> int:
        return self.error.status

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def validation_failed(details: dict[str, Any], message: str | None = None) -> O2OError:
    """A validation error: field → messages."""
    return O2OError(ErrorCode.VALIDATION_ERROR, message, details=details)


def field_error(field: str, message: str) -> O2OError:
    """A validation error about one field."""
    return validation_failed({field: [message]})
