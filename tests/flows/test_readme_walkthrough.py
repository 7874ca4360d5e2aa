"""The README's curl walk-through works as written, against a live `o2o run` server.

SQLite only: the README starts the server on its default SQLite file, and so does this test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import live_server, subprocess_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    """The server as the README starts it: seeded, not in sandbox mode, on a SQLite file."""
    with live_server(tmp_path, O2O_SANDBOX="0") as base:
        yield base


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_readme_walkthrough_runs_as_written_on_sqlite(live: str, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## A walk through")
    section = readme[start : readme.index("\n## ", start)]
    script = "\n".join(re.findall(r"```sh\n(.*?)```", section, re.S))
    script = script.replace("http://127.0.0.1:5000", live)
    for _ in range(3):  # again and again against the one server, as a reader would
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=subprocess_environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "paid" in lines
        assert "redeemed" in lines
        assert '"type":"redeemed"' in done.stdout.replace(" ", "")
        assert (tmp_path / "coupon.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("python3") is None, reason="the helper runs python3")
def test_the_walkthroughs_field_helper_prints_the_api_error_not_a_traceback() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    helper = re.search(r"^field\(\) \{.*?\}\s*$", readme, re.M | re.S)
    assert helper is not None
    error = '{"error": {"code": "campaign_exhausted", "message": "None left.", "details": {}}}'
    done = subprocess.run(
        ["bash", "-c", f"{helper.group(0)}\necho '{error}' | field '[\"code\"]'"],
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "API error:" in done.stderr
    assert "campaign_exhausted" in done.stderr
    assert "Traceback" not in done.stderr
