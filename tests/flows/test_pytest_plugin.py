"""The pytest plugin works in a separate project, in process and against a live server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import live_server

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    """The README's plugin example, verbatim: only the plugin's fixtures, no project conftest."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Testing your shop") :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


FLOW_TEST = readme_example()

TIME_TRAVEL_TEST = """
import pytest
from o2o.testing import ServiceError

def test_time_travel(o2o, o2o_clock):
    o2o_clock.freeze("2026-12-01T00:00:00Z")
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    coupon = shopper.claim(o2o.campaign(wait_days_after_claim=1, valid_days_after_claim=2))
    qr = shopper.show_qr(coupon)
    assert clerk.scan(qr, 39900).reasons == ["coupon_not_yet_valid"]
    o2o_clock.advance(days=1)
    qr = shopper.show_qr(coupon)
    order = clerk.checkout(39900, qr=qr)
    o2o_clock.advance(minutes=15)
    assert shopper.order(order).status == "expired"
    with pytest.raises(ServiceError) as caught:
        clerk.scan(qr, 39900)
    assert caught.value.code == "qr_token_expired"
    assert clerk.scan(shopper.show_qr(coupon), 39900).applicable is True
    o2o_clock.advance(days=2)
    assert shopper.coupon(coupon).status == "expired"
"""


def test_a_ten_line_flow_test_passes_with_only_the_plugins_fixtures(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_flow=FLOW_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_same_flow_test_runs_against_a_live_server(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_flow=FLOW_TEST)
    admin = "live-admin-key"
    with live_server(tmp_path, seed=False, O2O_SANDBOX="1", O2O_ADMIN_KEY=admin) as url:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--o2o-url={url}", f"--o2o-admin-key={admin}"
        )
    result.assert_outcomes(passed=1)


def test_plugin_tests_travel_in_time_without_sleeping(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_time=TIME_TRAVEL_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
