"""Claims are exact under contention, on SQLite and PostgreSQL, threads on separate connections."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from o2o.extensions import db
from o2o.models import Campaign, Coupon
from tests.builders import Api

REQUESTS = 300
BUDGET = 100
THREADS = 24


def _race(app: Flask, calls: list[tuple[str, dict[str, Any]]], path: str) -> Counter[int]:
    """Fire the calls from many threads at once; each request gets its own session."""
    start = threading.Barrier(THREADS)

    def fire(batch: list[tuple[str, dict[str, Any]]]) -> list[int]:
        client = app.test_client()
        start.wait()
        return [
            client.post(path, headers={"Authorization": f"Bearer {key}"}, json=body).status_code
            for key, body in batch
        ]

    batches = [calls[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for result in pool.map(fire, batches) for s in result]
    return Counter(statuses)


def test_300_racing_claims_on_a_budget_of_100_hand_out_exactly_100(app: Flask) -> None:
    api = Api(app.test_client())
    campaign = api.campaign(total_quantity=BUDGET, per_shopper_limit=2)
    shoppers = [api.shopper(name=f"s{i}")["api_key"] for i in range(REQUESTS // 3)]
    # Every shopper asks three times against a limit of two.
    calls: list[tuple[str, dict[str, Any]]] = [(key, {}) for key in shoppers for _ in range(3)]

    statuses = _race(app, calls, f"/api/v1/campaigns/{campaign['id']}/claims")

    assert statuses[201] == BUDGET
    assert set(statuses) <= {201, 409}
    with app.app_context():
        held = Counter(db.session.scalars(select(Coupon.shopper_id)))
        claimed = db.session.scalar(select(Campaign.claimed_count))
        coupons = db.session.scalar(select(func.count()).select_from(Coupon))
    assert coupons == claimed == BUDGET
    assert max(held.values()) <= 2


def test_one_shopper_racing_with_itself_gets_exactly_its_limit(app: Flask) -> None:
    api = Api(app.test_client())
    campaign = api.campaign(total_quantity=1000, per_shopper_limit=3)
    key = api.shopper()["api_key"]

    statuses = _race(app, [(key, {})] * 60, f"/api/v1/campaigns/{campaign['id']}/claims")

    assert statuses == Counter({201: 3, 409: 57})
    with app.app_context():
        assert db.session.scalar(select(Campaign.claimed_count)) == 3
