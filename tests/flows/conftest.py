"""The service's own flow tests run in process, whatever O2O_TEST_URL a shell exports, and every
exchange of theirs is checked against the OpenAPI spec (tests/contract/exchanges.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import build_app
from tests.contract.exchanges import SPEC_PATH, Contract

# Every flow test's exchanges, counted over the session (reported at its end).
TOTALS = {"validated": 0, "mismatches": 0}


@pytest.fixture
def o2o_url() -> None:
    """Pin the plugin's fixtures in process (the plugin's own live mode is tested in pytester)."""
    return None


@pytest.fixture(scope="session")
def served_contract() -> Contract:
    """The spec as the app serves it, the sandbox's operations included."""
    return Contract.of(build_app("sqlite://").test_client().get(SPEC_PATH).get_json())


@pytest.fixture
def contract(served_contract: Contract) -> Contract:
    """This test's exchanges, checked against the served spec."""
    return served_contract.fresh()


@pytest.fixture
def app(app: Flask, contract: Contract) -> Iterator[Flask]:
    """The suite's app, whose test clients check each exchange; a mismatch fails the test."""
    app.test_client_class = contract.client_class()
    yield app
    TOTALS["validated"] += contract.validated
    TOTALS["mismatches"] += len(contract.mismatches)
    assert not contract.mismatches, "off the OpenAPI spec:\n" + "\n".join(contract.mismatches)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TOTALS["validated"]:
        terminalreporter.write_line(
            f"openapi-core: {TOTALS['validated']} exchanges of the flow tests validated against "
            f"the spec, {TOTALS['mismatches']} mismatches"
        )
