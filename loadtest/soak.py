"""`make soak`: full checkouts with keyed retries while gunicorn workers are killed with -9.

A throwaway PostgreSQL database (or `--database-url`) is migrated and served by gunicorn
(`gunicorn.conf.py`, sandbox mode). Client threads each run checkouts — claim, QR token,
order, payment code, clerk_scan payment — and send every POST with an Idempotency-Key,
retrying with the same key until an answer comes. Meanwhile a killer sends SIGKILL to a
random worker every `--kill-every` seconds, and to the master `--master-kills` times (the
server is then started again on the same port). Bounded by `--seconds`. At the end the
database is checked against what the clients heard:

- double executions: a claim, order or payment key that made more than one row;
- paid payments answered as failures: a payment key answered with anything but 201;
- lost payments: a 201 payment the database does not hold as succeeded;
- ghost reservations: a coupon reserved by an order no client was told of.

Prints the figures and exits 1 if any is not 0. Usage:
    python -m loadtest.soak --seconds 60 --clients 6
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from o2o.client.transport import OverHttp, Reply

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "gunicorn.conf.py"
ADMIN_KEY = "soak-admin-key"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ANSWER_WITHIN = 60.0  # seconds a client keeps retrying one request


@dataclass
class Tally:
    """What the clients heard, by Idempotency-Key, and how hard it was to hear it."""

    answers: dict[str, Reply] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[name] += amount


class Server:
    """gunicorn on one port, restartable after its master is killed."""

    def __init__(self, database_url: str, port: int, workers: int) -> None:
        self.port, self.workers = port, workers
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("O2O_", "FLASK_"))},
            "O2O_DATABASE_URL": database_url,
            "O2O_SANDBOX": "1",
            "O2O_ADMIN_KEY": ADMIN_KEY,
            "O2O_SECRET_KEY": "soak-secret",
            "PORT": str(port),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", str(CONF)]
        command += ["--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(
            [*command, "o2o:create_app()"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def workers_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_master(self) -> None:
        assert self.process is not None
        children = self.workers_pids()
        self.process.kill()
        self.process.wait(timeout=10)
        for pid in children:  # orphans notice their parent is gone; make sure
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def answered(tally: Tally, send: Callable[[], Reply]) -> Reply:
    """Send until a reply is heard (a killed worker resets the connection)."""
    deadline = time.monotonic() + ANSWER_WITHIN
    while True:
        try:
            reply = send()
            if reply.status not in (502, 503):
                return reply
        except (OSError, http.client.HTTPException):  # reset, or cut off mid-answer
            pass
        tally.add("retries")
        if time.monotonic() > deadline:
            raise RuntimeError("no answer within the deadline")
        time.sleep(0.05)


def keyed(tally: Tally, http: OverHttp, kind: str, path: str, key: str, body: Any) -> Reply:
    """A POST under a fresh Idempotency-Key, retried until answered; what it heard is kept."""
    idem = f"{kind}-{uuid.uuid4()}"
    headers = {"Idempotency-Key": idem}
    reply = answered(tally, lambda: http.request("POST", path, key, body, headers))
    with tally.lock:
        tally.answers[idem], tally.kinds[idem] = reply, kind
    return reply


def checkout(tally: Tally, http: OverHttp, world: dict[str, Any], shopper: dict[str, Any]) -> None:
    clerk = random.choice(world["clerks"])
    path = f"/campaigns/{world['campaign']}/claims"
    claim = keyed(tally, http, "claim", path, shopper["api_key"], {})
    if claim.status != 201:
        tally.add(f"claim answered {claim.status}")
        return
    code = claim.body["code"]
    qr = answered(
        tally, lambda: http.request("GET", f"/coupons/{code}/qr-token", shopper["api_key"])
    )
    body = {"amount": 39900, "qr_token": qr.body["token"]}
    order = keyed(tally, http, "order", "/orders", clerk["api_key"], body)
    if order.status != 201:
        tally.add(f"order answered {order.status}")
        return
    payment_code = answered(
        tally, lambda: http.request("GET", "/me/payment-code", shopper["api_key"])
    )
    pay = {
        "method": "wechat_pay",
        "flow": "clerk_scan",
        "auth_code": payment_code.body["auth_code"],
    }
    path = f"/orders/{order.body['id']}/payments"
    keyed(tally, http, "payment", path, clerk["api_key"], pay)
    tally.add("checkouts")


def build_world(http: OverHttp, clients: int) -> dict[str, Any]:
    def made(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = http.request("POST", path, ADMIN_KEY, body)
        assert reply.status == 201, reply.body
        result: dict[str, Any] = reply.body
        return result

    stores = [made("/stores", {"name": f"Soak {n}", "city": "Hangzhou"}) for n in range(3)]
    clerks = [made("/clerks", {"name": "Clerk", "store_id": s["id"]}) for s in stores]
    campaign = made(
        "/campaigns",
        {
            "name": "Soak",
            "discount": {"type": "amount_off", "amount_off": 5000, "min_spend": 30000},
            "total_quantity": 1_000_000,
            "per_shopper_limit": 1000,
            "valid_days_after_claim": 30,
        },
    )
    shoppers = [made("/shoppers", {"name": f"Shopper {n}"}) for n in range(clients)]
    return {"clerks": clerks, "campaign": campaign["id"], "shoppers": shoppers}


def kill_workers(
    server: Server, tally: Tally, args: argparse.Namespace, stop: threading.Event
) -> None:
    master_kills_at = sorted(
        random.uniform(args.seconds * 0.2, args.seconds * 0.8) for _ in range(args.master_kills)
    )
    started = time.monotonic()
    while not stop.wait(random.uniform(0.5, 1.5) * args.kill_every):
        if master_kills_at and time.monotonic() - started > master_kills_at[0]:
            master_kills_at.pop(0)
            server.kill_master()
            tally.add("master kills")
            server.start()
            continue
        pids = server.workers_pids()
        if pids:
            try:
                os.kill(random.choice(pids), signal.SIGKILL)
                tally.add("worker kills")
            except ProcessLookupError:
                pass


def verify(database_url: str, tally: Tally) -> dict[str, int]:
    """The database against what the clients heard."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        coupons = int(connection.scalar(text("SELECT count(*) FROM coupons")) or 0)
        orders = {row[0] for row in connection.execute(text("SELECT id FROM orders"))}
        paid: dict[str, str] = {
            row[0]: row[1] for row in connection.execute(text("SELECT id, status FROM payments"))
        }
        reserved = connection.execute(
            text("SELECT order_id FROM coupons WHERE status = 'reserved'")
        ).all()
    engine.dispose()
    created = Counter(
        tally.kinds[idem] for idem, reply in tally.answers.items() if reply.status == 201
    )
    seen_orders = {
        reply.body["id"]
        for idem, reply in tally.answers.items()
        if tally.kinds[idem] == "order" and reply.status == 201
    }
    payments = [r for i, r in tally.answers.items() if tally.kinds[i] == "payment"]
    return {
        "double executions": max(0, coupons - created["claim"])
        + max(0, len(orders) - created["order"])
        + max(0, len(paid) - created["payment"]),
        "answers without their row": max(0, created["claim"] - coupons)
        + max(0, created["order"] - len(orders))
        + max(0, created["payment"] - len(paid)),
        "paid payments answered as failures": sum(1 for r in payments if r.status != 201),
        "lost payments": sum(
            1 for r in payments if r.status == 201 and paid.get(r.body["id"]) != "succeeded"
        ),
        "ghost reservations": sum(1 for (order_id,) in reserved if order_id not in seen_orders),
    }


