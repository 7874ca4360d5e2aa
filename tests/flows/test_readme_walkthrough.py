"""The README's curl walk-through works as written, against a live `o2o run` server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
O2O = str(Path(sys.executable).with_name("o2o"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """`o2o db upgrade`, `o2o seed`, `o2o run` on a fresh SQLite file; stopped afterwards."""
    env = {**os.environ, "O2O_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.sqlite3'}"}
    env.pop("O2O_SANDBOX", None)
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([O2O, *command], env=env, check=True, capture_output=True, cwd=tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [O2O, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_readme_walkthrough_runs_as_written(live_server: str, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A walk through") : readme.index("## Configuration")]
    script = "\n".join(re.findall(r"```sh\n(.*?)```", section, re.S))
    script = script.replace("http://127.0.0.1:5000", live_server)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
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
