"""Webhook endpoints (register, change, rotate their secret, remove), their delivery log, and
redelivering an event. Sending is the delivery engine's (o2o.events.delivery)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from o2o import clock, events, store
from o2o.errors import O2OError, field_error
from o2o.events import delivery, signing, transport
from o2o.extensions import db
from o2o.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from o2o.services.pagination import Page, paginate
from o2o.tokens import new_id
from o2o.vocabulary import ErrorCode, EventType, ObjectType, WebhookEndpointStatus

ENDPOINT_PREFIX = "we"
PATTERNS = frozenset({"*", *EventType, *(f"{kind}.*" for kind in ObjectType)})
PUBLIC_ONLY = (
    "Webhook receivers must have public addresses: loopback is allowed in sandbox mode, "
    "private ones with O2O_WEBHOOK_ALLOW_PRIVATE=1."
)


def _patterns(patterns: Iterable[str]) -> str:
    """The patterns as stored (JSON, each once, in order): event types, `<object>.*` or `*`."""
    kept = list(dict.fromkeys(patterns))
    unknown = [pattern for pattern in kept if pattern not in PATTERNS]
    if unknown:
        raise field_error(
            "events", f"Not an event type, `<object>.*` or `*`: {', '.join(map(repr, unknown))}."
        )
    if not kept:
        raise field_error("events", "Name at least one event type or pattern.")
    return json.dumps(kept)


def _url(url: str) -> str:
    """An http(s) URL whose host, if it is an address or resolves now, may receive webhooks
    (checked again before every attempt)."""
    try:
        target = transport.parse(url)
    except transport.Refused as exc:
        raise field_error("url", str(exc)) from exc
    try:
        addresses = transport.resolve(target.host, target.port)
    except transport.Refused:
        return url  # no answer now: the check before each attempt decides
    for address in addresses:
        try:
            transport.check_address(address, delivery.policy())
        except transport.Refused as exc:
            raise field_error("url", f"{exc} {PUBLIC_ONLY}") from exc
    return url


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    found = db.session.get(WebhookEndpoint, endpoint_id)
    if found is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No webhook endpoint has this id.")
    return found


def create_endpoint(
    url: str, patterns: list[str], description: str | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver for the events matching `patterns`; it and its secret (shown once)."""
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        id=new_id(ENDPOINT_PREFIX),
        url=_url(url),
        events=_patterns(patterns),
        description=description,
        status=WebhookEndpointStatus.ENABLED,
        secret_sealed=delivery.seal_secret(secret),
        created_at=clock.now(),
    )
    db.session.add(endpoint)
    store.commit()
    return endpoint, secret


def list_endpoints(limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    """Webhook endpoints, newest first."""
    query = select(WebhookEndpoint)
    return paginate(query, WebhookEndpoint.created_at, WebhookEndpoint.id, limit, cursor)


def get_endpoint(endpoint_id: str) -> WebhookEndpoint:
    """One webhook endpoint (404 when unknown)."""
    return _endpoint(endpoint_id)


def update_endpoint(endpoint_id: str, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint's url, patterns, description or status (enabled | disabled)."""
    endpoint = _endpoint(endpoint_id)
    if "url" in changes:
        endpoint.url = _url(changes["url"])
    if "events" in changes:
        endpoint.events = _patterns(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "status" in changes:
        endpoint.status = WebhookEndpointStatus(changes["status"])
    store.commit()
    return endpoint


def delete_endpoint(endpoint_id: str) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    _endpoint(endpoint_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    db.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    store.commit()


def rotate_secret(endpoint_id: str) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new secret (shown once); deliveries carry signatures under both for
    O2O_WEBHOOK_ROTATION_OVERLAP_SECONDS of service time, then under the new one only."""
    endpoint = _endpoint(endpoint_id)
    overlap = timedelta(seconds=current_app.config["O2O_WEBHOOK_ROTATION_OVERLAP_SECONDS"])
    secret = signing.new_secret()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_secret_expires_at = clock.now() + overlap
    endpoint.secret_sealed = delivery.seal_secret(secret)
    store.commit()
    return endpoint, secret


def list_deliveries(
    endpoint_id: str, status: str | None, limit: int, cursor: str | None
) -> Page[WebhookDelivery]:
    """An endpoint's deliveries with their attempts, newest first; `status` filters."""
    _endpoint(endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return paginate(query, WebhookDelivery.created_at, WebhookDelivery.id, limit, cursor)


def redeliver(event_id: str, endpoint_id: str | None = None) -> list[WebhookDelivery]:
    """Queue a fresh delivery of an event (same webhook-id, same body) to one endpoint, or to
    every enabled endpoint whose patterns match it."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No event has this id.")
    if endpoint_id is not None:
        targets = [_endpoint(endpoint_id)]
    else:
        enabled = select(WebhookEndpoint).where(
            WebhookEndpoint.status == WebhookEndpointStatus.ENABLED
        )
        targets = [e for e in db.session.scalars(enabled) if events.matches(e.patterns, event.type)]
    body = delivery.render(event)
    queued = [delivery.queue(event, target.id, body) for target in targets]
    store.commit()
    return queued
