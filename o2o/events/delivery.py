"""The webhook delivery engine: events fanned out to endpoints, attempts claimed, POSTed and
recorded, retried on the service clock. What every loop calls, one tick at a time.

- `dispatch(limit=100)`: claim undispatched events (PostgreSQL: FOR UPDATE SKIP LOCKED), queue
  one delivery per enabled endpoint whose patterns match, with the body bytes rendered once, and
  mark the events dispatched; one transaction per batch. Endpoints are those enabled when the
  event is dispatched: one registered later never gets earlier events (redeliver does that).
- `deliver_due(worker_id, limit=20)`: claim due attempts (pending, `next_attempt_at` reached on
  the SERVICE clock, endpoint enabled, no live lease) with one conditional UPDATE … RETURNING
  that sets a lease on the REAL clock (O2O_WEBHOOK_LEASE_SECONDS) and `leased_by`; commit the
  claim; POST each outside any transaction; record each outcome in a short transaction that
  applies only while the lease is still this claim's (the lease's end is the fencing token).
- `run_once(worker_id)`: dispatch, then deliver_due; the work done (0: idle).

Safe with any number of workers on PostgreSQL, and with one on SQLite. Each runs in an app
context the caller provides, outside any request's transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update

from o2o import clock, events, store
from o2o.events import signing, transport
from o2o.extensions import db
from o2o.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint, sql_moment
from o2o.sealing import seal, unseal
from o2o.tokens import new_id
from o2o.vocabulary import DeliveryStatus, WebhookEndpointStatus

log = logging.getLogger(__name__)

SEAL_PURPOSE = "webhook-secret"
DELIVERY_PREFIX = "whd"
LOGGED_BYTES = 1024  # of a response body, kept in the delivery log

D = WebhookDelivery


# -- secrets and policy: the settings every caller reads the same way


def seal_secret(secret: str) -> str:
    return seal(current_app.config["O2O_SECRET_KEY"], SEAL_PURPOSE, secret)


def open_secret(sealed: str) -> str:
    return unseal(current_app.config["O2O_SECRET_KEY"], SEAL_PURPOSE, sealed)


def policy() -> transport.Policy:
    """Which receivers this service may POST to: loopback in sandbox mode; every address with
    O2O_WEBHOOK_ALLOW_PRIVATE; otherwise only public ones."""
    config = current_app.config
    return transport.Policy(
        loopback=bool(config["O2O_SANDBOX"]), private=bool(config["O2O_WEBHOOK_ALLOW_PRIVATE"])
    )


def _skip_locked() -> bool:
    return store.writes_in_one_statement()  # PostgreSQL


# -- fanning events out


def render(event: Event) -> str:
    """The body every attempt of every delivery of `event` sends: its API JSON, compact."""
    return json.dumps(events.body(event), separators=(",", ":"), ensure_ascii=False)


def queue(event: Event, endpoint_id: str, body: str) -> WebhookDelivery:
    """Add a delivery of `event` to one endpoint, due now (service time), to the session."""
    delivery = WebhookDelivery(
        id=new_id(DELIVERY_PREFIX),
        endpoint_id=endpoint_id,
        event_id=event.id,
        event_type=event.type,
        body=body,
        status=DeliveryStatus.PENDING,
        attempt_count=0,
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )
    db.session.add(delivery)
    return delivery


def dispatch(limit: int = 100) -> int:
    """Queue the deliveries of up to `limit` undispatched events, oldest first, and mark them
    dispatched, in one transaction; the number of events dispatched (matched or not, so a loop
    keeps going while a backlog lasts)."""
    clock.forget_cached_now()
    oldest = (
        select(Event).where(Event.dispatched.is_(False)).order_by(Event.created_at, Event.id)
    ).limit(limit)
    batch = list(
        db.session.scalars(oldest.with_for_update(skip_locked=True) if _skip_locked() else oldest)
    )
    if not batch:
        store.commit()
        return 0
    enabled = db.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.status == WebhookEndpointStatus.ENABLED)
        .execution_options(populate_existing=True)  # a loop's session outlives many changes
    ).all()
    for event in batch:
        wanted = [endpoint for endpoint in enabled if events.matches(endpoint.patterns, event.type)]
        body = _rendered(event) if wanted else None
        if body is not None:
            for endpoint in wanted:
                queue(event, endpoint.id, body)
    ids = [event.id for event in batch]
    marked: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Event)
        .where(Event.id.in_(ids), Event.dispatched.is_(False))
        .values(dispatched=True)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != len(ids):  # another dispatcher got there first (SQLite: no row locks)
        store.rollback()
        return 0
    store.commit()
    return len(batch)


def _rendered(event: Event) -> str | None:
    """The event's body, or None (logged) if it cannot be rendered: one broken event must not
    hold up the outbox behind it; it stays in GET /events, and redeliver can send it later."""
    try:
        return render(event)
    except Exception:
        log.exception("event %s (%s) could not be rendered; not delivered", event.id, event.type)
        return None


# -- delivering due attempts


@dataclass(frozen=True)
class Claim:
    """One attempt a worker holds: what to send where, and the lease that makes it its own."""

    delivery_id: str
    event_id: str
    body: str
    attempt_count: int  # attempts made before this one
    url: str
    secrets: tuple[str, ...]  # sealed; the newest first
    worker_id: str
    lease_expires_at: datetime  # real time; also the claim's fencing token
    attempted_at: datetime  # service time


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error instead; the answer's first KiB."""

    status_code: int | None
    duration_ms: int
    response_body: str | None
    error: str | None

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _due(now: datetime, real_now: datetime) -> ColumnElement[bool]:
    """Deliveries whose next attempt is due (service time) and that no live lease holds."""
    return and_(
        D.status == DeliveryStatus.PENDING,
        D.next_attempt_at <= sql_moment(now),
        or_(D.lease_expires_at.is_(None), D.lease_expires_at <= sql_moment(real_now)),
    )


