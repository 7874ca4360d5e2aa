"""What the worker tests share: an event written the way a use case writes it, and processes
(`o2o worker`, a live server) started with pinned settings and stopped by pid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from o2o import store
from o2o.events import record
from o2o.extensions import db
from o2o.models import Campaign
from o2o.vocabulary import EventType
from tests.live import subprocess_environment


def campaign_created(app: Flask, campaign_id: str) -> str:
    """Write the campaign's `campaign.created` event and commit it, as its use case does; its id."""
    with app.app_context():
        event = record(EventType.CAMPAIGN_CREATED, db.session.get_one(Campaign, campaign_id))
        event_id = event.id
        store.commit()
    return event_id


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


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop one process by its pid (SIGTERM, then SIGKILL if it will not go); its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return int(process.returncode)
