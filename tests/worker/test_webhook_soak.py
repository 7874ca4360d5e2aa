"""A bounded soak: full checkouts through gunicorn on PostgreSQL while one of two `o2o worker`
processes is killed with -9 again and again and restarted; at the end every event written has
been delivered at least once. The figures (events written, delivered, duplicates) are printed.

O2O_TEST_WEBHOOK_SOAK_SECONDS sets how long the checkouts run (default 12; CI keeps it short).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from o2o.client import OverHttp, Service
from o2o.extensions import db
from o2o.simulation.webhooks import all_events
from o2o.testing.webhooks import Receiver
from tests.builders import ADMIN_KEY
from tests.live import gunicorn_server, stop
from tests.worker.support import start_worker, worker_environment

SECONDS = float(os.environ.get("O2O_TEST_WEBHOOK_SOAK_SECONDS") or 12)
KILL_EVERY = 1.2  # seconds between kills of the doomed worker
LEASE = "2"
DRAIN_BOUND = 60.0  # after the load: every event delivered within this


def verified(receiver: Receiver) -> list[str]:
    """The webhook-id of every verified arrival, in order."""
    return [d.webhook_id for d in receiver.deliveries() if d.verified]


def checkouts(base: str, stopping: threading.Event, done: list[int], errors: list[str]) -> None:
    """Full in-store purchases, one after another, until `stopping`."""
    try:
        _checkouts(base, stopping, done)
    except Exception as exc:  # the test reports it
        errors.append(repr(exc))


def _checkouts(base: str, stopping: threading.Event, done: list[int]) -> None:
    o2o = Service(OverHttp(base), ADMIN_KEY)
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    campaign = o2o.campaign(total_quantity=100_000, per_shopper_limit=1000)
    while not stopping.is_set():
        coupon = shopper.claim(campaign)
        order = clerk.checkout(39900, qr=shopper.show_qr(coupon))
        assert clerk.take_payment(order, shopper.payment_code()).status == "succeeded"
        done[0] += 1


def test_no_event_is_lost_while_a_worker_is_killed_again_and_again(
    tmp_path: Path, postgres_server: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server()
    engine = create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    environment = worker_environment(
        url, O2O_WEBHOOK_LEASE_SECONDS=LEASE, O2O_WEBHOOK_TIMEOUT="1.5"
    )
    stopping, done, kills = threading.Event(), [0], 0
    errors: list[str] = []
    with Receiver() as receiver, gunicorn_server(url, tmp_path, workers=2) as base:
        admin = Service(OverHttp(base), ADMIN_KEY)
        created = admin.post("/webhook-endpoints", {"url": receiver.url, "events": ["*"]})
        receiver.secrets.append(created["secret"])
        steady = start_worker(tmp_path, environment, "steady")
        doomed = start_worker(tmp_path, environment, "doomed-0")
        load = threading.Thread(target=checkouts, args=(base, stopping, done, errors), daemon=True)
        try:
            load.start()
            deadline = threading.Event()
            threading.Timer(SECONDS, deadline.set).start()
            while not deadline.wait(KILL_EVERY):
                doomed.kill()
                doomed.wait(timeout=10)
                kills += 1
                doomed = start_worker(tmp_path, environment, f"doomed-{kills}")
            stopping.set()
            load.join(timeout=30)

            written = set(all_events(admin))
            drained = receiver.wait_until(lambda: written <= set(verified(receiver)), DRAIN_BOUND)
        finally:
            stopping.set()
            codes = [stop(steady), stop(doomed)]

    arrivals = Counter(verified(receiver))
    lost = written - set(arrivals)
    figures = {
        "checkouts": done[0],
        "worker kills": kills,
        "events written": len(written),
        "events delivered": len(written) - len(lost),
        "deliveries": sum(arrivals.values()),
        "duplicates": sum(n - 1 for n in arrivals.values()),
        "lost": len(lost),
    }
    with capsys.disabled():
        sys.stdout.write("\nwebhook soak: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
        sys.stdout.write("\n")
    assert errors == []
    assert drained, f"not every event delivered within {DRAIN_BOUND} s: {figures}"
    assert lost == set()
    assert receiver.rejected() == []
    assert codes == [0, 0]  # SIGTERM: both finished what they held and exited cleanly
    assert kills >= 3
    assert done[0] >= 10
