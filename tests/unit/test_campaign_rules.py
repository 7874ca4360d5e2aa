"""Campaign rules on the model: discounts, claim blockers, coupon windows, status changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.models import Campaign

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def campaign(**fields: Any) -> Campaign:
    defaults: dict[str, Any] = {
        "status": "active",
        "total_quantity": 10,
        "claimed_count": 0,
        "wait_days_after_claim": 0,
        "valid_days_after_claim": 7,
    }
    discount = fields.pop(
        "discount", {"type": "amount_off", "amount_off": 5000, "min_spend": 30000}
    )
    made = Campaign(**{**defaults, **fields})
    made.set_discount(discount)
    return made


def test_amount_off_applies_only_from_min_spend() -> None:
    fifty_off = campaign()
    assert fifty_off.discount_for(29999) == 0
    assert fifty_off.discount_for(30000) == 5000


def test_percent_off_rounds_down_to_the_fen_and_is_capped() -> None:
    twenty = campaign(discount={"type": "percent_off", "percent_off": 20, "max_discount": 10000})
    assert twenty.discount_for(1999) == 399  # 399.8 fen rounds down
    assert twenty.discount_for(100000) == 10000


def test_exchange_means_paying_the_exchange_price() -> None:
    tote = campaign(discount={"type": "exchange", "exchange_price": 100, "item": "Tote"})
    assert tote.discount_for(8900) == 8800
    assert tote.discount_for(50) == 0  # never negative when the order is below the price


discounts = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("amount_off"), "amount_off": st.integers(1, 10**9)},
        optional={"min_spend": st.integers(0, 10**9)},
    ),
    st.fixed_dictionaries(
        {"type": st.just("percent_off"), "percent_off": st.integers(1, 100)},
        optional={"max_discount": st.integers(0, 10**9), "min_spend": st.integers(0, 10**9)},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("exchange"),
            "exchange_price": st.integers(0, 10**9),
            "item": st.just("x"),
        },
        optional={"min_spend": st.integers(0, 10**9)},
    ),
)


@given(discount=discounts, amount=st.integers(0, 10**9))
def test_a_discount_is_an_int_between_zero_and_the_amount(
    discount: dict[str, Any], amount: int
) -> None:
    off = campaign(discount=discount).discount_for(amount)
    assert isinstance(off, int)
    assert 0 <= off <= amount


def test_a_relative_window_starts_after_the_wait_and_is_clipped_to_valid_until() -> None:
    rule = campaign(
        wait_days_after_claim=2, valid_days_after_claim=7, valid_until=NOW + timedelta(days=5)
    )
    assert rule.coupon_window(NOW) == (NOW + timedelta(days=2), NOW + timedelta(days=5))


def test_an_absolute_window_uses_the_campaign_dates() -> None:
    rule = campaign(
        valid_days_after_claim=None,
        valid_from=NOW + timedelta(days=1),
        valid_until=NOW + timedelta(days=9),
    )
    assert rule.coupon_window(NOW) == (NOW + timedelta(days=1), NOW + timedelta(days=9))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "paused"}, "campaign_not_active"),
        ({"claim_starts_at": NOW + timedelta(hours=1)}, "claim_not_started"),
        ({"claim_ends_at": NOW}, "claim_ended"),
        ({"claimed_count": 10}, "campaign_exhausted"),
        ({"valid_until": NOW}, "campaign_expired"),
    ],
)
def test_claim_blockers_name_each_reason(fields: dict[str, Any], reason: str) -> None:
    assert reason in campaign(**fields).claim_blockers(NOW)


def test_an_open_campaign_has_no_claim_blockers() -> None:
    assert campaign().claim_blockers(NOW) == []


def test_ended_is_final_and_drafts_cannot_pause() -> None:
    assert not campaign(status="ended").can_become("active")
    assert not campaign(status="draft").can_become("paused")
    assert campaign(status="paused").can_become("active")
