"""Odd input found by a hostile-input run gets a 4xx in the envelope, never a 500 or HTML."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from flask import Flask

from tests.api.hostile import NUL, SURROGATE, Call, assert_envelope, detail_at, row_counts
from tests.builders import ADMIN_KEY, Api, campaign_fields, error_code


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


# -- text that cannot be stored: one rule for every string field ------------------------------


def store_name(api: Api, text: str) -> Call:
    return Call("POST", "/stores", ADMIN_KEY, {"name": text, "city": "Hangzhou"})


def store_address(api: Api, text: str) -> Call:
    return Call("POST", "/stores", ADMIN_KEY, {"name": "Xihu", "city": "Hangzhou", "address": text})


def shopper_phone(api: Api, text: str) -> Call:
    return Call("POST", "/shoppers", ADMIN_KEY, {"name": "Shopper", "phone": text})


def clerk_store_id(api: Api, text: str) -> Call:
    return Call("POST", "/clerks", ADMIN_KEY, {"name": "Clerk", "store_id": text})


def campaign_store_ids(api: Api, text: str) -> Call:
    body = campaign_fields(store_ids=[api.store()["id"], text])
    return Call("POST", "/campaigns", ADMIN_KEY, body)


def campaign_discount_item(api: Api, text: str) -> Call:
    discount = {"type": "exchange", "exchange_price": 100, "item": text, "min_spend": 0}
    return Call("POST", "/campaigns", ADMIN_KEY, campaign_fields(discount=discount))


def order_coupon_code(api: Api, text: str) -> Call:
    shopper = api.shopper()
    return Call("POST", "/orders", shopper["api_key"], {"amount": 39900, "coupon_code": text})


def order_store_id(api: Api, text: str) -> Call:
    shopper = api.shopper()
    return Call("POST", "/orders", shopper["api_key"], {"amount": 39900, "store_id": text})


def payment_auth_code(api: Api, text: str) -> Call:
    sale = api.reserved_sale()
    body = {"method": "wechat_pay", "flow": "clerk_scan", "auth_code": text}
    return Call("POST", f"/orders/{sale['order']['id']}/payments", sale["clerk"]["api_key"], body)


def refund_reason(api: Api, text: str) -> Call:
    payment = api.checkout()["payment"]
    return Call("POST", f"/payments/{payment['id']}/refunds", ADMIN_KEY, {"reason": text})


# The ten stored fields a hostile run reached the database with (a 500 on both databases):
# what to send, and where the error must point.
STORED_FIELDS: dict[str, tuple[Callable[[Api, str], Call], tuple[str, ...]]] = {
    "store name": (store_name, ("name",)),
    "store address": (store_address, ("address",)),
    "shopper phone": (shopper_phone, ("phone",)),
    "clerk store_id": (clerk_store_id, ("store_id",)),
    "campaign store_ids": (campaign_store_ids, ("store_ids", "1")),
    "campaign discount item": (campaign_discount_item, ("discount", "item")),
    "order coupon_code": (order_coupon_code, ("coupon_code",)),
    "order store_id": (order_store_id, ("store_id",)),
    "payment auth_code": (payment_auth_code, ("auth_code",)),
    "refund reason": (refund_reason, ("reason",)),
}


def assert_refused_on(api: Api, app: Flask, call: Call, path: tuple[str, ...]) -> None:
    """422 validation_error naming exactly that field, and not a row written."""
    before = row_counts(app)
    response = call.send(api)
    assert response.status_code == 422, response.get_json()
    error = assert_envelope(response)
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [path[0]], error
    assert detail_at(error["details"], path)
    assert row_counts(app) == before


@pytest.mark.parametrize("field", STORED_FIELDS)
def test_a_lone_surrogate_in_a_stored_field_is_a_422_naming_it(
    api: Api, app: Flask, field: str
) -> None:
    build, path = STORED_FIELDS[field]
    assert_refused_on(api, app, build(api, f"ab{SURROGATE}c"), path)


@pytest.mark.parametrize("field", STORED_FIELDS)
def test_a_nul_in_a_stored_field_is_a_422_naming_it(api: Api, app: Flask, field: str) -> None:
    build, path = STORED_FIELDS[field]
    assert_refused_on(api, app, build(api, f"ab{NUL}c"), path)


@pytest.mark.parametrize("escape", ["\\udfff", "\\udbff\\udbff", "\\ude00\\ud83d"])
def test_any_unpaired_surrogate_escape_is_refused(api: Api, escape: str) -> None:
    body = '{"name": "Xi' + escape + 'hu", "city": "Hangzhou"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]) == ["name"]


def test_an_escaped_surrogate_pair_is_ordinary_text(api: Api) -> None:
    body = '{"name": "Xihu \\ud83d\\ude00", "city": "Hangzhou"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "Xihu \U0001f600"


@pytest.mark.parametrize("char", [SURROGATE, NUL], ids=["surrogate", "nul"])
def test_a_field_name_that_cannot_be_stored_is_a_422_naming_it_escaped(api: Api, char: str) -> None:
    call = Call("POST", "/stores", ADMIN_KEY, {"name": "Xihu", "city": "Hangzhou", char: 1})
    response = call.send(api)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]) == [char.encode("unicode_escape").decode()]


def test_every_field_that_cannot_be_stored_is_named_at_once(api: Api) -> None:
    body = {"name": SURROGATE, "city": "Hangzhou", "address": NUL}
    response = Call("POST", "/stores", ADMIN_KEY, body).send(api)
    assert response.status_code == 422
    assert sorted(response.get_json()["error"]["details"]) == ["address", "name"]


def test_text_nested_deeper_than_any_schema_is_reported_on_an_ancestor(api: Api) -> None:
    deep = "[" * 900 + '"\\u0000"' + "]" * 900
    body = '{"name": "Xihu", "city": "Hangzhou", "address": ' + deep + "}"
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 422
    assert detail_at(response.get_json()["error"]["details"], ("address",) + ("0",) * 15)


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(api: Api) -> None:
    response = api.get("/stores", ADMIN_KEY, query_string={"cursor": f"ab{NUL}c"})
    assert response.status_code == 422
    assert list(assert_envelope(response)["details"]) == ["cursor"]


def test_a_nul_in_a_header_is_a_422_naming_it(api: Api, app: Flask) -> None:
    before = row_counts(app)
    body = {"name": "Xihu", "city": "Hangzhou"}
    headers = {"Idempotency-Key": f"key{NUL}1"}
    response = api.post("/stores", ADMIN_KEY, json=body, headers=headers)
    assert response.status_code == 422
    assert list(assert_envelope(response)["details"]) == ["Idempotency-Key"]
    assert row_counts(app) == before


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\xc3", b"\xf8\x88\x80\x80\x80"])
def test_a_body_that_is_not_utf8_is_a_bad_request(api: Api, raw: bytes) -> None:
    body = b'{"name": "Xi' + raw + b'hu", "city": "Hangzhou"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 400
    assert assert_envelope(response)["code"] == "bad_request"


def test_a_surrogate_encoded_as_utf8_bytes_is_a_422_naming_the_field(api: Api) -> None:
    # Python's JSON parser lets these bytes through as a lone surrogate ("surrogatepass")
    body = b'{"name": "Xi\xed\xa0\x80hu", "city": "Hangzhou"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 422
    assert list(assert_envelope(response)["details"]) == ["name"]
