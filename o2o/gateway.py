"""The mock payment provider: how a WeChat Pay / Alipay / card charge answers, as scripted."""

from __future__ import annotations

from dataclasses import dataclass

OUTCOMES = ("success", "declined", "insufficient_funds", "user_paying", "timeout")
HEADER = "O2O-Mock-Outcome"


@dataclass(frozen=True)
class Answer:
    """The provider's answer to a charge: a status now, and maybe a scripted later result."""

    status: str  # succeeded | failed | pending
    failure_code: str | None = None
    later: str | None = None  # for pending: "success" or "timeout", settled after the delay


def charge(outcome: str) -> Answer:
    """Answer a charge the way the requested mock outcome says (USERPAYING → poll → settle)."""
    if outcome == "success":
        return Answer("succeeded")
    if outcome in ("declined", "insufficient_funds"):
        return Answer("failed", failure_code=outcome)
    if outcome == "user_paying":
        return Answer("pending", later="success")
    if outcome == "timeout":
        return Answer("pending", later="timeout")
    raise ValueError(f"unknown mock outcome {outcome!r}")


def settle(later: str) -> Answer:
    """The final answer of a pending charge once its delay has passed."""
    if later == "success":
        return Answer("succeeded")
    return Answer("failed", failure_code="timeout")
