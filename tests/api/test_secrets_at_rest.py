"""No clear secret at rest: after everything that hands out a key or a payment code, no column
of any table holds one; a replayed key-creating POST still answers its key."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from o2o.extensions import db
from tests.builders import ADMIN_KEY, Api


def created(api: Api, path: str, body: dict[str, Any] | None, key: str | None) -> dict[str, Any]:
    """POST (with an Idempotency-Key when given, then replayed with it) and the answer."""
    headers = {"Idempotency-Key": key} if key else {}
    first = api.post(path, ADMIN_KEY, json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    if key:
        again = api.post(path, ADMIN_KEY, json=body, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
    answer: dict[str, Any] = first.get_json()
    return answer


def stored_text(app: Flask) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every non-null value of every table."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).mappings():
                found += [(table.name, c, str(v)) for c, v in row.items() if v is not None]
    return found


def test_no_table_holds_a_clear_api_key_or_payment_code(api: Api, app: Flask) -> None:
    store_id = api.store()["id"]
    clerks = [created(api, "/clerks", {"name": "C", "store_id": store_id}, k) for k in ("c1", None)]
    shoppers = [created(api, "/shoppers", {"name": "S"}, key) for key in ("s1", "s2", None)]
    keys = [person["api_key"] for person in clerks + shoppers]
    for kind, person, key in (("clerks", clerks[0], "r1"), ("shoppers", shoppers[1], None)):
        keys.append(created(api, f"/{kind}/{person['id']}/keys", None, key)["api_key"])
    codes = [api.payment_code(shopper) for shopper in (shoppers[0], shoppers[2])]
    codes.append(api.payment_code({"api_key": keys[-1]}))  # with the rotated shopper's new key
    order = api.order({"api_key": keys[1]})  # the second clerk's key, never rotated
    payment = {"method": "card", "flow": "clerk_scan", "auth_code": codes[0]}
    paid = api.post(
        f"/orders/{order['id']}/payments", keys[1], json=payment, headers={"Idempotency-Key": "p"}
    )
    assert paid.status_code == 201

    values = stored_text(app)

    assert {table for table, _, _ in values} >= {"api_keys", "payment_codes", "idempotency_records"}
    leaks = [(t, c) for t, c, value in values for secret in keys + codes if secret in value]
    assert leaks == []


def test_a_replayed_post_clerks_answers_the_same_api_key_and_it_works(api: Api) -> None:
    store_id = api.store()["id"]
    body = {"name": "Replayed", "store_id": store_id}
    first = api.post("/clerks", ADMIN_KEY, json=body, headers={"Idempotency-Key": "hire-1"})
    again = api.post("/clerks", ADMIN_KEY, json=body, headers={"Idempotency-Key": "hire-1"})

    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["api_key"] == first.get_json()["api_key"]
    assert api.get("/campaigns", again.get_json()["api_key"]).status_code == 200


def test_no_table_holds_a_clear_webhook_secret(api: Api, app: Flask) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["*"]}
    endpoints = [created(api, "/webhook-endpoints", body, key) for key in ("w1", None)]
    rotate = f"/webhook-endpoints/{endpoints[0]['id']}/rotate-secret"
    rotated = api.post(rotate, ADMIN_KEY, headers={"Idempotency-Key": "rot"})
    assert rotated.status_code == 200
    secrets = [endpoint["secret"] for endpoint in endpoints] + [rotated.get_json()["secret"]]
    # the key itself (the base64 after whsec_) must not show either
    needles = secrets + [secret.removeprefix("whsec_") for secret in secrets]

    values = stored_text(app)

    assert {table for table, _, _ in values} >= {"webhook_endpoints", "idempotency_records"}
    assert [(t, c) for t, c, value in values for needle in needles if needle in value] == []
