"""`o2o simulate --webhooks`: a receiver registered for the run, and what it must have received.

The receiver is the test suites' own (o2o.testing.webhooks), registered through the public API
for every event (`*`). In process the app delivers after each request (O2O_DELIVER_AFTER_REQUEST),
and whatever is left is delivered at the end; against a live service its workers deliver and the
audit waits for them, bounded. The events written during the run are those GET /events lists at
the end that it did not list before the receiver was registered. Invariants: each of them was
delivered, every delivery's signature verified and its body is the event as GET /events shows
it, and no event came again after it was acknowledged (a retry follows only a failure).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from o2o.client import InProcess, Service
from o2o.testing.webhooks import Delivery, Receiver

if TYPE_CHECKING:
    from flask import Flask

# In process, the final drain: at most this many ticks of the delivery loop.
DRAIN_TICKS = 100_000


def all_events(service: Service) -> dict[str, dict[str, Any]]:
    """Every event the service lists, by id (following the cursors)."""
    found: dict[str, dict[str, Any]] = {}
    query: dict[str, Any] = {"limit": 200}
    while True:
        page = service.get("/events?" + urlencode(query))
        found.update((event["id"], event) for event in page["items"])
        if not page["next_cursor"]:
            return found
        query["cursor"] = page["next_cursor"]


class WebhookAudit:
    """Registers a receiver for the run (`with`); `check()` says what it got and what broke."""

    def __init__(self, service: Service, wait_seconds: float = 30.0) -> None:
        self.service = service
        self.wait_seconds = wait_seconds
        transport = service.transport
        self.app: Flask | None = (
            transport.client.application if isinstance(transport, InProcess) else None
        )
        self.receiver = Receiver()
        self.endpoint: dict[str, Any] = {}
        self.before: set[str] = set()

    def __enter__(self) -> WebhookAudit:
        self.receiver.start()
        self.before = set(all_events(self.service))
        body = {"url": self.receiver.url, "events": ["*"], "description": "o2o simulate"}
        self.endpoint = self.service.post("/webhook-endpoints", body)
        self.receiver.secrets.append(self.endpoint["secret"])
        if self.app is not None:
            self.app.config["O2O_DELIVER_AFTER_REQUEST"] = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.app is not None:
            self.app.config["O2O_DELIVER_AFTER_REQUEST"] = False
        if self.endpoint:
            self.service.call("DELETE", f"/webhook-endpoints/{self.endpoint['id']}")
        self.receiver.stop()

    def _written(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in all_events(self.service).items() if k not in self.before}

    def _delivered(self, written: dict[str, dict[str, Any]]) -> bool:
        got = {d.webhook_id for d in self.receiver.deliveries() if d.verified}
        return set(written) <= got

    def settle(self) -> dict[str, dict[str, Any]]:
        """Deliver what is left (in process) or wait for it (live, bounded); the run's events."""
        written = self._written()
        if self.app is not None:
            from o2o.worker import deliver_pending

            deliver_pending(self.app, max_ticks=DRAIN_TICKS)
        else:
            self.receiver.wait_until(lambda: self._delivered(written), self.wait_seconds)
        return written

    def check(self) -> tuple[dict[str, Any], list[str]]:
        """The report's `webhooks` figures, and the broken webhook invariants."""
        written = self.settle()
        deliveries = self.receiver.deliveries()
        figures = _figures(written, deliveries)
        return figures, _broken(written, deliveries)


def _figures(written: dict[str, dict[str, Any]], deliveries: list[Delivery]) -> dict[str, Any]:
    verified = [d for d in deliveries if d.verified]
    ids = Counter(d.webhook_id for d in verified)
    by_type = Counter(str(written[i]["type"]) for i in set(ids) if i in written)
    return {
        "events_written": len(written),
        "events_delivered": sum(1 for i in written if i in ids),
        "deliveries": len(deliveries),
        "signatures_invalid": len(deliveries) - len(verified),
        "redeliveries": sum(n - 1 for n in ids.values()),
        "delivered_by_type": dict(sorted(by_type.items())),
    }


def _broken(written: dict[str, dict[str, Any]], deliveries: list[Delivery]) -> list[str]:
    broken = []
    verified = [d for d in deliveries if d.verified]
    missing = sorted(set(written) - {d.webhook_id for d in verified})
    if missing:
        broken.append(f"webhooks: {len(missing)} event(s) never delivered, e.g. {missing[:3]}")
    if invalid := len(deliveries) - len(verified):
        broken.append(f"webhooks: {invalid} delivery(ies) failed signature verification")
    for d in verified:
        shown = written.get(d.webhook_id)
        if shown is not None and json.loads(d.body) != shown:
            broken.append(f"webhooks: {d.webhook_id}'s body differs from GET /events/{{id}}")
    acknowledged: set[str] = set()
    for d in verified:
        if d.webhook_id in acknowledged:
            broken.append(f"webhooks: {d.webhook_id} delivered again after it was acknowledged")
        if 200 <= d.status < 300:
            acknowledged.add(d.webhook_id)
    return broken
