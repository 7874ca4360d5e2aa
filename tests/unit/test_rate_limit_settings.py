"""O2O_RATE_LIMITS: defaults, sandbox mode, `name=rate;…` overrides, and start-up errors."""

from __future__ import annotations

from typing import Any

import pytest

from o2o import create_app
from o2o.api.limits import CALLER_LIMITS, RATE_LIMITS, RateLimitSettingError, rate_limits
from tests.builders import PINNED_SETTINGS


def test_unset_means_the_defaults_outside_sandbox_mode_and_none_inside() -> None:
    assert rate_limits(None, sandbox=False) == RATE_LIMITS
    assert rate_limits(None, sandbox=True) == {}


@pytest.mark.parametrize("setting", ["", "  ", "off", "OFF"])
def test_empty_or_off_turns_every_limit_off_even_outside_sandbox_mode(setting: str) -> None:
    assert rate_limits(setting, sandbox=False) == {}


def test_entries_change_the_limits_they_name_and_leave_the_others_at_their_defaults() -> None:
    rates = rate_limits(" claims = 5/minute ; scans=off; orders=2/second,60/minute;", sandbox=True)
    expected = {**RATE_LIMITS, "claims": "5/minute", "orders": "2/second,60/minute"}
    del expected["scans"]
    assert rates == expected


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("claim=5/minute", "no limit is called 'claim'; the limits are auth_failures, claims"),
        ("claims", "'claims' is not name=rate"),
        ("claims=", "'claims=' is not name=rate"),
        ("claims=lots", "claims='lots' is not a rate such as 30/minute"),
    ],
)
def test_an_unreadable_setting_stops_the_app_at_start_up(setting: str, message: str) -> None:
    config: dict[str, Any] = {
        **PINNED_SETTINGS,
        # never connected to: create_app only builds the engine
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "O2O_RATE_LIMITS": setting,
    }
    with pytest.raises(RateLimitSettingError, match="O2O_RATE_LIMITS") as error:
        create_app(config, environ={})
    assert message in str(error.value)


def test_every_limit_but_failed_authentication_counts_named_endpoints() -> None:
    assert set(RATE_LIMITS) == {"auth_failures", *CALLER_LIMITS}
    config = {
        **PINNED_SETTINGS,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "O2O_SANDBOX": False,
    }
    app = create_app(config, environ={})
    for endpoints in CALLER_LIMITS.values():
        assert set(endpoints) <= set(app.view_functions)
