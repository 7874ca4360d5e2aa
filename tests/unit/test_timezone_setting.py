"""O2O_TIMEZONE, the stores' local time for day statements, is checked when the app starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2o.config import build_config


def test_the_timezone_defaults_to_hangzhous(tmp_path: Path) -> None:
    assert build_config(str(tmp_path), environ={})["O2O_TIMEZONE"] == "Asia/Shanghai"


def test_a_known_timezone_is_taken(tmp_path: Path) -> None:
    config = build_config(str(tmp_path), environ={"O2O_TIMEZONE": "Europe/Berlin"})
    assert config["O2O_TIMEZONE"] == "Europe/Berlin"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "UTC+8"])
def test_an_unknown_timezone_stops_the_app_from_starting(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="O2O_TIMEZONE"):
        build_config(str(tmp_path), environ={"O2O_TIMEZONE": name})
