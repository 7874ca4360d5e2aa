"""The delivery engine: events fanned out to webhook endpoints and to the deliveries other
packages' fanouts ask for, attempts claimed, POSTed and recorded, retried on the service clock.
What every loop calls, one tick at a time. One engine and one delivery log for every channel
(o2o.events.channels): `webhook` (Standard Webhooks, to endpoints) is built in; a channel a
package registers (WeChat Pay notifications) differs only in its headers and its schedule.

- `dispatch(limit=100)`: claim undispatched events (PostgreSQL: FOR UPDATE SKIP LOCKED), queue
  one delivery per enabled endpoint whose patterns match, with the body bytes rendered once,
  and the deliveries each registered fanout returns, with the bodies it rendered; mark the
  events dispatched; one transaction per batch. Endpoints are those enabled when the event is
  dispatched: one registered later never gets earlier events (redeliver does that).
- `deliver_due(worker_id, limit=20)`: claim due attempts (pending, `next_attempt_at` reached on
  the SERVICE clock, their endpoint enabled if they have one, no live lease) with one
  conditional UPDATE … RETURNING that sets a lease on the REAL clock (O2O_WEBHOOK_LEASE_SECONDS)
  and `leased_by`; commit the claim; POST each outside any transaction, with its channel's
  headers; record each outcome in a short transaction that applies only while the lease is
  still this claim's (the lease's end is the fencing token), the next attempt due by the
  channel's schedule.
- `run_once(worker_id)`: dispatch, then deliver_due; the work done (0: idle).

Safe with any number of workers on PostgreSQL, and with one on SQLite. Each runs in an app
context the caller provides, outside any request's transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update

from o2o import clock, events, store
from o2o.events import channels, signing, transport
from o2o.events.channels import Claim, DeliveryChannel, DeliverySpec
from o2o.extensions import db
from o2o.models import (
    WEBHOOK_CHANNEL,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    sql_moment,
)
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


# -- channels: the built-in one, and the app's registered ones


def _webhook_headers(claimed: Claim) -> dict[str, str]:
    """Standard Webhooks: signed under the endpoint's live secrets, stamped by the real clock."""
    secrets = [open_secret(sealed) for sealed in claimed.secrets]
    timestamp = int(clock.real_now().timestamp())
    return signing.headers(claimed.event_id, timestamp, claimed.payload, secrets)


WEBHOOK = DeliveryChannel(headers=_webhook_headers, schedule_key="O2O_WEBHOOK_RETRY_SCHEDULE")


def channel_of(name: str) -> DeliveryChannel | None:
    """The channel called `name` in the current app: `webhook`, a registered one, or None."""
    return WEBHOOK if name == WEBHOOK_CHANNEL else channels.registry().channels.get(name)


def schedule(name: str) -> tuple[int, ...]:
    """The waits (seconds) after each failed attempt of a channel's deliveries. A channel this
    process does not know retries on the webhook schedule: a worker of an older release (or
    one without the package) must not fail another's deliveries for good."""
    channel = channel_of(name) or WEBHOOK
    return tuple(current_app.config[channel.schedule_key])


# -- fanning events out


def render(event: Event) -> str:
    """The body every attempt of every delivery of `event` sends: its API JSON, compact."""
    return json.dumps(events.body(event), separators=(",", ":"), ensure_ascii=False)


def queue(event: Event, endpoint_id: str, body: str) -> WebhookDelivery:
    """Add a webhook delivery of `event` to one endpoint, due now (service time), to the
    session."""
    return _queued(event, WEBHOOK_CHANNEL, body, endpoint_id=endpoint_id)


def queue_spec(event: Event, spec: DeliverySpec) -> WebhookDelivery:
    """Add the delivery of `event` a fanout asked for, due now (service time), to the session;
    ValueError if `spec` is not one the current app can send (channels.checked)."""
    spec = channels.checked(spec)
    return _queued(event, spec.channel, spec.body, url=spec.url, owner=spec.owner)