@contextmanager
def throwaway_database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    name = f"o2o_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def soak(args: argparse.Namespace) -> dict[str, int]:
    with throwaway_database(args.database_url) as database_url:
        server = Server(database_url, args.port, args.workers)
        migrate = [str(Path(sys.executable).with_name("o2o")), "db", "upgrade"]
        subprocess.run(migrate, env=server.env, cwd=ROOT, check=True, capture_output=True)
        server.start()
        try:
            http = OverHttp(f"http://127.0.0.1:{args.port}", timeout=30)
            world = build_world(http, args.clients)
            tally, stop = Tally(), threading.Event()
            deadline = time.monotonic() + args.seconds

            def client(shopper: dict[str, Any]) -> None:
                while time.monotonic() < deadline:
                    checkout(tally, http, world, shopper)

            threads = [threading.Thread(target=client, args=(s,)) for s in world["shoppers"]]
            killer = threading.Thread(target=kill_workers, args=(server, tally, args, stop))
            for thread in [*threads, killer]:
                thread.start()
            for thread in threads:
                thread.join()
            stop.set()
            killer.join()
        finally:
            server.stop()
        figures = dict(tally.counts) | verify(database_url, tally)
    return figures


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=1.0, help="seconds between kills")
    parser.add_argument("--master-kills", type=int, default=2)
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--database-url", help="default: a throwaway PostgreSQL database")
    return parser


def main(argv: list[str] | None = None) -> int:
    figures = soak(parser().parse_args(argv))
    width = max(len(name) for name in figures)
    for name, value in sorted(figures.items()):
        print(f"{name:<{width}}  {value}")  # noqa: T201
    broken = [name for name in VIOLATIONS if figures.get(name)]
    return 1 if broken else 0


VIOLATIONS = (
    "double executions",
    "answers without their row",
    "paid payments answered as failures",
    "lost payments",
    "ghost reservations",
)

if __name__ == "__main__":
    sys.exit(main())
