"""Before timing: a throwaway database, its schema, and checkouts made ready.

The stage (a store, its clerk, the campaign) is set through o2o.client, as an operator would
set it. The shoppers' side of each checkout (a shopper with a key, one claimed coupon, its QR
token and a live payment code) is made one of two ways:

- `bulk` (the default): seeded in this process before gunicorn starts, 500 shoppers to a
  transaction, from the same models and the services' own helpers (`add_api_key`,
  `Campaign.coupon_window`, `mint_qr_token`, `code_hash`): seconds. tests/test_bench.py
  checks that it writes the rows the API writes.
- `api`: request by request through o2o.client in parallel processes (four requests per
  checkout): minutes.

Either way the measured path (POST /orders, then its payment) is untouched: it runs later,
against gunicorn, from the load process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import CursorResult, create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from o2o import clock, create_app
from o2o.client import InProcess, Service, amount_off
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent, PaymentCode, Shopper
from o2o.principal import Principal
from o2o.services.accounts import add_api_key
from o2o.services.coupons import mint_qr_token
from o2o.services.payments.codes import code_hash
from o2o.tokens import new_api_key, new_coupon_code, new_id, new_payment_code
from o2o.vocabulary import CampaignStatus, ClaimChannel, CouponStatus, Role

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
METHODS = ("bulk", "api")
SHOPPER_NAME = "Bench shopper"
BULK_CHUNK = 500  # shoppers per transaction when seeding in bulk
API_CHUNK = 25  # shoppers per task of a preparation process

Pair = tuple[str, str]  # (qr_token, auth_code), both the same shopper's
Progress = Callable[[int], None]  # told how many more checkouts are ready


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


@dataclass(frozen=True)
class Prepared:
    clerk_key: str
    pairs: list[Pair]  # one per shopper: a shopper holds one live payment code at a time
    seconds: float
    method: str


def stage(app: Flask, admin_key: str, checkouts: int) -> tuple[str, str]:
    """Through o2o.client: a store, its clerk and a ¥50-off-¥300 campaign of `checkouts`
    coupons, one per shopper. Returns the clerk's key and the campaign's id."""
    service = Service(InProcess(app.test_client()), admin_key)
    clerk = service.clerk(service.store("Bench", "Hangzhou"), "Bench clerk")
    campaign = service.campaign(
        name="Bench ¥50 off ¥300",
        discount=amount_off(5000, min_spend=30000),
        total_quantity=checkouts,
        per_shopper_limit=1,
        valid_days_after_claim=30,
    )
    return clerk.key, campaign.id


def _seed_chunk(campaign_id: str, count: int) -> list[Pair]:
    """`count` shoppers in one transaction, each as POST /shoppers, POST /campaigns/{id}/claims
    (app channel), GET /coupons/{code}/qr-token and GET /me/payment-code leave them."""
    now = clock.now()
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign is not None
    blockers = campaign.claim_blockers(now)
    if blockers:
        raise RuntimeError(f"the bench campaign cannot be claimed: {blockers}")
    # The budget, as claim_coupon spends it (one conditional UPDATE), for the whole chunk.
    spent: CursorResult[object] = db.session.execute(  # type: ignore[assignment]
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.ACTIVE,
            Campaign.claimed_count + count <= Campaign.total_quantity,
        )
        .values(claimed_count=Campaign.claimed_count + count)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise RuntimeError("the bench campaign has fewer coupons left than shoppers to seed")
    valid_from, valid_until = campaign.coupon_window(now)
    shoppers = [
        Shopper(id=new_id("shp"), name=SHOPPER_NAME, phone=None, created_at=now)
        for _ in range(count)
    ]
    db.session.add_all(shoppers)
    db.session.flush()  # as accounts._register does: the shopper, then the key that names it
    principals, coupons = [], []
    for shopper in shoppers:
        key = add_api_key(Role.SHOPPER, new_api_key(Role.SHOPPER), shopper_id=shopper.id)
        principals.append(Principal(role=Role.SHOPPER, key_id=key.id, shopper_id=shopper.id))
        coupon = Coupon(
            code=new_coupon_code(),
            campaign_id=campaign_id,
            shopper_id=shopper.id,
            claim_seq=1,
            status=CouponStatus.AVAILABLE,
            claim_channel=ClaimChannel.APP,
            claimed_at=now,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        coupons.append(coupon)
    db.session.add_all(coupons)
    db.session.flush()
    ttl = timedelta(seconds=current_app.config["O2O_PAYMENT_CODE_TTL"])
    pairs = []
    for principal, coupon in zip(principals, coupons, strict=True):
        db.session.add(CouponEvent.of_claim(coupon, principal))
        auth_code = new_payment_code()
        db.session.add(
            PaymentCode(
                code_hash=code_hash(auth_code),
                shopper_id=principal.shopper_id,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        token, _ = mint_qr_token(principal, coupon.code)  # the coupon is in the session
        pairs.append((token, auth_code))
    db.session.commit()
    return pairs


def seed_in_bulk(app: Flask, campaign_id: str, checkouts: int, progress: Progress) -> list[Pair]:
    """The shoppers' side of `checkouts` checkouts, BULK_CHUNK shoppers to a transaction."""
    pairs: list[Pair] = []
    with app.app_context():
        for start in range(0, checkouts, BULK_CHUNK):
            chunk = _seed_chunk(campaign_id, min(BULK_CHUNK, checkouts - start))
            db.session.expunge_all()
            pairs += chunk
            progress(len(chunk))
        db.engine.dispose()
    return pairs


