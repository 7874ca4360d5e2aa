"""Stripe-style Idempotency-Key for POSTs: one decorator over o2o.services.idempotency, which
makes the key, the use case and the stored response one transaction."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from o2o import clock, faults
from o2o.errors import field_error
from o2o.services import idempotency as records

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

F = TypeVar("F", bound=Callable[..., Any])


def _request_hash() -> str:
    if request.mimetype == "multipart/form-data":
        body: Any = _multipart_body()
    else:
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")
    canonical = json.dumps([request.method, request.path, body], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _multipart_body() -> dict[str, Any]:
    """A multipart body's fields and the digest of each file (its stream left at the start):
    the form parser has consumed the raw body by the time this runs."""
    files: dict[str, list[str]] = {}
    for name, upload in request.files.items(multi=True):
        files.setdefault(name, []).append(hashlib.sha256(upload.stream.read()).hexdigest())
        upload.stream.seek(0)
    return {"form": request.form.to_dict(flat=False), "files": files}


def _replay(outcome: records.Outcome) -> Response:
    response = current_app.response_class(
        outcome.body, status=outcome.status, mimetype="application/json"
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _key_use(key: str) -> records.KeyUse:
    # Keys guard against retries over the network, which happen in real time: the replay
    # window runs on the real clock even while the sandbox clock is moved.
    return records.KeyUse(
        scope=g.principal.key_id,
        key=key,
        request_hash=_request_hash(),
        now=clock.real_now(),
        retention=timedelta(seconds=current_app.config["O2O_IDEMPOTENCY_TTL"]),
    )


def idempotent(view: F) -> F:
    """Honour Idempotency-Key on a POST view; place it below the arguments decorator."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise field_error(HEADER, f"Must be 1 to {MAX_KEY_LENGTH} characters.")
        made: list[Response] = []

        def run() -> records.Outcome:
            response = current_app.make_response(view(*args, **kwargs))
            made.append(response)
            return records.Outcome(response.status_code, response.get_data(as_text=True))

        outcome = records.run_once(_key_use(key), run)
        response = _replay(outcome) if outcome.replayed else made[0]
        crash_at = current_app.config.get("O2O_TEST_CRASH_AT")
        response.call_on_close(lambda: faults.reached("after_response", crash_at))
        return response

    wrapper.o2o_idempotent = True  # type: ignore[attr-defined]  # outer decorators copy it up
    return cast(F, wrapper)
