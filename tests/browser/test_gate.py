"""Without Chromium the browser tests skip with the reason, or fail when CI requires them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import support


def test_a_missing_chromium_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(support, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(support, "REQUIRE", False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        support.require_browser()


def test_a_missing_chromium_fails_when_o2o_require_browser_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(support, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(support, "REQUIRE", True)
    with pytest.raises(pytest.fail.Exception, match="O2O_REQUIRE_BROWSER=1"):
        support.require_browser()
