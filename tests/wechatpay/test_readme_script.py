"""The README's merchant script — the official SDK, one line pointing it here — pays, queries and
refunds against a live `o2o run` seeded as `make run` seeds it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.live import live_server, subprocess_environment

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Paying through WeChat Pay's own SDK: the APIv3 sandbox"


def readme_script() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(HEADING, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README lost its merchant script"
    return found.group(1)


def test_the_readme_merchant_script_pays_queries_and_refunds_against_make_run(
    tmp_path: Path,
) -> None:
    script = readme_script()
    assert 'BASE, SHOPPER = "http://127.0.0.1:5000"' in script
    with live_server(tmp_path) as base:
        run = subprocess.run(
            [sys.executable, "-c", script.replace("http://127.0.0.1:5000", base)],
            cwd=ROOT,  # the script opens sample_data/… as a merchant in the checkout would
            env=subprocess_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr
    query, refund = run.stdout.strip().splitlines()
    assert query.startswith("(200, ")
    assert '"trade_state":"SUCCESS"' in query
    assert refund.startswith("(200, ")
    assert '"status":"SUCCESS"' in refund
