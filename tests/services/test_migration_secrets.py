"""Migration 0003 on a database with data: clear payment codes go, keys keep working, and a
downgrade never brings a revoked or rotated-out key back to life."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from o2o.extensions import db
from o2o.tokens import hash_api_key
from tests.builders import Api
from tests.conftest import build_app

OLD_KEY = "o2o_shopper_issued-before-the-upgrade"
NOW = datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)


def _rows(app: Flask, sql: str) -> list[tuple[object, ...]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(text(sql))]


def _write(app: Flask, sql: str, **values: object) -> None:
    with app.app_context():
        db.session.execute(text(sql), values)
        db.session.commit()


def test_upgrading_drops_clear_payment_codes_and_keeps_every_key(empty_database_url: str) -> None:
    app = build_app(empty_database_url)
    try:
        with app.app_context():
            upgrade(revision="0002")
        # Rows as the 0002 schema holds them (today's models have more columns).
        _write(
            app,
            "INSERT INTO shoppers (id, name, created_at) VALUES ('shp_old', 'Old', :now)",
            now=NOW,
        )
        _write(
            app,
            "INSERT INTO api_keys (id, key_hash, role, shopper_id, created_at)"
            " VALUES ('key_old', :hash, 'shopper', 'shp_old', :now)",
            hash=hash_api_key(OLD_KEY),
            now=NOW,
        )
        _write(
            app,
            "INSERT INTO payment_codes (code, shopper_id, created_at, expires_at)"
            " VALUES ('123456789012345678', 'shp_old', :now, :now)",
            now=NOW,
        )

        with app.app_context():
            upgrade()

        assert _rows(app, "SELECT * FROM payment_codes") == []
        api = Api(app.test_client())
        assert api.get("/me/coupons", OLD_KEY).status_code == 200
        assert api.get("/me/payment-code", OLD_KEY).status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


def test_downgrading_deletes_the_keys_that_were_revoked_or_rotated_out(
    empty_database_url: str,
) -> None:
    app = build_app(empty_database_url)
    try:
        with app.app_context():
            upgrade()
        api = Api(app.test_client())
        kept, revoked, rotated = api.shopper(), api.shopper(), api.shopper()
        api.call("DELETE", f"/shoppers/{revoked['id']}/keys", api.admin_key)
        api.post(f"/shoppers/{rotated['id']}/keys", api.admin_key)

        with app.app_context():
            downgrade(revision="0002")

        owners = _rows(app, "SELECT shopper_id FROM api_keys WHERE shopper_id IS NOT NULL")
        assert sorted(owners) == sorted([(kept["id"],), (rotated["id"],)])  # the new key only
    finally:
        with app.app_context():
            db.engine.dispose()
