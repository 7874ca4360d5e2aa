"""The pytest plugin works in a separate project, in process and against a live server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import live_server

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
# What picks the plugin's live mode: each test here chooses it, never the shell running pytest.
LIVE_MODE_VARIABLES = ("O2O_TEST_URL", "O2O_TEST_ADMIN_KEY", "O2O_ADMIN_KEY")


@pytest.fixture(autouse=True)
def _no_live_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LIVE_MODE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def readme_example() -> str:
    """The README's plugin example, verbatim: only the plugin's fixtures, no project conftest."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Testing your shop") :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


FLOW_TEST = readme_example()

TIME_TRAVEL_TEST = """
import pytest
from o2o.client import ServiceError

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

DOCUMENTED_TTLS_TEST = """
def test_the_documented_ttls(o2o, o2o_clock):
    o2o_clock.freeze("2026-12-01T10:00:00+08:00")
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    qr = shopper.show_qr(shopper.claim(o2o.campaign()))
    o2o_clock.advance(minutes=2)  # the QR token lives 300 s
    order = clerk.checkout(39900, qr=qr)
    o2o_clock.advance(minutes=2)  # the order holds its coupon 900 s
    code = shopper.payment_code()
    o2o_clock.advance(seconds=30)  # the payment code lives 60 s
    assert clerk.take_payment(order, code).status == "succeeded"
"""


def guide_example() -> str:
    """docs/guide.md's webhook handler test, verbatim: only the plugin's fixtures."""
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Testing your webhook handler") :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


WEBHOOK_RETRY_TEST = guide_example()

TAMPERED_WEBHOOK_TEST = """
def test_a_delivery_altered_on_the_way(o2o, o2o_webhooks):
    o2o_webhooks.receiver.tamper = lambda body, headers: (body.replace(b"}", b" }", 1), headers)
    o2o.campaign()
    assert o2o_webhooks.received() == []
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


def test_the_in_process_service_keeps_its_ttls_whatever_the_environment_says(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, seconds in (("O2O_ORDER_TTL", 60), ("O2O_QR_TOKEN_TTL", 30)):
        monkeypatch.setenv(name, str(seconds))
    monkeypatch.setenv("O2O_PAYMENT_CODE_TTL", "10")
    pytester.makepyfile(test_ttls=DOCUMENTED_TTLS_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_o2o_test_url_sends_the_fixtures_to_a_live_service(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_TEST_URL", "http://127.0.0.1:9")  # nothing listens: it must fail
    monkeypatch.setenv("O2O_TEST_ADMIN_KEY", "any-key")
    pytester.makepyfile(test_flow=FLOW_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Connection refused*"])


def test_importing_the_plugin_loads_neither_pytest_nor_flask_nor_the_app() -> None:
    code = (
        "import sys, o2o.testing.plugin; "
        "print(sorted(m for m in ('pytest', 'flask', 'sqlalchemy', 'o2o.client', 'o2o.api') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_project_proves_its_webhook_handler_copes_with_a_retry_in_process(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_webhooks=WEBHOOK_RETRY_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_same_webhook_retry_test_passes_against_a_live_server_and_its_worker(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_webhooks=WEBHOOK_RETRY_TEST)
    admin = "live-admin-key"
    settings = {"O2O_SANDBOX": "1", "O2O_ADMIN_KEY": admin, "O2O_WORKER_POLL_SECONDS": "0.1"}
    with live_server(tmp_path, seed=False, **settings) as url:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--o2o-url={url}", f"--o2o-admin-key={admin}"
        )
    result.assert_outcomes(passed=1)


def test_the_webhooks_fixture_errors_a_test_whose_delivery_fails_verification(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_tampered=TAMPERED_WEBHOOK_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*o2o_webhooks: 1 delivery(ies) failed signature verification*"])
