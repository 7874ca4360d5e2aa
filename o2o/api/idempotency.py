"""Stripe-style Idempotency-Key for POSTs: one decorator; the records live in the database."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Response, current_app, g, request

from o2o import clock
from o2o.errors import O2OError, field_error
from o2o.services import idempotency as records
from o2o.vocabulary import ErrorCode

if TYPE_CHECKING:
    from o2o.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# A request that died mid-flight must not hold its key for ever.
STALE_IN_PROGRESS = timedelta(seconds=60)

# Rejected by validation (even when a service finds it) or told to retry: nothing is stored.
NOT_STORED = {ErrorCode.VALIDATION_ERROR, ErrorCode.CLAIM_CONTENTION}

F = TypeVar("F", bound=Callable[..., Any])


def _request_hash() -> str:
    raw = request.get_data(cache=True)
    try:
        body: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = raw.decode("utf-8", "replace")
    canonical = json.dumps([request.method, request.path, body], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = current_app.response_class(
        record.response_body, status=record.response_status, mimetype="application/json"
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _claim_key(scope: str, key: str, request_hash: str) -> IdempotencyRecord | Response:
    """Insert the in-progress record, or return the earlier response to replay."""
    # Keys guard against retries over the network, which happen in real time: the replay window
    # and the in-flight timeout run on the real clock even while the sandbox clock is moved.
    now = clock.real_now()
    ttl = timedelta(seconds=current_app.config["O2O_IDEMPOTENCY_TTL"])
    record = records.claim_key(scope, key, request_hash, now=now, ttl=ttl)
    if record is not None:
        return record
    existing = records.find_record(scope, key)
    if existing is None:  # the other request failed and forgot the key meanwhile
        return _claim_key(scope, key, request_hash)
    if existing.request_hash != request_hash:
        raise O2OError(ErrorCode.IDEMPOTENCY_KEY_REUSED)
    if existing.in_progress:
        if existing.created_at < now - STALE_IN_PROGRESS:
            records.forget_record(existing)
            return _claim_key(scope, key, request_hash)
        raise O2OError(ErrorCode.IDEMPOTENCY_KEY_IN_USE)
    return _replay(existing)


def idempotent(view: F) -> F:
    """Honour Idempotency-Key on a POST view; place it below the arguments decorator."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise field_error(HEADER, f"Must be 1 to {MAX_KEY_LENGTH} characters.")
        claimed = _claim_key(g.principal.key_id, key, _request_hash())
        if isinstance(claimed, Response):
            return claimed
        record_id = claimed.id
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except O2OError as error:
            if error.error in NOT_STORED:  # the client fixes the request and retries, same key
                records.keep_failure(record_id, 500, "")
            else:
                records.keep_failure(record_id, error.status, json.dumps(error.envelope()))
            raise
        except Exception:
            records.keep_failure(record_id, 500, "")
            raise
        records.keep_response(record_id, response.status_code, response.get_data(as_text=True))
        return response

    wrapper.o2o_idempotent = True  # type: ignore[attr-defined]  # outer decorators copy it up
    return cast(F, wrapper)
