"""Schemathesis follows the spec's links from claim to refund: its stateful phase chains real
calls (an id or a token out of one response into the next request) and every answer stays on
the spec and off the 5xx range."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
)

from tests.builders import ADMIN_KEY, Api, bearer

# Who makes each call: what a shopper or a clerk does as that role, anything else as the admin.
AS_SHOPPER = {
    "claimCoupon",
    "listMyCoupons",
    "getCoupon",
    "createQrToken",
    "getCouponQr",
    "listCouponEvents",
    "getPaymentCode",
    "confirmPayment",
}
AS_CLERK = {"scanCoupon", "createOrder", "createPayment", "getPaymentQr"}
# Every answer on the spec, and what a link says was created can be read back. (Not
# `ignored_auth`: it replays a call without its key, and the key here comes from get_call_kwargs.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ensure_resource_availability,
]
# Operations no link leads to or from, left out of the stateful phase.
UNLINKED = (
    "listOrders",
    "listPayments",
    "listRefunds",
    "listCampaignCoupons",
    "getStore",
    "listClerks",
    "listShoppers",
    "voidCoupon",
)
# Operations whose path names a resource by an id or code that only a link can supply.
LINKED_ONLY = {
    "getCampaign",
    "updateCampaign",
    "getCampaignStats",
    "claimCoupon",
    "getCoupon",
    "createQrToken",
    "getCouponQr",
    "listCouponEvents",
    "getOrder",
    "cancelOrder",
    "createPayment",
    "getPayment",
    "confirmPayment",
    "getPaymentQr",
    "createRefund",
}
SCENARIOS = 40
STEPS = 8


def _links(spec: dict[str, Any]) -> int:
    return sum(
        len(response.get("links", {}))
        for operations in spec["paths"].values()
        for method, operation in operations.items()
        if method in ("get", "post", "patch", "put", "delete")
        for response in operation.get("responses", {}).values()
    )


def test_the_stateful_phase_follows_the_links_from_claim_to_refund(app: Flask) -> None:
    api = Api(app.test_client())
    shopper = api.shopper()
    clerk = api.clerk()
    api.campaign(total_quantity=10_000, per_shopper_limit=1000)
    keys = {"shopper": shopper["api_key"], "clerk": clerk["api_key"]}
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert _links(spec) >= 8  # the spec's own links, not ones schemathesis infers
    # Key rotation and revocation would lock the scenario's own shopper and clerk out. The
    # lists, getStore and voidCoupon have no link into or out of them: as entry points they
    # only thin the chains out (test_openapi_fuzz fuzzes them), and a void would end a chain.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).exclude(
        operation_id_regex=f"^(rotate|revoke)|^({'|'.join(UNLINKED)})$"
    )
    # Valid requests only (tests/api fuzzes the invalid ones), and no made-up Authorization
    # header: before_call sets the key, so generating one only makes the draws depend on state.
    schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
    calls: list[tuple[str, int]] = []
    failures: list[str] = []

    class Flows(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            # Over whatever Authorization the generator made up: the key of the caller's role.
            operation_id = case.operation.definition.raw.get("operationId")
            role = "shopper" if operation_id in AS_SHOPPER else None
            role = "clerk" if operation_id in AS_CLERK else role
            case.headers = {**(case.headers or {}), **bearer(keys[role] if role else ADMIN_KEY)}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)
            except Exception as failure:
                failures.append(f"{case.method} {case.path}: {failure}")
                raise

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            calls.append((case.operation.definition.raw.get("operationId"), response.status_code))

    try:
        Flows.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                phases=[Phase.generate],
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        # Which links can fire depends on what earlier calls answered, so Hypothesis may find
        # its draws "inconsistent" and stop early (schemathesis's own runner ends a run there
        # too). Every answer until then was checked: a failing one is in `failures`.
        pass
    assert not failures, "\n\n".join(failures)
    succeeded = {operation for operation, status in calls if status < 300}
    # A made-up id or code is a 404: these succeed only with one taken from an earlier answer.
    followed = succeeded & LINKED_ONLY
    assert len(followed) >= 3, sorted(succeeded)
