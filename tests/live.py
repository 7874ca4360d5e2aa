"""A live `o2o run` server on 127.0.0.1 for tests that cross a real socket; always stopped.

The server runs on a SQLite file (it is a subprocess: the suite's databases are in-process).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.builders import PINNED_SETTINGS

O2O = str(Path(sys.executable).with_name("o2o"))
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"

# What an `o2o` subprocess is given: the pinned settings (the admin key excepted: the seeded
# sample brings its own), never the O2O_* or FLASK_* variables the caller happens to export.
PINNED_ENVIRONMENT = {
    name: str(int(value)) if isinstance(value, bool) else str(value)
    for name, value in PINNED_SETTINGS.items()
    if name != "O2O_ADMIN_KEY"
} | {"O2O_SANDBOX": "0"}


def subprocess_environment(**env: str) -> dict[str, str]:
    """os.environ for PATH and the like, minus inherited O2O_*/FLASK_*, plus the pinned ones."""
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith(("O2O_", "FLASK_"))
    }
    return {**inherited, **PINNED_ENVIRONMENT, **env}


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    command: list[str], environment: dict[str, str], workdir: Path, port: int
) -> Iterator[str]:
    """Start a server process, wait (bounded) until /healthz answers, yield its base URL,
    stop it by pid (killed if it will not stop)."""
    server = subprocess.Popen(
        command, env=environment, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        stop(server)


@contextmanager
def live_server(workdir: Path, seed: bool = True, **env: str) -> Iterator[str]:
    """Migrate (and seed) a fresh SQLite file, serve it, yield the base URL, stop the server."""
    environment = subprocess_environment(
        O2O_DATABASE_URL=f"sqlite:///{workdir / 'live.sqlite3'}", **env
    )
    commands = [["db", "upgrade"], *([["seed"]] if seed else [])]
    for command in commands:
        subprocess.run(
            [O2O, *command], env=environment, check=True, capture_output=True, cwd=workdir
        )
    port = free_port()
    command = [O2O, "run", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, environment, workdir, port) as base:
        yield base


@contextmanager
def gunicorn_server(
    database_url: str, workdir: Path, workers: int = 1, **env: str
) -> Iterator[str]:
    """Serve an already-migrated database with gunicorn and the shipped gunicorn.conf.py
    (sandbox mode, the pinned secret and admin key), yield the base URL, stop it by pid."""
    environment = subprocess_environment(
        O2O_DATABASE_URL=database_url,
        O2O_SANDBOX="1",
        O2O_ADMIN_KEY=str(PINNED_SETTINGS["O2O_ADMIN_KEY"]),
        **env,
    )
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)),
        *("--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2"),
    ]
    with serving(command, environment, workdir, port) as base:
        yield base
