"""Before timing: a throwaway database, its schema, and checkouts made ready through o2o.client."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat, zip_longest
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from o2o import create_app
from o2o.client import InProcess, Service, amount_off
from o2o.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Database:
    url: str
    description: str


def _postgres_answers(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
    except ImportError:  # no psycopg
        return False
    try:
        with engine.connect():
            return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _base_url(sqlite: bool) -> tuple[str | None, str]:
    """The PostgreSQL server to create the database on, and why; None means SQLite."""
    if sqlite:
        return None, "--sqlite"
    for var in ("O2O_BENCH_DATABASE_URL", "O2O_TEST_DATABASE_URL"):
        if os.environ.get(var):
            return os.environ[var], var
    if _postgres_answers(DEFAULT_PG):
        return DEFAULT_PG, f"default {DEFAULT_PG}"
    return None, "no PostgreSQL: set O2O_BENCH_DATABASE_URL or O2O_TEST_DATABASE_URL"


@contextmanager
def bench_database(sqlite: bool = False) -> Iterator[Database]:
    """A fresh PostgreSQL database (dropped at the end, even on failure), else a SQLite file."""
    base, source = _base_url(sqlite)
    if base is None:
        with tempfile.TemporaryDirectory(prefix="o2o_bench_") as tmp:
            yield Database(f"sqlite:///{tmp}/bench.sqlite3", f"SQLite temp file ({source})")
        return
    name = f"o2o_bench_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar()).split()[0]
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(base).set(database=name)
            where = f"PostgreSQL {version} at {url.host}:{url.port} (from {source})"
            yield Database(url.render_as_string(hide_password=False), f"{where}, database {name}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def migrate(env: dict[str, str]) -> None:
    """`o2o db upgrade` against the bench database, as an operator would run it."""
    command = [str(Path(sys.executable).with_name("o2o")), "db", "upgrade"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"o2o db upgrade failed:\n{done.stdout}{done.stderr}")


# One app per preparation process (spawned), built by the pool's initializer.
_worker: dict[str, Service] = {}


def _init_worker(config: dict[str, Any]) -> None:
    _worker["service"] = Service(
        InProcess(create_app(config).test_client()), config["O2O_ADMIN_KEY"]
    )


def _shopper_batch(coupons: int, campaign_id: str) -> list[tuple[str, str]]:
    """A new shopper claims `coupons` coupons; a QR token and a payment code for each."""
    shopper = _worker["service"].shopper("Bench shopper")
    pairs = []
    for _ in range(coupons):
        coupon = shopper.claim(campaign_id)
        pairs.append((shopper.show_qr(coupon), shopper.payment_code()))
    return pairs


@dataclass(frozen=True)
class Prepared:
    clerk_key: str
    pairs: list[tuple[str, str]]  # (qr_token, auth_code), both the same shopper's
    shoppers: int
    seconds: float


def prepare(config: dict[str, Any], checkouts: int, per_shopper: int, processes: int) -> Prepared:
    """A store, its clerk, a ¥50-off-¥300 campaign and `checkouts` ready (token, code) pairs."""
    started = time.perf_counter()
    app = create_app(config)
    service = Service(InProcess(app.test_client()), config["O2O_ADMIN_KEY"])
    clerk = service.clerk(service.store("Bench", "Hangzhou"), "Bench clerk")
    campaign_id = service.campaign(
        name="Bench ¥50 off ¥300",
        discount=amount_off(5000, min_spend=30000),
        total_quantity=checkouts,
        per_shopper_limit=per_shopper,
        valid_days_after_claim=30,
    ).id
    with app.app_context():
        db.engine.dispose()
    batches = [min(per_shopper, checkouts - n) for n in range(0, checkouts, per_shopper)]
    # Spawned processes, each with its own app and engine: preparation is CPU-bound in Flask.
    pool = ProcessPoolExecutor(
        processes, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(config,)
    )
    try:
        per_shopper_pairs = list(pool.map(_shopper_batch, batches, repeat(campaign_id)))
    finally:
        pool.shutdown(cancel_futures=True)  # on failure or SIGTERM, skip the batches not started
    # Round-robin over shoppers, so concurrent checkouts belong to different shoppers.
    pairs = [p for group in zip_longest(*per_shopper_pairs) for p in group if p is not None]
    return Prepared(clerk.key, pairs, len(batches), time.perf_counter() - started)
