"""The OpenAPI spec says precisely what the service does: valid OpenAPI 3.0, an operationId and
a description on every operation, every sent field required, closed sets as enums, the discount
as a oneOf by type, the error codes of every status, and links along the purchase flow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from o2o.api.openapi import HTTP_LAYER
from o2o.vocabulary import (
    ActorRole,
    ClaimChannel,
    ClockMode,
    DiscountType,
    ErrorCode,
    MockOutcome,
    PaymentFailureCode,
    PaymentFlow,
    PaymentMethod,
    Reason,
    RefundStatus,
)
from tests.conftest import build_app

SPEC_PATH = "/api/v1/openapi.json"
OPERATION_IDS = {
    "createStore", "listStores", "createClerk", "createShopper", "rotateClerkKey",
    "revokeClerkKeys", "rotateShopperKey", "revokeShopperKeys", "createCampaign",
    "listCampaigns", "getCampaign", "updateCampaign", "claimCoupon", "getCampaignStats",
    "listMyCoupons", "getCoupon", "createQrToken", "getCouponQr", "listCouponEvents",
    "scanCoupon", "scanImage", "createOrder", "getOrder", "cancelOrder", "getPaymentCode",
    "createPayment", "getPayment", "confirmPayment", "getPaymentQr", "createRefund",
    "getSandboxClock", "setSandboxClock", "listOrders", "listPayments", "listRefunds",
    "listCampaignCoupons",
    "getStore", "getStoreStatement", "listClerks", "listShoppers", "voidCoupon",
    "listEvents", "getEvent",
    # webhooks
    "createWebhookEndpoint", "listWebhookEndpoints", "getWebhookEndpoint",
    "updateWebhookEndpoint", "deleteWebhookEndpoint", "rotateWebhookSecret",
    "listWebhookDeliveries", "redeliverEvent",
    # the WeChat Pay sandbox (its /v3/ protocol is WeChat's own, outside this spec)
    "createWechatMerchant", "listWechatMerchants", "getWechatPlatform", "payWechatCodeUrl",
    "payWechatPrepay", "getWechatCashier", "getWechatOpenid", "chooseWechatOutcome",
    "sendWechatBusifavorCoupon", "listWechatNotifications",
}  # fmt: skip
SANDBOX = {"getSandboxClock", "setSandboxClock", "chooseWechatOutcome"}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    served: dict[str, Any] = build_app("sqlite://").test_client().get(SPEC_PATH).get_json()
    return served


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def by_id(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for _, _, op in operations(spec) if op["operationId"] == operation_id)


def component(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return found


def refs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for child in value.values():
            yield from refs_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from refs_in(child)


def response_components(spec: dict[str, Any]) -> set[str]:
    """The schema components a response can carry, nested ones included."""
    schemas = spec["components"]["schemas"]
    todo = [
        ref
        for _, _, operation in operations(spec)
        for response in operation["responses"].values()
        for ref in refs_in(response.get("content", {}))
    ]
    seen: set[str] = set()
    while todo:
        name = todo.pop().rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            todo += refs_in(schemas[name])
    return seen


def test_the_served_spec_is_valid_openapi_with_the_sandbox_on_and_off(
    spec: dict[str, Any],
) -> None:
    validate(spec)
    off = build_app("sqlite://", O2O_SANDBOX=False).test_client().get(SPEC_PATH).get_json()
    validate(off)
    assert {op["operationId"] for _, _, op in operations(off)} == OPERATION_IDS - SANDBOX


def test_every_operation_has_its_operation_id(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert sorted(ids) == sorted(OPERATION_IDS)


def test_every_operation_has_a_summary_and_a_description_naming_its_roles(
    spec: dict[str, Any],
) -> None:
    for method, path, operation in operations(spec):
        assert operation["summary"], (method, path)
        roles = re.match(r"\*\*Roles:\*\* (`\w+`(, `\w+`)*)\.\n\n\S", operation["description"])
        assert roles, (method, path)
        assert len(operation["description"]) > len(roles.group(0)) + 40, (method, path)


def test_the_description_says_which_role_sends_which_field_of_an_order(
    spec: dict[str, Any],
) -> None:
    description = by_id(spec, "createOrder")["description"]
    assert "`clerk`, `shopper`" in description
    assert "qr_token" in description
    assert "coupon_code" in description
    payment = by_id(spec, "createPayment")["description"]
    for flow in PaymentFlow:
        assert f"`{flow}`" in payment


def test_every_response_schema_requires_every_field_it_has(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    names = response_components(spec)
    assert {"Order", "Payment", "Coupon", "Refund", "Campaign", "Store", "Clerk"} <= names
    assert {"Shopper", "CouponEvent", "Clock", "AmountOffDiscount", "ErrorEnvelope"} <= names
    for name in names:
        assert set(schemas[name].get("required", ())) == set(schemas[name]["properties"]), name


def test_requests_have_their_own_schemas(spec: dict[str, Any]) -> None:
    def body(operation_id: str) -> str:
        content = by_id(spec, operation_id)["requestBody"]["content"]
        return str(content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1])

    assert body("createCampaign") == "CampaignCreate"
    assert body("updateCampaign") == "CampaignUpdate"
    assert body("createStore") == "StoreCreate"
    assert body("createOrder") == "OrderCreate"
    assert body("createPayment") == "PaymentCreate"
    assert body("createRefund") == "RefundCreate"
    assert body("scanCoupon") == "Scan"
    assert body("setSandboxClock") == "ClockSet"
    assert not response_components(spec) & {"CampaignCreate", "OrderCreate", "ClockSet"}


def test_nullable_fields_are_required_and_nullable(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, field in [("Payment", "qr_url"), ("Order", "coupon_code"), ("Store", "address")]:
        assert field in schemas[name]["required"]
        assert schemas[name]["properties"][field]["nullable"] is True
    assert schemas["Payment"]["properties"]["qr_url"]["type"] == "string"
    assert schemas["Payment"]["properties"]["qr_url"]["format"] == "uri"


@pytest.mark.parametrize(
    ("schema", "field"),
    [("Campaign", "discount"), ("Coupon", "discount"), ("CampaignCreate", "discount")],
)
def test_the_discount_is_a_one_of_with_a_discriminator_on_type(
    spec: dict[str, Any], schema: str, field: str
) -> None:
    discount = spec["components"]["schemas"][schema]["properties"][field]
    assert discount["discriminator"]["propertyName"] == "type"
    mapping = discount["discriminator"]["mapping"]
    assert set(mapping) == set(DiscountType)
    assert sorted(mapping.values()) == sorted(ref["$ref"] for ref in discount["oneOf"])
    for kind, ref in mapping.items():
        assert component(spec, {"$ref": ref})["properties"]["type"]["enum"] == [kind]


def test_every_field_has_a_type(spec: dict[str, Any]) -> None:
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            # anyOf: a nested object that may be null (ScanImageResult.coupon)
            assert {"type", "$ref", "oneOf", "anyOf"} & set(prop), (name, field)


@pytest.mark.parametrize(
    ("schema", "field", "values"),
    [
        ("Coupon", "claim_channel", ClaimChannel),
        ("Refund", "status", RefundStatus),
        ("CouponEvent", "actor_role", ActorRole),
        ("Payment", "method", PaymentMethod),
        ("Payment", "flow", PaymentFlow),
        ("Payment", "failure_code", PaymentFailureCode),
        ("Clock", "mode", ClockMode),
        ("ClockSet", "mode", ClockMode),
        ("Claim", "channel", ClaimChannel),
    ],
)
def test_every_closed_set_is_an_enum(
    spec: dict[str, Any], schema: str, field: str, values: Any
) -> None:
    prop = spec["components"]["schemas"][schema]["properties"][field]
    nulls = [None] if prop.get("nullable") else []  # OpenAPI 3.0: a nullable enum lists null
    assert prop["enum"] == [*values, *nulls]


def test_reasons_and_mock_outcomes_are_enums(spec: dict[str, Any]) -> None:
    reasons = spec["components"]["schemas"]["ScanResult"]["properties"]["reasons"]
    assert reasons["items"]["enum"] == list(Reason)
    parameters = by_id(spec, "createPayment")["parameters"]
    outcome = next(p for p in parameters if p["name"] == "O2O-Mock-Outcome")
    assert outcome["schema"]["enum"] == list(MockOutcome)


def test_money_fields_say_they_are_integer_fen(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, field in [
        ("Order", "amount"),
        ("Order", "payable_amount"),
        ("Payment", "refunded_amount"),
        ("OrderCreate", "amount"),
        ("AmountOffDiscount", "amount_off"),
        ("CampaignStats", "gmv"),
    ]:
        prop = schemas[name]["properties"][field]
        assert prop["type"] == "integer"
        assert "Integer fen" in prop["description"], (name, field)


def test_every_operation_lists_its_error_codes_by_status(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        assert {"401", "422", "429", "503", "default"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith("2"):
                continue
            assert response["content"]["application/json"]["schema"] == ENVELOPE
            codes = response["x-error-codes"]
            assert codes, (method, path, status)
            for code in codes:
                assert f"`{code}`" in response["description"]
                error = ErrorCode(code)  # type: ignore[call-arg]  # by value
                assert str(error.status) == status or (status == "default" and error in HTTP_LAYER)


def test_each_operation_names_the_codes_its_service_raises(spec: dict[str, Any]) -> None:
    def codes(operation_id: str, status: str) -> list[str]:
        return list(by_id(spec, operation_id)["responses"][status]["x-error-codes"])

    assert "campaign_exhausted" in codes("claimCoupon", "409")
    assert "per_shopper_limit_reached" in codes("claimCoupon", "409")
    assert "coupon_not_applicable" in codes("createOrder", "422")
    assert "invalid_qr_token" in codes("scanCoupon", "400")
    assert "refund_exceeds_payment" in codes("createRefund", "422")
    assert "idempotency_key_in_use" in codes("createPayment", "409")
    assert codes("getOrder", "404") == ["not_found"]
    assert "404" not in by_id(spec, "listStores")["responses"]


def test_posts_declare_the_replay_header_and_the_images_are_binary(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        if method == "post":
            success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
            assert "Idempotent-Replayed" in success["headers"], path
    for operation_id in ("getCouponQr", "getPaymentQr"):
        for media in by_id(spec, operation_id)["responses"]["200"]["content"].values():
            assert media["schema"] == {"type": "string", "format": "binary"}
    assert set(by_id(spec, "getCouponQr")["responses"]["200"]["content"]) == {
        "image/png",
        "image/svg+xml",
    }


def test_a_claim_needs_no_body(spec: dict[str, Any]) -> None:
    assert by_id(spec, "claimCoupon")["requestBody"]["required"] is False


def test_the_document_says_where_it_is_served_and_what_the_api_is(spec: dict[str, Any]) -> None:
    assert spec["servers"] == [{"url": "/", "description": spec["servers"][0]["description"]}]
    description = spec["info"]["description"]
    for words in ("Bearer", "fen", "Idempotency-Key", "docs/"):
        assert words in description


@pytest.mark.parametrize(
    ("source", "status", "targets"),
    [
        ("claimCoupon", "201", {"getCoupon", "createQrToken"}),
        ("createQrToken", "200", {"scanCoupon", "createOrder"}),
        ("createOrder", "201", {"createPayment", "getOrder", "cancelOrder"}),
        ("createPayment", "201", {"getPayment", "confirmPayment", "createRefund"}),
        ("getOrder", "200", {"createPayment"}),
    ],
)
def test_links_follow_the_purchase_flow(
    spec: dict[str, Any], source: str, status: str, targets: set[str]
) -> None:
    links = by_id(spec, source)["responses"][status]["links"]
    assert targets <= {link["operationId"] for link in links.values()}
    for link in links.values():
        target = by_id(spec, link["operationId"])
        names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        path = next(p for _, p, op in operations(spec) if op is target)
        names |= set(re.findall(r"{(\w+)}", path))
        assert set(link.get("parameters", {})) <= names, link
        for expression in link.get("parameters", {}).values():
            assert expression.startswith("$response.body#/")
