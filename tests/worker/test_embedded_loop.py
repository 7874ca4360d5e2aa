"""`o2o run` delivers webhooks from a thread of its own (the two-command set-up needs nothing
else); O2O_EMBEDDED_WORKER=0 leaves delivery to `o2o worker`; under the reloader only the
serving child runs the loop. Real processes, bounded waits."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from o2o.client import OverHttp, Service
from o2o.testing.webhooks import Receiver
from tests.live import (
    O2O,
    free_port,
    gunicorn_server,
    live_server,
    serving,
    stop,
    subprocess_environment,
)
from tests.worker.support import (
    campaign_event,
    start_worker,
    wait_for_lock,
    worker_environment,
)

ADMIN = "embedded-admin-key"
BOUND = 30.0


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'live.sqlite3'}"  # tests.live's file


def register(base: str, receiver: Receiver) -> None:
    created = Service(OverHttp(base), ADMIN).post(
        "/webhook-endpoints", {"url": receiver.url, "events": ["*"]}
    )
    receiver.secrets.append(created["secret"])


def test_o2o_run_delivers_a_webhook_with_no_other_process(tmp_path: Path) -> None:
    settings = {"O2O_SANDBOX": "1", "O2O_ADMIN_KEY": ADMIN, "O2O_WORKER_POLL_SECONDS": "0.05"}
    with Receiver() as receiver, live_server(tmp_path, seed=False, **settings) as base:
        register(base, receiver)
        event_id = campaign_event(Service(OverHttp(base), ADMIN))

        assert receiver.wait_until(lambda: bool(receiver.received()), BOUND)

    assert [event["id"] for event in receiver.received()] == [event_id]
    assert receiver.rejected() == []


def worker_refused(workdir: Path) -> bool:
    """Whether an `o2o worker` on the live server's SQLite file is refused (the lock is held)."""
    done = subprocess.run(
        [sys.executable, "-m", "o2o", "worker"],
        env=worker_environment(sqlite_url(workdir)),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=BOUND,
        input="",
    )
    return done.returncode == 1 and "Another worker" in done.stderr


def test_o2o_run_holds_the_sqlite_worker_lock_so_a_separate_worker_is_refused(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path, seed=False, O2O_SANDBOX="1"):
        assert worker_refused(tmp_path)


def test_with_o2o_embedded_worker_0_a_separate_worker_delivers(tmp_path: Path) -> None:
    settings = {"O2O_SANDBOX": "1", "O2O_ADMIN_KEY": ADMIN, "O2O_EMBEDDED_WORKER": "0"}
    with Receiver() as receiver, live_server(tmp_path, seed=False, **settings) as base:
        register(base, receiver)
        worker = start_worker(tmp_path, worker_environment(sqlite_url(tmp_path)), "worker")
        try:
            event_id = campaign_event(Service(OverHttp(base), ADMIN))
            assert receiver.wait_until(lambda: bool(receiver.received()), BOUND)
        finally:
            assert stop(worker) == 0

    assert [event["id"] for event in receiver.received()] == [event_id]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_under_the_reloader_only_the_serving_child_runs_the_loop(tmp_path: Path) -> None:
    environment = subprocess_environment(O2O_DATABASE_URL=sqlite_url(tmp_path), O2O_SANDBOX="1")
    subprocess.run([O2O, "db", "upgrade"], env=environment, check=True, capture_output=True)
    port = free_port()
    command = [O2O, "run", "--reload", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, environment, tmp_path, port):
        holder = (tmp_path / "live.sqlite3.worker.lock").read_text().strip()
        status = Path(f"/proc/{holder}/status").read_text()
        parent = re.search(r"^PPid:\s+(\d+)$", status, re.MULTILINE)
        assert parent is not None
        parent_command = Path(f"/proc/{parent.group(1)}/cmdline").read_bytes().split(b"\0")
        assert worker_refused(tmp_path)

    # The lock's holder is the watcher's child (the server): the watcher started no loop.
    assert b"--reload" in parent_command


def test_gunicorn_starts_no_loop_so_a_worker_takes_the_sqlite_lock(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    environment = subprocess_environment(O2O_DATABASE_URL=url, O2O_SANDBOX="1")
    subprocess.run([O2O, "db", "upgrade"], env=environment, check=True, capture_output=True)
    with gunicorn_server(url, tmp_path, workers=2):
        worker = start_worker(tmp_path, worker_environment(url), "worker")
        try:
            wait_for_lock(tmp_path / "live.sqlite3.worker.lock", worker)
        finally:
            assert stop(worker) == 0