def claim(worker_id: str, limit: int = 20) -> list[Claim]:
    """Lease up to `limit` due attempts to `worker_id`, and commit the lease."""
    clock.forget_cached_now()
    now, real_now = clock.now(), clock.real_now()
    lease = real_now + timedelta(seconds=current_app.config["O2O_WEBHOOK_LEASE_SECONDS"])
    due = _due(now, real_now)
    candidates = (
        select(D.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
        .where(due, WebhookEndpoint.status == WebhookEndpointStatus.ENABLED)
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
    )
    if _skip_locked():
        candidates = candidates.with_for_update(of=D, skip_locked=True)
    leased = db.session.scalars(
        update(D)
        .where(D.id.in_(candidates.scalar_subquery()), due)
        .values(lease_expires_at=lease, leased_by=worker_id)
        .returning(D.id)
        .execution_options(synchronize_session=False)
    ).all()
    claims = [_claim(row, worker_id, lease, now) for row in _claimed(list(leased))]
    store.commit()
    return claims


def _claimed(ids: list[str]) -> list[Any]:
    if not ids:
        return []
    return list(
        db.session.execute(
            select(D.id, D.event_id, D.body, D.attempt_count, WebhookEndpoint)
            .join(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
            .where(D.id.in_(ids))
            .order_by(D.next_attempt_at, D.id)
            .execution_options(populate_existing=True)  # the url and secrets as they are now
        )
    )


def _claim(row: Any, worker_id: str, lease: datetime, now: datetime) -> Claim:
    endpoint: WebhookEndpoint = row.WebhookEndpoint
    return Claim(
        delivery_id=row.id,
        event_id=row.event_id,
        body=row.body,
        attempt_count=row.attempt_count,
        url=endpoint.url,
        secrets=tuple(endpoint.signing_secrets(now)),
        worker_id=worker_id,
        lease_expires_at=lease,
        attempted_at=now,
    )


def attempt(claimed: Claim) -> Outcome:
    """POST the claimed delivery (vetting the receiver's address first); never raises."""
    try:
        target = transport.parse(claimed.url)
        address = transport.vet(target, policy())
        body = claimed.body.encode()
        secrets = [open_secret(sealed) for sealed in claimed.secrets]
        timestamp = int(clock.real_now().timestamp())
        headers = signing.headers(claimed.event_id, timestamp, body, secrets)
        timeout = float(current_app.config["O2O_WEBHOOK_TIMEOUT"])
        answer = transport.post(target, address, headers, body, timeout)
    except transport.Refused as exc:
        return Outcome(None, 0, None, f"refused: {exc}")
    except transport.TransportError as exc:
        return Outcome(None, exc.duration_ms, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bad row must not stop the loop: retried, logged
        return Outcome(None, 0, None, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(answer.status, answer.duration_ms, logged_text(answer.body), None)


def logged_text(body: bytes) -> str:
    """The first KiB of a response as storable text (NUL and broken UTF-8 replaced)."""
    return body[:LOGGED_BYTES].decode("utf-8", "replace").replace("\x00", "\ufffd")


def next_step(
    attempts: int, attempted_at: datetime, outcome: Outcome
) -> tuple[str, datetime | None]:
    """The delivery's status and next due time after its `attempts`-th attempt."""
    if outcome.acknowledged:
        return DeliveryStatus.SUCCEEDED, None
    schedule: tuple[int, ...] = current_app.config["O2O_WEBHOOK_RETRY_SCHEDULE"]
    if attempts > len(schedule):
        return DeliveryStatus.FAILED, None
    return DeliveryStatus.PENDING, attempted_at + timedelta(seconds=schedule[attempts - 1])


def settle(claimed: Claim, outcome: Outcome) -> bool:
    """Record the attempt and move the delivery on, if the lease is still this claim's (else
    a worker that took over after it ran out records its own); whether it was recorded."""
    attempts = claimed.attempt_count + 1
    status, due = next_step(attempts, claimed.attempted_at, outcome)
    moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(D)
        .where(
            D.id == claimed.delivery_id,
            D.status == DeliveryStatus.PENDING,
            D.leased_by == claimed.worker_id,
            D.lease_expires_at == sql_moment(claimed.lease_expires_at),
        )
        .values(
            status=status,
            attempt_count=attempts,
            next_attempt_at=due,
            lease_expires_at=None,
            leased_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        store.rollback()
        return False
    db.session.add(
        WebhookAttempt(
            delivery_id=claimed.delivery_id,
            attempted_at=claimed.attempted_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_body=outcome.response_body,
            error=outcome.error,
        )
    )
    store.commit()
    return True


def deliver_due(worker_id: str, limit: int = 20) -> int:
    """Claim up to `limit` due attempts, POST each, record each outcome; attempts made."""
    claims = claim(worker_id, limit)
    for claimed in claims:
        settle(claimed, attempt(claimed))
    return len(claims)


def run_once(worker_id: str) -> int:
    """One tick of any delivery loop: dispatch, then deliver what is due; the work done
    (events dispatched plus attempts made; 0 when there was nothing to do)."""
    return dispatch() + deliver_due(worker_id)
