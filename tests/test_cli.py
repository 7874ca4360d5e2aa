"""The o2o command line: seeding the sample scenario."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import func, select

from o2o.cli import DEFAULT_SEED
from o2o.extensions import db
from o2o.models import ApiKey, Campaign, Coupon, Shopper, Store
from tests.builders import Api


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
