"""A failing flow says which field and why, not only "Some fields are invalid"."""

from __future__ import annotations

from o2o.client import ServiceError


def test_the_message_of_a_service_error_names_the_fields_in_its_details() -> None:
    body = {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "details": {"amount": ["Must be at least 1 fen."]},
        }
    }

    error = ServiceError(422, body, "POST", "/orders")

    assert str(error) == (
        'POST /orders → 422 validation_error: Some fields are invalid. {"amount": '
        '["Must be at least 1 fen."]}'
    )
    assert error.details == {"amount": ["Must be at least 1 fen."]}


def test_an_error_without_details_keeps_its_one_line() -> None:
    body = {"error": {"code": "not_found", "message": "No order has this id.", "details": {}}}

    assert str(ServiceError(404, body, "GET", "/orders/x")) == (
        "GET /orders/x → 404 not_found: No order has this id."
    )
