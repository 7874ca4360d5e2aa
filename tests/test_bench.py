"""`make bench`: its options, its bulk preparation against the API's, and a tiny real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from bench.prepare import ROOT, seed_in_bulk, shoppers_via_api, stage
from bench.run import parse_args
from o2o.client import Caller, InProcess, Service
from o2o.extensions import db
from o2o.models import ApiKey, Campaign, Coupon, CouponEvent, PaymentCode, Shopper
from o2o.vocabulary import PaymentStatus
from tests.conftest import AppFactory
from tests.live import free_port, subprocess_environment

# Columns whose values are drawn or stamped per row; every other column must be equal.
DRAWN = {"id", "code", "key_hash", "code_hash", "created_at", "claimed_at", "at"}
DRAWN |= {
    "campaign_id",
    "shopper_id",
    "coupon_code",
    "actor_id",
    "valid_from",
    "valid_until",
    "expires_at",
}


def test_the_defaults_are_a_full_run_on_a_free_port() -> None:
    args = parse_args([])
    assert (args.checkouts, args.port, args.prepare, args.duration) == (9000, 0, "bulk", 15.0)


def test_make_bench_args_such_as_checkouts_and_port_reach_the_bench() -> None:
    args = parse_args(["--checkouts", "2000", "--port", "5055"])
    assert (args.checkouts, args.port) == (2000, 5055)


REFUSED = [["--checkouts", "0"], ["--checkouts", "2k"], ["--port", "65536"], ["--port", "-1"]]


@pytest.mark.parametrize("argv", [*REFUSED, ["--duration", "0"]])
def test_an_option_out_of_range_or_not_a_number_is_refused_with_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "must be" in capsys.readouterr().err


def test_help_explains_the_run_every_option_and_the_make_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    shown = capsys.readouterr().out
    for option in ("--checkouts", "--port", "--duration", "--prepare", "--sqlite", "--output"):
        assert option in shown
    assert "BENCH_ARGS=" in shown
    assert "a free port" in shown


def _rows(model: Any, **where: Any) -> list[dict[str, Any]]:
    query = select(model).filter_by(**where)
    return [
        {c.key: getattr(row, c.key) for c in model.__table__.columns}
        for row in db.session.scalars(query)
    ]


def _shape(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row without its drawn values, only whether they are there."""
    return [{k: (v is not None) if k in DRAWN else v for k, v in row.items()} for row in rows]


def _pays(app: Flask, clerk_key: str, pair: tuple[str, str]) -> bool:
    """The bench's checkout with one prepared (token, code) pair: the coupon's order, paid."""
    clerk = Caller(InProcess(app.test_client()), clerk_key)
    order = clerk.post("/orders", {"amount": 39900, "qr_token": pair[0]})
    body = {"method": "wechat_pay", "flow": "clerk_scan", "auth_code": pair[1]}
    payment = clerk.post(f"/orders/{order['id']}/payments", body)
    return bool(order["discount_amount"] == 5000 and payment["status"] == PaymentStatus.SUCCEEDED)


def test_bulk_preparation_writes_the_rows_the_api_writes_and_its_checkouts_pay(
    app_factory: AppFactory,
) -> None:
    app = app_factory(O2O_SANDBOX=False)
    admin = Service(InProcess(app.test_client()), app.config["O2O_ADMIN_KEY"])
    clerk_key, api_campaign = stage(app, admin.key, 2)
    _, bulk_campaign = stage(app, admin.key, 2)
    via_api = shoppers_via_api(admin, api_campaign, 2)
    in_bulk = seed_in_bulk(app, bulk_campaign, 2, lambda _: None)
    with app.app_context():
        shapes = {}
        for campaign_id in (api_campaign, bulk_campaign):
            coupons = _rows(Coupon, campaign_id=campaign_id)
            owners, codes = [c["shopper_id"] for c in coupons], [c["code"] for c in coupons]
            shapes[campaign_id] = {
                "campaign": [
                    {k: v for k, v in row.items() if k in ("claimed_count", "total_quantity")}
                    for row in _rows(Campaign, id=campaign_id)
                ],
                "coupons": _shape(coupons),
                "events": _shape([e for c in codes for e in _rows(CouponEvent, coupon_code=c)]),
                "shoppers": _shape([r for o in owners for r in _rows(Shopper, id=o)]),
                "keys": _shape([r for o in owners for r in _rows(ApiKey, shopper_id=o)]),
                "codes": _shape([r for o in owners for r in _rows(PaymentCode, shopper_id=o)]),
            }
        db.session.remove()
    assert shapes[bulk_campaign] == shapes[api_campaign]
    assert shapes[bulk_campaign]["campaign"] == [{"claimed_count": 2, "total_quantity": 2}]
    assert len(shapes[bulk_campaign]["codes"]) == 2
    assert [_pays(app, clerk_key, pair) for pair in (*via_api, *in_bulk)] == [True] * 4


def test_a_tiny_run_prepares_twenty_checkouts_and_pays_them_without_an_error(
    tmp_path: Path,
) -> None:
    output, port = tmp_path / "results.json", free_port()
    command = [sys.executable, "-m", "bench.run", "--checkouts", "20", "--duration", "1"]
    command += ["--sqlite", "--workers", "1", "--connections", "2", "--port", str(port)]
    command += ["--output", str(output)]
    bench = subprocess.Popen(
        command,
        cwd=ROOT,
        env=subprocess_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        shown, _ = bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:  # stopped by its pid (it stops its gunicorn and database)
            bench.kill()
            bench.wait()
    assert bench.returncode == 0, shown
    results = json.loads(output.read_text(encoding="utf-8"))
    paid, unused = results["checkout"]["checkouts"], results["checkout"]["unused_work"]
    assert results["prepared_checkouts"] == paid + unused == 20
    assert paid > 0  # all 20 on a quiet machine; the phase may end first on a busy one
    assert f"on port {port}" in shown
    assert "Time: preparation" in shown
    # The app's CPU is counted, whatever the venv's path (a long one makes pip's scripts
    # /bin/sh trampolines, and the workers are then named python, not gunicorn).
    assert results["checkout"]["cpu_s"]["app"] > 0
