"""What the worker tests share: an event the service writes, and `o2o worker` processes started
with pinned settings and stopped by pid."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask

from o2o.client import InProcess, Service
from tests.builders import ADMIN_KEY
from tests.live import subprocess_environment

WAIT_BOUND = 30.0  # seconds


def campaign_event(caller: Service) -> str:
    """Make a campaign through the API; the id of the `campaign.created` event it wrote."""
    campaign = caller.campaign()
    listed = caller.get("/events?type=campaign.created&limit=200")["items"]
    (event,) = [e for e in listed if e["data"]["object"]["id"] == campaign.id]
    return str(event["id"])


def worker_environment(database_url: str, **env: str) -> dict[str, str]:
    """An `o2o worker`'s environment: the pinned settings in sandbox mode, fast polling."""
    return subprocess_environment(
        O2O_DATABASE_URL=database_url,
        O2O_SANDBOX="1",
        O2O_WORKER_POLL_SECONDS="0.05",
        PYTHONUNBUFFERED="1",
        **env,
    )


def start_worker(workdir: Path, environment: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    """`python -m o2o worker`, its output in workdir/<name>.log."""
    log = (workdir / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "o2o", "worker"],
        env=environment,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def admin(app: Flask) -> Service:
    """The pinned admin of an app in process."""
    return Service(InProcess(app.test_client()), ADMIN_KEY)


def wait_for_lock(path: Path, process: subprocess.Popen[bytes]) -> None:
    """Until `process` holds the SQLite worker lock (it writes its pid into the file)."""
    done = threading.Event()
    for _ in range(int(WAIT_BOUND / 0.05)):
        if path.exists() and path.read_text().strip() == str(process.pid):
            return
        assert process.poll() is None, f"the worker exited with {process.returncode}"
        done.wait(0.05)
    raise AssertionError("the worker never took its lock")
