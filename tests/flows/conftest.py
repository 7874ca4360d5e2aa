"""The service's own flow tests run in process, whatever O2O_TEST_URL a shell exports."""

from __future__ import annotations

import pytest


@pytest.fixture
def o2o_url() -> None:
    """Pin the plugin's fixtures in process (the plugin's own live mode is tested in pytester)."""
    return None
