"""Odd input found by a hostile-input run gets a 4xx in the envelope, never a 500 or HTML."""

from __future__ import annotations

import base64
import json

import pytest

from tests.builders import ADMIN_KEY, Api, error_code


def crafted_cursor(payload: object) -> str:
    """A cursor built the way the API builds its own, around any JSON payload."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


CRAFTED_CURSORS = {
    "time at the start of datetime's range": crafted_cursor(["0001-01-01T00:00:00+05:00", "x"]),
    "time at the end of datetime's range": crafted_cursor(["9999-12-31T23:59:59-05:00", "x"]),
    "NUL inside the id": crafted_cursor(["2026-01-01T00:00:00+00:00", "st_\u0000"]),
    "lone surrogate inside the id": crafted_cursor(["2026-01-01T00:00:00+00:00", "st_\ud800"]),
    "id that is not a string": crafted_cursor(["2026-01-01T00:00:00+00:00", {"a": 1}]),
    "naive time": crafted_cursor(["2026-01-01T00:00:00", "x"]),
    "not a pair": crafted_cursor({"at": 1}),
    "bytes that are not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe[1]").decode(),
}


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS.values(), ids=list(CRAFTED_CURSORS))
def test_a_crafted_cursor_is_a_validation_error_on_cursor(api: Api, cursor: str) -> None:
    response = api.get("/stores", ADMIN_KEY, query_string={"cursor": cursor})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert list(response.get_json()["error"]["details"]) == ["cursor"]


def test_the_sandbox_clock_cannot_be_advanced_past_its_last_day(api: Api) -> None:
    api.clock(now="8999-12-31T00:00:00+00:00")
    response = api.post("/sandbox/clock", ADMIN_KEY, json={"advance_seconds": 2 * 86400})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]) == ["advance_seconds"]
    assert api.clock(advance_seconds=0) == "8999-12-31T00:00:00Z"


def test_the_sandbox_clock_cannot_be_set_where_the_service_would_overflow(api: Api) -> None:
    response = api.post("/sandbox/clock", ADMIN_KEY, json={"now": "9999-12-31T00:00:00+00:00"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]) == ["now"]


def test_an_empty_path_segment_is_a_json_404(api: Api) -> None:
    response = api.get("/coupons//events", ADMIN_KEY)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_foreign_payment_reads_exactly_as_an_unknown_one(api: Api) -> None:
    payment = api.checkout()["payment"]
    stranger = api.shopper()
    foreign = api.get(f"/payments/{payment['id']}", stranger["api_key"])
    unknown = api.get("/payments/pay_doesnotexist0000", stranger["api_key"])
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.get_json() == unknown.get_json()
