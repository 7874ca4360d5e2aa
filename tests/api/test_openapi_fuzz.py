"""Schemathesis fuzzes every operation of the spec: no server error, no off-spec response."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.builders import ADMIN_KEY, Api, bearer

EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The role each operation is fuzzed as; anything not listed is fuzzed with the admin key.
AS_SHOPPER = {
    ("POST", "/api/v1/campaigns/{campaign_id}/claims"),
    ("GET", "/api/v1/me/coupons"),
    ("GET", "/api/v1/me/payment-code"),
    ("POST", "/api/v1/payments/{payment_id}/confirm"),
}
AS_CLERK = {
    ("POST", "/api/v1/scans"),
    ("POST", "/api/v1/scans/image"),
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/orders/{order_id}/payments"),
}


@pytest.fixture
def fuzzed_app(app: Flask) -> Flask:
    """An app with a little of everything, so generated ids sometimes hit real rows."""
    api = Api(app.test_client())
    shopper = api.shopper()
    clerk = api.clerk()
    campaign = api.campaign()
    api.claim(shopper, campaign["id"])
    app.config["FUZZ_KEYS"] = {"shopper": shopper["api_key"], "clerk": clerk["api_key"]}
    return app


def _fuzzer(operation: Any, headers: dict[str, str]) -> Any:
    """A Hypothesis test of one operation, calling it with the given key."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    return fuzz


def test_no_operation_answers_with_a_server_error_or_off_spec(fuzzed_app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    keys = fuzzed_app.config["FUZZ_KEYS"]
    failures: list[str] = []
    results = list(schema.get_all_operations())
    broken = [result.err() for result in results if not isinstance(result, Ok)]
    assert not broken, broken  # an operation the spec cannot describe is a failure, not a skip
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 10

    for operation in operations:
        signature = (operation.method.upper(), operation.path)
        role = "shopper" if signature in AS_SHOPPER else "clerk" if signature in AS_CLERK else None
        headers = bearer(keys[role] if role else ADMIN_KEY)
        try:
            _fuzzer(operation, headers)()
        except Exception as error:  # collect every operation's failure, not just the first
            failures.append(f"{signature}: {error}")
    assert not failures, "\n\n".join(failures)
