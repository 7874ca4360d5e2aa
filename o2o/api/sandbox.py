"""Sandbox views: the shared test clock (only when O2O_SANDBOX=1)."""

from __future__ import annotations

from typing import Any

from o2o.api.auth import require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import ClockSchema, ClockSetSchema
from o2o.services import sandbox
from o2o.vocabulary import Role

blp = Blueprint("sandbox", __name__, description="Sandbox clock (O2O_SANDBOX=1 only)")


@blp.route("/sandbox/clock", methods=["GET"])
@blp.doc(operationId="getSandboxClock")
@require(Role.ADMIN)
@blp.response(200, ClockSchema)
def get_clock() -> Any:
    """Read the sandbox clock and its mode (the first read starts it, frozen at the real time)."""
    now, mode = sandbox.current_time()
    return {"now": now, "mode": mode}


@blp.route("/sandbox/clock", methods=["POST"])
@blp.doc(operationId="setSandboxClock")
@require(Role.ADMIN)
@blp.arguments(ClockSetSchema)
@idempotent
@blp.response(200, ClockSchema)
def set_clock(data: dict[str, Any]) -> Any:
    """Freeze the sandbox clock, move it forward, or give it back to real time."""
    now, mode = sandbox.set_clock(**data)
    return {"now": now, "mode": mode}
