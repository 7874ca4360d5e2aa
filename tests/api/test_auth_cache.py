"""Principals are remembered briefly per process; failures never are."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete

from o2o.extensions import db
from o2o.models import ApiKey
from o2o.services.accounts import add_api_key
from o2o.vocabulary import Role
from tests.builders import Api


def test_a_known_key_is_served_from_memory_after_its_first_use(api: Api, app: Flask) -> None:
    shopper = api.shopper()
    assert api.get("/me/coupons", shopper["api_key"]).status_code == 200
    with app.app_context():
        db.session.execute(delete(ApiKey).where(ApiKey.shopper_id == shopper["id"]))
        db.session.commit()
    assert api.get("/me/coupons", shopper["api_key"]).status_code == 200  # within the TTL
    app.extensions["o2o_keys"].clear()
    assert api.get("/me/coupons", shopper["api_key"]).status_code == 401


def test_an_unknown_key_is_looked_up_again_every_time(api: Api, app: Flask) -> None:
    assert api.get("/stores", "late-key").status_code == 401
    with app.app_context():
        add_api_key(Role.ADMIN, "late-key")
        db.session.commit()
    assert api.get("/stores", "late-key").status_code == 200
