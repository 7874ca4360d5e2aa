"""The o2o pytest plugin (entry point `pytest11`): its options, and the fixtures registered late.

Every pytest run of every project that installs o2o imports this module, so it imports nothing
costly (neither pytest, Flask nor the app): the fixtures live in `o2o.testing.fixtures`, which
`pytest_configure` registers. With `--o2o-url URL` (or O2O_TEST_URL) the fixtures reach a live
service started with O2O_SANDBOX=1; `--o2o-admin-key` (or O2O_TEST_ADMIN_KEY) gives its admin key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--o2o-url` and `--o2o-admin-key`, defaulting from the environment."""
    group = parser.getgroup("o2o", "O2O coupon-and-payment service")
    group.addoption(
        "--o2o-url",
        default=os.environ.get("O2O_TEST_URL"),
        help="run o2o flow tests against this live service instead of in process",
    )
    group.addoption(
        "--o2o-admin-key",
        default=os.environ.get("O2O_TEST_ADMIN_KEY", os.environ.get("O2O_ADMIN_KEY")),
        help="admin API key of the live service",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the fixtures (o2o, o2o_admin, o2o_clock, o2o_app) now that pytest runs."""
    from o2o.testing import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "o2o.testing.fixtures")
