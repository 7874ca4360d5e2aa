"""Idempotency-Key, exactly once: the key, the use case's work and the stored response are one
transaction (docs/idempotency.md).

The request's first statement takes the key (o2o.store.keys); the use case runs guarded, so its
commits keep work for the one commit at the end, where the response is stored beside it. A
crash before that commit leaves nothing — the retry runs once; a crash after it leaves the
response — the retry replays it. A same-key request meanwhile is told the key is in use (on
SQLite it waits for the writer lock and replays). Stored bodies are sealed with the instance
secret: a replay of `POST /clerks` gives back its API key, and the table holds no secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from o2o import faults, store
from o2o.errors import O2OError
from o2o.sealing import Unsealable, seal, unseal
from o2o.store import keys
from o2o.vocabulary import ErrorCode

# Rejected by validation (even when a service finds it) or told to retry: nothing is stored,
# so the client fixes the request, or waits, and sends it again with the same key.
NOT_STORED = {ErrorCode.VALIDATION_ERROR, ErrorCode.CLAIM_CONTENTION}
_PURPOSE = "idempotency-response"


@dataclass(frozen=True)
class KeyUse:
    """One request under a key: whose key (`scope`), which request, and when (real time)."""

    scope: str
    key: str
    request_hash: str
    now: datetime
    retention: timedelta


@dataclass(frozen=True)
class Outcome:
    """A response to store, or one replayed."""

    status: int
    body: str
    replayed: bool = False


def run_once(use: KeyUse, run: Callable[[], Outcome]) -> Outcome:
    """Run the use case once for this key, or replay what its first run answered."""
    record_id = keys.take_key(
        use.scope, use.key, use.request_hash, now=use.now, stale_before=use.now - use.retention
    )
    if record_id is None:
        return _stored(use)
    with store.guarded() as guard:
        try:
            outcome = run()
        except O2OError as error:
            if error.error in NOT_STORED:
                guard.abandon()
                raise
            guard.undo()  # the work since the use case's last commit, as unguarded
            _keep(guard, record_id, Outcome(error.status, json.dumps(error.envelope())))
            raise
        except BaseException:
            guard.abandon()
            raise
        if outcome.status >= 500:  # our failure: the key may run again
            guard.abandon()
        else:
            _keep(guard, record_id, outcome)
    return outcome


def _keep(guard: store.Guard, record_id: int, outcome: Outcome) -> None:
    """Store the response and commit it with the request's work."""
    crash_at = current_app.config.get("O2O_TEST_CRASH_AT")
    sealed = seal(current_app.config["O2O_SECRET_KEY"], _PURPOSE, outcome.body)
    guard.settle()
    keys.keep_response(record_id, outcome.status, sealed)
    faults.reached("before_commit", crash_at)
    guard.commit()
    faults.reached("after_commit", crash_at)


def _stored(use: KeyUse) -> Outcome:
    """The response to replay for a key another request holds, or why there is none."""
    record = keys.held_record(use.scope, use.key)
    status, request_hash, sealed = (
        (record.response_status, record.request_hash, record.response_body or "")
        if record is not None
        else (None, None, "")
    )
    store.rollback()  # the failed take holds SQLite's writer lock until here
    if status is None:
        raise O2OError(ErrorCode.IDEMPOTENCY_KEY_IN_USE)
    if request_hash != use.request_hash:
        raise O2OError(ErrorCode.IDEMPOTENCY_KEY_REUSED)
    try:
        body = unseal(current_app.config["O2O_SECRET_KEY"], _PURPOSE, sealed)
    except Unsealable:
        raise O2OError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This key's response was stored under another instance secret; use a new key.",
        ) from None
    return Outcome(status, body, replayed=True)
