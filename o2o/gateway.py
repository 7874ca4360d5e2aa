"""The mock payment provider: how a WeChat Pay / Alipay / card charge or refund answers, as
scripted."""

from __future__ import annotations

from dataclasses import dataclass

from o2o.vocabulary import (
    MockOutcome,
    PaymentStatus,
    RefundFailureCode,
    RefundOutcome,
    RefundStatus,
)

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


@dataclass(frozen=True)
class RefundAnswer:
    """The provider's answer to a refund: done, or refused with why (nothing moves then)."""

    status: RefundStatus  # succeeded | failed
    failure_code: RefundFailureCode | None = None


def refund(outcome: str) -> RefundAnswer:
    """Answer a refund the way the requested mock outcome says."""
    if outcome == RefundOutcome.SUCCESS:
        return RefundAnswer(RefundStatus.SUCCEEDED)
    if outcome in (RefundOutcome.DECLINED, RefundOutcome.ACCOUNT_ABNORMAL):
        return RefundAnswer(RefundStatus.FAILED, failure_code=RefundFailureCode(outcome))
    raise ValueError(f"unknown mock refund outcome {outcome!r}")


def settle(later: str) -> Answer:
    """The final answer of a pending charge once its delay has passed."""
    if later == MockOutcome.SUCCESS:
        return Answer(PaymentStatus.SUCCEEDED)
    return Answer(PaymentStatus.FAILED, failure_code=MockOutcome.TIMEOUT)
