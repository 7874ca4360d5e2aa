"""Webhook views (admin): endpoints and their secrets, the delivery log, redelivering an event."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from o2o.api.auth import require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import Choice, EmptySchema, PageArgs, Sent, Strict, Text, Timestamp, page_of
from o2o.events.transport import MAX_URL_LENGTH
from o2o.services import webhooks
from o2o.vocabulary import DeliveryStatus, Role, WebhookEndpointStatus

blp = Blueprint("webhooks", __name__, description="Webhook endpoints and deliveries (admin)")

PATTERNS = (
    "Event types to send: exact types (`payment.succeeded`), a family (`coupon.*`) or `*`; "
    "at least one."
)
URL = (
    "An http or https URL (no user name or password). Outside sandbox mode its host must be "
    "public: loopback, private and link-local addresses are refused unless "
    "O2O_WEBHOOK_ALLOW_PRIVATE=1 (sandbox mode allows loopback)."
)
SECRET = (
    "The signing secret (`whsec_…`, Standard Webhooks): shown in this response only, stored sealed."
)


def Patterns(**kwargs: Any) -> fields.List:  # noqa: N802 - reads as a field type
    return fields.List(
        Text(64),
        validate=validate.Length(min=1, max=50),
        metadata={"description": PATTERNS},
        **kwargs,
    )


class WebhookEndpointCreateSchema(Strict):
    url = Text(MAX_URL_LENGTH, required=True, metadata={"description": URL})
    events = Patterns(required=True)
    description = fields.String(
        validate=validate.Length(max=255), load_default=None, allow_none=True
    )


class WebhookEndpointUpdateSchema(Strict):
    url = Text(MAX_URL_LENGTH, metadata={"description": URL})
    events = Patterns()
    description = fields.String(validate=validate.Length(max=255), allow_none=True)
    status = Choice(WebhookEndpointStatus, metadata={"description": "`disabled` pauses sending."})


class WebhookEndpointSchema(Sent):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String(), attribute="patterns")
    description = fields.String(allow_none=True)
    status = Choice(WebhookEndpointStatus)
    previous_secret_expires_at = Timestamp(
        allow_none=True,
        metadata={
            "description": "Until then (service time) deliveries are signed with the secret "
            "replaced by the last rotation too; null when no previous secret is live."
        },
    )
    created_at = Timestamp()


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = fields.String(metadata={"description": SECRET})


class WebhookAttemptSchema(Sent):
    attempted_at = Timestamp(metadata={"description": "Service time."})
    status_code = fields.Integer(allow_none=True, metadata={"description": "null: no answer."})
    duration_ms = fields.Integer()
    response_body = fields.String(
        allow_none=True, metadata={"description": "The first 1 KiB of the answer."}
    )
    error = fields.String(
        allow_none=True,
        metadata={"description": "Why there was no answer: timeout, connection refused, …"},
    )


class WebhookDeliverySchema(Sent):
    id = fields.String()
    endpoint_id = fields.String()
    event_id = fields.String(metadata={"description": "The webhook-id header of every attempt."})
    event_type = fields.String()
    status = Choice(DeliveryStatus)
    attempts = fields.List(fields.Nested(WebhookAttemptSchema))
    next_attempt_at = Timestamp(
        allow_none=True, metadata={"description": "Service time; null unless pending."}
    )
    created_at = Timestamp()


class WebhookDeliveryListSchema(Sent):
    items = fields.List(fields.Nested(WebhookDeliverySchema))


class DeliveryListArgs(PageArgs):
    status = Choice(DeliveryStatus)


class RedeliverSchema(Strict):
    endpoint_id = Text(
        64,
        metadata={
            "description": "Only to this endpoint (default: every "
            "enabled endpoint whose patterns match the event)."
        },
    )


class _WithSecret:
    """An endpoint as just created or rotated: its fields, and its new secret in clear."""

    def __init__(self, created: tuple[Any, str]) -> None:
        self.endpoint, self.secret = created

    def __getattr__(self, name: str) -> Any:
        return getattr(self.endpoint, name)


@blp.route("/webhook-endpoints", methods=["POST"])
@blp.doc(operationId="createWebhookEndpoint")
@require(Role.ADMIN)
@blp.arguments(WebhookEndpointCreateSchema)
@idempotent
@blp.response(201, WebhookEndpointWithSecretSchema)
def create_endpoint(data: dict[str, Any]) -> Any:
    """Register a webhook endpoint; the response shows its signing secret once."""
    return _WithSecret(webhooks.create_endpoint(data["url"], data["events"], data["description"]))


@blp.route("/webhook-endpoints", methods=["GET"])
@blp.doc(operationId="listWebhookEndpoints")
@require(Role.ADMIN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(WebhookEndpointSchema))
def list_endpoints(args: dict[str, Any]) -> Any:
    """List webhook endpoints, newest first."""
    return webhooks.list_endpoints(args["limit"], args.get("cursor"))


@blp.route("/webhook-endpoints/<endpoint_id>", methods=["GET"])
@blp.doc(operationId="getWebhookEndpoint")
@require(Role.ADMIN)
@blp.response(200, WebhookEndpointSchema)
def get_endpoint(endpoint_id: str) -> Any:
    """Show one webhook endpoint."""
    return webhooks.get_endpoint(endpoint_id)


@blp.route("/webhook-endpoints/<endpoint_id>", methods=["PATCH"])
@blp.doc(operationId="updateWebhookEndpoint")
@require(Role.ADMIN)
@blp.arguments(WebhookEndpointUpdateSchema)
@blp.response(200, WebhookEndpointSchema)
def update_endpoint(changes: dict[str, Any], endpoint_id: str) -> Any:
    """Change a webhook endpoint's URL, event patterns, description or status."""
    return webhooks.update_endpoint(endpoint_id, changes)


