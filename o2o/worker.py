"""The delivery loop: attempts of every delivery channel (webhooks, and those packages register)
and housekeeping's sweep, for `o2o worker` and `o2o run`.

It lives above both o2o.services (the sweep) and o2o.events (the delivery engine), beside the
CLI that runs it: o2o.events stands below the use cases and may not import them, and a module of
o2o.services is one use case per function, which a loop is not. One tick is one
`delivery.run_once()` in an app context of its own, so each tick reads the clock afresh and gets
a fresh session; the poll interval is slept only when a tick found nothing to do.

On PostgreSQL any number of loops share the work (the engine claims with SKIP LOCKED and a
lease). On SQLite one loop per database: `sole_sqlite_worker()` takes an exclusive lock on a
file beside the database, which the kernel drops when the process ends, `kill -9` included.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from o2o.events import delivery
from o2o.services.housekeeping import sweep

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("o2o.worker")

# After each request, as many ticks as it takes (bounded): a burst of events fans out and goes.
MAX_TICKS_AFTER_REQUEST = 50


class WorkerRefused(RuntimeError):
    """Another loop already delivers for this SQLite database."""


def new_worker_id() -> str:
    """hostname:pid:random — unique across machines, processes and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class DeliveryLoop:
    """Ticks until stopped: deliver what is due, sweep every O2O_WORKER_SWEEP_SECONDS."""

    def __init__(self, app: Flask, worker_id: str | None = None) -> None:
        self.app = app
        self.worker_id = worker_id or new_worker_id()
        self.stopping = threading.Event()
        self.poll_seconds = float(app.config["O2O_WORKER_POLL_SECONDS"])
        self.sweep_seconds = float(app.config["O2O_WORKER_SWEEP_SECONDS"])
        self.delivered = 0
        self._next_sweep = time.monotonic()

    def stop(self) -> None:
        """Claim nothing more; the tick under way finishes the attempts it holds."""
        self.stopping.set()

    def run(self) -> None:
        """Tick until `stop()`; sleep the poll interval only after a tick that did nothing."""
        while not self.stopping.is_set():
            if not self.tick():
                self.stopping.wait(self.poll_seconds)

    def tick(self) -> int:
        """One round in an app context of its own: the sweep when due, then one run_once.
        A failure (the database away, say) is logged and the loop carries on."""
        done = 0
        with self.app.app_context():
            try:
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + self.sweep_seconds
                    done += sweep()
                delivered = delivery.run_once(self.worker_id)
                self.delivered += delivered
                done += delivered
            except Exception:  # the app context's end rolls the session back
                log.exception("delivery tick failed; retrying after %s s", self.poll_seconds)
                return 0
        return done


def sqlite_lock_path(app: Flask) -> Path | None:
    """The lock file beside the app's SQLite database; None for another database (or memory)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.worker.lock")


@contextmanager
def sole_sqlite_worker(app: Flask) -> Iterator[None]:
    """Hold the SQLite database's worker lock for the block; WorkerRefused if another holds it.
    PostgreSQL needs no lock (its workers share the work)."""
    path = sqlite_lock_path(app)
    if path is None:
        yield
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 64, 0).decode(errors="replace").strip() or "?"
            raise WorkerRefused(
                f"Another worker (pid {holder}: `o2o worker`, or the loop of `o2o run`) already "
                f"delivers for the SQLite database {path.with_suffix('').with_suffix('')}. "
                "On SQLite one worker at a time: stop that one first, or use PostgreSQL to run "
                "several."
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock; so does the process's death


def start_embedded(app: Flask) -> DeliveryLoop | None:
    """Start the delivery loop in a daemon thread of this process (`o2o run`); None when a
    worker already holds this SQLite database (that worker delivers instead)."""
    loop = DeliveryLoop(app)
    ready = threading.Event()
    refused: list[WorkerRefused] = []

    def serve() -> None:
        try:
            with sole_sqlite_worker(app):
                ready.set()
                loop.run()
        except WorkerRefused as exc:
            refused.append(exc)
            ready.set()

    threading.Thread(target=serve, name="o2o-delivery", daemon=True).start()
    ready.wait()
    if refused:
        log.warning("no embedded delivery loop: %s", refused[0])
        return None
    return loop


def deliver_pending(app: Flask, max_ticks: int = MAX_TICKS_AFTER_REQUEST) -> int:
    """Tick in a fresh app context until nothing is left to do now, at most `max_ticks` times;
    the work done."""
    delivered = 0
    worker_id = f"in-process:{os.getpid()}"
    for _ in range(max_ticks):
        with app.app_context():
            done = delivery.run_once(worker_id)
        if not done:
            break
        delivered += done
    return delivered


def install(app: Flask) -> None:
    """With O2O_DELIVER_AFTER_REQUEST on (read per request, so a test may switch it), deliver
    once each request's work has committed: in-process tests get their webhooks at once."""

    @app.teardown_request
    def _deliver_after_request(error: BaseException | None) -> None:
        if error is None and app.config.get("O2O_DELIVER_AFTER_REQUEST"):
            deliver_pending(app)
