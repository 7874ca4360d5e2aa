"""Every error path speaks the envelope: unknown routes, wrong methods, bad bodies, bad keys."""

from __future__ import annotations

import pytest

from tests.builders import ADMIN_KEY, Api, error_code


def test_an_unknown_route_is_a_not_found_envelope(api: Api) -> None:
    response = api.get("/no/such/thing", ADMIN_KEY)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_wrong_method_is_a_method_not_allowed_envelope_with_allow(api: Api) -> None:
    response = api.call("DELETE", "/stores", ADMIN_KEY)
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("body", ["{not json", "\xff\xfe", "[1, 2]", '"text"', "42"])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(api: Api, body: str) -> None:
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_unknown_and_invalid_fields_are_listed_in_validation_details(api: Api) -> None:
    response = api.post("/stores", ADMIN_KEY, json={"name": 7, "surprise": True})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {"name", "city", "surprise"}


def test_a_json_body_without_a_json_content_type_is_still_read(api: Api) -> None:
    response = api.post("/stores", ADMIN_KEY, data='{"name": "A", "city": "B"}')
    assert response.status_code == 201


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic dGVzdA==", "bearer  "])
def test_missing_or_unknown_keys_are_unauthenticated(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.get("/stores", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "unauthenticated"


def test_health_needs_no_key_and_answers_ok(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_the_openapi_spec_is_served_and_names_the_error_envelope(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/campaigns/{campaign_id}/claims" in spec["paths"]
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]


def test_every_post_documents_the_idempotency_key(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").get_json()
    posts = [ops["post"] for ops in spec["paths"].values() if "post" in ops]
    assert len(posts) >= 10
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, operation["summary"]


@pytest.mark.parametrize("body", ["[" * 100_000, '{"name": "A", "city": "\\U0000"}'])
def test_pathological_bodies_are_bad_requests_not_errors(api: Api, body: str) -> None:
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert (response.status_code, error_code(response)) == (400, "bad_request")


def test_a_nul_in_a_body_field_is_a_validation_error_on_that_field(api: Api) -> None:
    body = '{"name": "A\\u0000", "city": "B"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert (response.status_code, error_code(response)) == (422, "validation_error")
    assert list(response.get_json()["error"]["details"]) == ["name"]


def test_a_nul_in_the_path_is_a_validation_error_on_that_parameter(api: Api) -> None:
    response = api.get("/coupons/ABC%00DEF", ADMIN_KEY)
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert list(response.get_json()["error"]["details"]) == ["code"]


def test_a_body_over_a_megabyte_is_refused_with_the_envelope(api: Api) -> None:
    body = '{"name": "' + "x" * (1024 * 1024) + '", "city": "B"}'
    response = api.post("/stores", ADMIN_KEY, data=body, content_type="application/json")
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
