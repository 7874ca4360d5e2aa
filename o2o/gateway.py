"""The mock payment provider: how a WeChat Pay / Alipay / card charge answers, as scripted."""

from __future__ import annotations

from dataclasses import dataclass

from o2o.vocabulary import MockOutcome, PaymentStatus

HEADER = "O2O-Mock-Outcome"


@dataclass(frozen=True)
class Answer:
    """The provider's answer to a charge: a status now, and maybe a scripted later result."""

    status: PaymentStatus  # succeeded | failed | pending
    failure_code: str | None = None
    later: MockOutcome | None = None  # for pending: success or timeout, settled after the delay


def charge(outcome: str) -> Answer:
    """Answer a charge the way the requested mock outcome says (USERPAYING → poll → settle)."""
    if outcome == MockOutcome.SUCCESS:
        return Answer(PaymentStatus.SUCCEEDED)
    if outcome in (MockOutcome.DECLINED, MockOutcome.INSUFFICIENT_FUNDS):
        return Answer(PaymentStatus.FAILED, failure_code=MockOutcome(outcome))
    if outcome == MockOutcome.USER_PAYING:
        return Answer(PaymentStatus.PENDING, later=MockOutcome.SUCCESS)
    if outcome == MockOutcome.TIMEOUT:
        return Answer(PaymentStatus.PENDING, later=MockOutcome.TIMEOUT)
    raise ValueError(f"unknown mock outcome {outcome!r}")


def settle(later: str) -> Answer:
    """The final answer of a pending charge once its delay has passed."""
    if later == MockOutcome.SUCCESS:
        return Answer(PaymentStatus.SUCCEEDED)
    return Answer(PaymentStatus.FAILED, failure_code=MockOutcome.TIMEOUT)