def _queued(
    event: Event,
    channel: str,
    body: str,
    *,
    endpoint_id: str | None = None,
    url: str | None = None,
    owner: str | None = None,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        id=new_id(DELIVERY_PREFIX),
        channel=channel,
        endpoint_id=endpoint_id,
        url=url,
        owner=owner,
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
    fanouts = list(channels.registry().fanouts)
    for event in batch:
        _queue_webhooks(event, enabled)
        for fanout in fanouts:
            _fan_out(event, fanout)
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


def _queue_webhooks(event: Event, enabled: Sequence[WebhookEndpoint]) -> None:
    """Queue `event` to each of the `enabled` endpoints whose patterns match it."""
    wanted = [endpoint for endpoint in enabled if events.matches(endpoint.patterns, event.type)]
    body = _rendered(event) if wanted else None
    if body is not None:
        for endpoint in wanted:
            queue(event, endpoint.id, body)


def _fan_out(event: Event, fanout: channels.Fanout) -> None:
    """Queue the deliveries `fanout` asks for `event`; if it raises (or asks for one that
    cannot be sent), log it and queue none of them: one broken fanout must not hold up the
    outbox, nor the other fanouts and the endpoints."""
    try:
        with _undone_if_it_fails():
            specs = [channels.checked(spec) for spec in fanout(event)]
            for spec in specs:
                queue_spec(event, spec)
    except Exception:
        name = getattr(fanout, "__qualname__", repr(fanout))
        log.exception("fanout %s failed for event %s (%s); skipped", name, event.id, event.type)


def _undone_if_it_fails() -> AbstractContextManager[Any]:
    """A savepoint on PostgreSQL, where a failed statement would abort the dispatch's whole
    transaction. SQLite goes on after a failed statement, and nothing is queued before the
    fanout has returned (pysqlite's savepoints misbehave in a transaction it has not begun)."""
    return db.session.begin_nested() if _skip_locked() else nullcontext()


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


def _may_go() -> ColumnElement[bool]:
    """A delivery to an endpoint (a webhook) goes while the endpoint is enabled; one with its
    own url (another channel's), whenever it is due."""
    return or_(D.endpoint_id.is_(None), WebhookEndpoint.status == WebhookEndpointStatus.ENABLED)


def claim(worker_id: str, limit: int = 20) -> list[Claim]:
    """Lease up to `limit` due attempts to `worker_id`, and commit the lease."""
    clock.forget_cached_now()
    now, real_now = clock.now(), clock.real_now()
    lease = real_now + timedelta(seconds=current_app.config["O2O_WEBHOOK_LEASE_SECONDS"])
    due = _due(now, real_now)
    candidates = (
        select(D.id)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
        .where(due, _may_go())
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
    )
    if _skip_locked():  # OF the deliveries alone: the endpoint side of the join may be null
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


CLAIMED = (D.id, D.event_id, D.channel, D.body, D.attempt_count, D.url, D.owner)


def _claimed(ids: list[str]) -> list[Any]:
    if not ids:
        return []
    return list(
        db.session.execute(
            select(*CLAIMED, WebhookEndpoint)  # columns: loading deliveries loads their attempts
            .outerjoin(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
            .where(D.id.in_(ids))
            .order_by(D.next_attempt_at, D.id)
            .execution_options(populate_existing=True)  # the endpoint's url and secrets as now
        )
    )


def _claim(row: Any, worker_id: str, lease: datetime, now: datetime) -> Claim:
    endpoint: WebhookEndpoint | None = row.WebhookEndpoint
    return Claim(
        delivery_id=row.id,
        event_id=row.event_id,
        channel=row.channel,
        body=row.body,
        attempt_count=row.attempt_count,
        url=row.url if endpoint is None else endpoint.url,
        owner=row.owner,
        secrets=() if endpoint is None else tuple(endpoint.signing_secrets(now)),
        worker_id=worker_id,
        lease_expires_at=lease,
        attempted_at=now,
    )


def attempt(claimed: Claim) -> Outcome:
    """POST the claimed delivery with its channel's headers (vetting the receiver's address
    first); never raises."""
    channel = channel_of(claimed.channel)
    if channel is None:
        unknown = f"unknown channel {claimed.channel!r}: not registered in this worker; not sent"
        return Outcome(None, 0, None, unknown)
    try:
        target = transport.parse(claimed.url or "")
        address = transport.vet(target, policy())
        headers = channel.headers(claimed)
        if db.session().in_transaction():  # the headers read (a merchant's key): nothing to keep
            store.rollback()  # and no transaction stays open across the POST
        timeout = float(current_app.config["O2O_WEBHOOK_TIMEOUT"])
        answer = transport.post(target, address, headers, claimed.payload, timeout)
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
    channel: str, attempts: int, attempted_at: datetime, outcome: Outcome
) -> tuple[str, datetime | None]:
    """A delivery's status and next due time after its `attempts`-th attempt, by its
    channel's schedule."""
    if outcome.acknowledged:
        return DeliveryStatus.SUCCEEDED, None
    waits = schedule(channel)
    if attempts > len(waits):
        return DeliveryStatus.FAILED, None
    return DeliveryStatus.PENDING, attempted_at + timedelta(seconds=waits[attempts - 1])


def settle(claimed: Claim, outcome: Outcome) -> bool:
    """Record the attempt and move the delivery on, if the lease is still this claim's (else
    a worker that took over after it ran out records its own); whether it was recorded."""
    attempts = claimed.attempt_count + 1
    status, due = next_step(claimed.channel, attempts, claimed.attempted_at, outcome)
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
