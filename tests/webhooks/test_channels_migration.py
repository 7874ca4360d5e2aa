"""Migration 0008 (delivery channels) on a database with a delivery log, on SQLite and
PostgreSQL: every delivery made before it is a webhook delivery of its endpoint, its attempts
kept; going back drops only what cannot exist before it (deliveries without an endpoint)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from o2o.extensions import db
from tests.conftest import build_app

AT = "2026-06-01 08:00:00"
ROWS = [
    "INSERT INTO webhook_endpoints (id, url, events, status, secret_sealed, created_at) "
    f"VALUES ('we_1', 'http://127.0.0.1:9/hooks', '[\"*\"]', 'enabled', 'sealed', '{AT}')",
    "INSERT INTO events (id, type, created_at, object_type, object_id, data, dispatched) "
    f"VALUES ('evt_1', 'campaign.created', '{AT}', 'campaign', 'cmp_1', '{{}}', TRUE)",
    "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, status, "
    "attempt_count, next_attempt_at, created_at) VALUES ('whd_1', 'we_1', 'evt_1', "
    f"'campaign.created', '{{}}', 'pending', 1, '{AT}', '{AT}')",
    "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms) "
    f"VALUES ('whd_1', '{AT}', 500, 3)",
]
NOTIFICATION = [
    "INSERT INTO webhook_deliveries (id, channel, url, owner, event_id, event_type, body, "
    "status, attempt_count, created_at) VALUES ('whd_2', 'wechatpay', "
    "'https://merchant.example/notify', '1900000109', 'evt_1', 'campaign.created', '{}', "
    f"'pending', 1, '{AT}')",
    "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms) "
    f"VALUES ('whd_2', '{AT}', 500, 3)",
]


def run(app: Flask, statements: list[str]) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def rows(app: Flask, query: str) -> list[tuple[Any, ...]]:
    with app.app_context(), db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def test_deliveries_made_before_channels_are_webhook_deliveries_of_their_endpoint_after(
    empty_database_url: str,
) -> None:
    app = build_app(empty_database_url)
    try:
        with app.app_context():
            upgrade(revision="0007")
        run(app, ROWS)

        with app.app_context():
            upgrade(revision="0008")
        run(app, NOTIFICATION)

        query = "SELECT id, channel, endpoint_id, url, owner FROM webhook_deliveries ORDER BY id"
        assert rows(app, query) == [
            ("whd_1", "webhook", "we_1", None, None),
            ("whd_2", "wechatpay", None, "https://merchant.example/notify", "1900000109"),
        ]
        attempts = "SELECT delivery_id, status_code FROM webhook_attempts ORDER BY delivery_id"
        assert rows(app, attempts) == [("whd_1", 500), ("whd_2", 500)]

        with app.app_context():
            downgrade(revision="0007")
        assert rows(app, "SELECT id, endpoint_id FROM webhook_deliveries") == [("whd_1", "we_1")]
        assert rows(app, attempts) == [("whd_1", 500)]
    finally:
        with app.app_context():
            db.engine.dispose()