# One app per preparation process (spawned), built by the pool's initializer.
_worker: dict[str, Service] = {}


def _init_worker(config: dict[str, Any]) -> None:
    _worker["service"] = Service(
        InProcess(create_app(config).test_client()), config["O2O_ADMIN_KEY"]
    )


def shoppers_via_api(service: Service, campaign_id: str, count: int) -> list[Pair]:
    """`count` new shoppers, each claims one coupon: its QR token and a payment code."""
    pairs = []
    for _ in range(count):
        shopper = service.shopper(SHOPPER_NAME)
        coupon = shopper.claim(campaign_id)
        pairs.append((shopper.show_qr(coupon), shopper.payment_code()))
    return pairs


def _worker_shoppers(campaign_id: str, count: int) -> list[Pair]:
    return shoppers_via_api(_worker["service"], campaign_id, count)


def prepare_via_api(
    config: dict[str, Any], campaign_id: str, checkouts: int, processes: int, progress: Progress
) -> list[Pair]:
    """Through o2o.client, in spawned processes with an app each (it is CPU-bound in Flask)."""
    pool = ProcessPoolExecutor(
        processes, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(config,)
    )
    pairs: list[Pair] = []
    try:
        chunks = [min(API_CHUNK, checkouts - n) for n in range(0, checkouts, API_CHUNK)]
        for done in as_completed([pool.submit(_worker_shoppers, campaign_id, n) for n in chunks]):
            pairs += done.result()
            progress(len(done.result()))
    finally:
        pool.shutdown(cancel_futures=True)  # on failure or SIGTERM, skip the chunks not started
    return pairs


def prepare(
    config: dict[str, Any],
    checkouts: int,
    method: str = "bulk",
    processes: int = 1,
    progress: Progress = lambda _: None,
) -> Prepared:
    """A store, its clerk, a campaign and `checkouts` ready (token, code) pairs, by `method`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    started = time.perf_counter()
    app = create_app(config)
    clerk_key, campaign_id = stage(app, config["O2O_ADMIN_KEY"], checkouts)
    with app.app_context():
        db.engine.dispose()
    if method == "bulk":
        pairs = seed_in_bulk(app, campaign_id, checkouts, progress)
    else:
        pairs = prepare_via_api(config, campaign_id, checkouts, processes, progress)
    return Prepared(clerk_key, pairs, time.perf_counter() - started, method)
