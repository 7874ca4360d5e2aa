"""A short `make soak` in the suite: keyed checkouts on PostgreSQL under gunicorn while
workers are killed with -9 (and the master once); every promise checked against the
database (loadtest/soak.py)."""

from __future__ import annotations

from collections.abc import Callable

from loadtest import soak
from tests.live import free_port

BROKEN_PROMISES = dict.fromkeys(soak.VIOLATIONS, 0)


def test_killing_workers_under_keyed_checkouts_breaks_no_promise(
    postgres_server: Callable[[], str],
) -> None:
    arguments = ["--seconds", "12", "--clients", "4", "--workers", "2", "--kill-every", "0.7"]
    arguments += ["--master-kills", "1", "--port", str(free_port())]
    arguments += ["--database-url", postgres_server()]

    figures = soak.soak(soak.parser().parse_args(arguments))

    assert {name: figures[name] for name in soak.VIOLATIONS} == BROKEN_PROMISES
    assert figures["worker kills"] >= 3
    assert figures["master kills"] == 1
    assert figures["checkouts"] >= 10
