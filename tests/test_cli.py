"""The o2o command line: seeding the sample scenario, housekeeping."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from o2o import clock
from o2o.cli import DEFAULT_SEED
from o2o.extensions import db
from o2o.models import ApiKey, Campaign, Coupon, IdempotencyRecord, PaymentCode, Shopper, Store
from o2o.services import housekeeping
from tests.builders import ADMIN_KEY, IDEMPOTENCY_TTL, Api
from tests.conftest import build_app


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Store, Shopper, Campaign, ApiKey)
        }


def test_seeding_loads_the_hangzhou_scenario_and_prints_demo_keys(app: Flask) -> None:
    sample = json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Seeded {DEFAULT_SEED}: ")  # one line, however long the path
    people = sample["clerks"] + sample["shoppers"]
    keys = [sample["admin_key"]] + [row["api_key"] for row in people]
    for key in keys:  # each key whole on one line: the table is never squeezed to a width
        assert any(key in line.split() for line in lines), key
    assert _counts(app) == {
        "stores": len(sample["stores"]),
        "shoppers": len(sample["shoppers"]),
        "campaigns": len(sample["campaigns"]),
        "api_keys": 1 + len(sample["clerks"]) + len(sample["shoppers"]),
    }


def test_seeding_an_unmigrated_database_says_to_run_db_upgrade_first(
    empty_database_url: str,
) -> None:
    app = build_app(empty_database_url)
    try:
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "run `o2o db upgrade` first" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()


def test_seeding_twice_changes_nothing(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["seed"])
    before = _counts(app)
    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0
    assert again.output.splitlines()[0] == f"Seeded {DEFAULT_SEED}: nothing new."
    assert _counts(app) == before


def test_the_seeded_demo_keys_claim_and_show_a_qr(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["seed"])
    api = Api(app.test_client())
    shopper = {"api_key": "demo-shopper-001"}
    coupon = api.claim(shopper, "cmp_50off300")
    assert coupon["discount"]["min_spend"] == 30000
    assert api.get(f"/coupons/{coupon['code']}/qr", "demo-shopper-001").status_code == 200
    assert api.get("/stores", "demo-admin-key").get_json()["items"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Coupon)) == 1


def test_the_sample_covers_each_kind_of_campaign(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["seed"])
    with app.app_context():
        campaigns = db.session.scalars(select(Campaign)).all()
    kinds = {c.discount_type for c in campaigns}
    assert kinds == {"amount_off", "percent_off", "exchange"}
    assert any(c.valid_days_after_claim for c in campaigns)
    assert any(c.store_ids for c in campaigns)


def _payment_codes(app: Flask) -> list[tuple[str, bool]]:
    """(shopper, used?) of every payment code row left."""
    with app.app_context():
        rows = db.session.execute(select(PaymentCode.shopper_id, PaymentCode.used_at)).all()
    return sorted((shopper, used is not None) for shopper, used in rows)


def _idempotency_keys(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(IdempotencyRecord.key)))


def _store_with_key(api: Api, key: str) -> None:
    response = api.post(
        "/stores",
        ADMIN_KEY,
        json={"name": key, "city": "Hangzhou"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201


def _age_records(app: Flask, *keys: str, seconds: int) -> None:
    """Make records look `seconds` older in real time than they are."""
    with app.app_context():
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key.in_(keys))
            .values(created_at=clock.real_now() - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_housekeeping_leaves_no_payment_code_used_or_past_its_expiry(api: Api, app: Flask) -> None:
    clerk, payer, idle, late = api.clerk(), api.shopper(), api.shopper(), api.shopper()
    assert api.pay(api.order(clerk), payer, clerk).status_code == 201  # payer's code: used
    api.payment_code(idle)
    api.clock(advance_seconds=61)  # idle's code: past its 60 s, on the sandbox clock
    api.payment_code(late)  # fresh: stays
    assert len(_payment_codes(app)) == 3

    result = app.test_cli_runner().invoke(args=["housekeeping"])

    assert result.exit_code == 0, result.output
    assert "Purged 2 payment code(s), used or expired." in result.output
    assert _payment_codes(app) == [(late["id"], False)]
    payment = {"method": "card", "flow": "clerk_scan", "auth_code": api.payment_code(late)}
    order = api.order(clerk)
    paid = api.post(f"/orders/{order['id']}/payments", clerk["api_key"], json=payment)
    assert paid.status_code == 201  # housekeeping took nothing a shopper still holds


def test_housekeeping_purges_idempotency_records_past_24_hours_of_real_time(
    api: Api, app: Flask
) -> None:
    for key in ("old-1", "old-2", "fresh"):
        _store_with_key(api, key)
    _age_records(app, "old-1", "old-2", seconds=IDEMPOTENCY_TTL + 1)
    _age_records(app, "fresh", seconds=IDEMPOTENCY_TTL - 60)
    api.clock(advance_seconds=3 * 24 * 3600)  # the sandbox clock does not age records

    result = app.test_cli_runner().invoke(args=["housekeeping"])

    assert result.exit_code == 0, result.output
    assert "Purged 2 idempotency record(s) past their retention." in result.output
    assert _idempotency_keys(app) == {"fresh"}
    replay = api.post(
        "/stores",
        ADMIN_KEY,
        json={"name": "fresh", "city": "Hangzhou"},
        headers={"Idempotency-Key": "fresh"},
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"


def test_housekeeping_deletes_in_batches_until_nothing_is_left(
    api: Api, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping, "BATCH", 2)
    for i in range(5):
        api.payment_code(api.shopper())
        _store_with_key(api, f"key-{i}")
    _age_records(app, *(f"key-{i}" for i in range(5)), seconds=IDEMPOTENCY_TTL + 1)
    api.clock(advance_seconds=61)
    commits: list[None] = []
    commit = housekeeping.store.commit

    def counted_commit() -> None:
        commits.append(None)
        commit()

    monkeypatch.setattr(housekeeping.store, "commit", counted_commit)

    result = app.test_cli_runner().invoke(args=["housekeeping"])

    assert "Purged 5 payment code(s), used or expired." in result.output
    assert "Purged 5 idempotency record(s) past their retention." in result.output
    assert _payment_codes(app) == []
    assert _idempotency_keys(app) == set()
    assert len(commits) >= 6  # 3 + 3 batches of at most 2 rows, each its own transaction


def test_expire_coupons_is_still_there_and_does_all_the_housekeeping(api: Api, app: Flask) -> None:
    api.payment_code(api.shopper())
    api.clock(advance_seconds=61)
    result = app.test_cli_runner().invoke(args=["expire-coupons"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 payment code(s), used or expired." in result.output
    assert _payment_codes(app) == []
