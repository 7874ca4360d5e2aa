"""Sandbox views (only when O2O_SANDBOX=1): the shared test clock, and outcomes chosen for the
WeChat Pay gateway's payments (the SDK sends no header to choose one)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from o2o.api.auth import require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import Choice, ClockSchema, ClockSetSchema, Sent, Strict, Timestamp
from o2o.services import sandbox, wechatpay
from o2o.vocabulary import MockOutcome, Role

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


class OutcomeCreateSchema(Strict):
    mchid = fields.String(required=True, validate=validate.Length(min=1, max=32))
    out_trade_no = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Only this trade; absent: the merchant's next payment."},
    )
    outcome = Choice(MockOutcome, required=True)


class OutcomeSchema(Sent):
    mchid = fields.String()
    out_trade_no = fields.String(allow_none=True)
    outcome = fields.String()
    created_at = Timestamp()


@blp.route("/sandbox/outcomes", methods=["POST"])
@blp.doc(operationId="chooseWechatOutcome")
@require(Role.ADMIN)
@blp.arguments(OutcomeCreateSchema)
@idempotent
@blp.response(201, OutcomeSchema)
def choose_outcome(data: dict[str, Any]) -> Any:
    """Choose the outcome of a merchant's next /v3/ payment (or of one out_trade_no); it wins
    over the magic amounts."""
    return wechatpay.choose_outcome(data["mchid"], data["out_trade_no"], data["outcome"])