@blp.route("/webhook-endpoints/<endpoint_id>", methods=["DELETE"])
@blp.doc(operationId="deleteWebhookEndpoint")
@require(Role.ADMIN)
@blp.response(204)
def delete_endpoint(endpoint_id: str) -> Any:
    """Remove a webhook endpoint and its delivery log."""
    webhooks.delete_endpoint(endpoint_id)


@blp.route("/webhook-endpoints/<endpoint_id>/rotate-secret", methods=["POST"])
@blp.doc(operationId="rotateWebhookSecret")
@require(Role.ADMIN)
@blp.arguments(EmptySchema, required=False)
@idempotent
@blp.response(200, WebhookEndpointWithSecretSchema)
def rotate_secret(_: dict[str, Any], endpoint_id: str) -> Any:
    """Give a webhook endpoint a new signing secret, shown once; the old one signs for 24 h more."""
    return _WithSecret(webhooks.rotate_secret(endpoint_id))


@blp.route("/webhook-endpoints/<endpoint_id>/deliveries", methods=["GET"])
@blp.doc(operationId="listWebhookDeliveries")
@require(Role.ADMIN)
@blp.arguments(DeliveryListArgs, location="query")
@blp.response(200, page_of(WebhookDeliverySchema))
def list_deliveries(args: dict[str, Any], endpoint_id: str) -> Any:
    """List a webhook endpoint's deliveries with their attempts, newest first."""
    status = args.get("status")
    return webhooks.list_deliveries(endpoint_id, status, args["limit"], args.get("cursor"))


@blp.route("/events/<event_id>/redeliver", methods=["POST"])
@blp.doc(operationId="redeliverEvent")
@require(Role.ADMIN)
@blp.arguments(RedeliverSchema, required=False)
@idempotent
@blp.response(202, WebhookDeliveryListSchema)
def redeliver(data: dict[str, Any], event_id: str) -> Any:
    """Queue a fresh delivery of an event, to one endpoint or to every one that matches it."""
    return {"items": webhooks.redeliver(event_id, data.get("endpoint_id"))}
