"""No secret in any log: a database error on a statement that carries a payment code's or an API
key's hash, with every SQLAlchemy and o2o logger at DEBUG, logs neither the secret nor its hash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.test import TestResponse

from o2o.extensions import db
from o2o.services import accounts
from o2o.services.payments import codes
from o2o.tokens import hash_api_key, hash_payment_code
from tests.builders import ADMIN_KEY, SECRET, Api, error_code
from tests.conftest import build_app

KNOWN_KEY = "o2o_shopper_a-key-this-test-knows-in-advance"
KNOWN_CODE = "134567890123456789"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything SQLAlchemy (statements and their parameters, at INFO and DEBUG) and the app
    log, captured from before any connection is made."""
    for name in (None, "sqlalchemy", "o2o"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def breakable(empty_database_url: str, logs: pytest.LogCaptureFixture) -> Iterator[Flask]:
    """An app on a database of its own, whose tables a test may break."""
    app = build_app(empty_database_url)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def break_column(app: Flask, table: str, column: str) -> None:
    """Rename a column the app's statements name, so they fail in the database."""
    with app.app_context():
        db.session.execute(text(f"ALTER TABLE {table} RENAME COLUMN {column} TO {column}_gone"))
        db.session.commit()


def assert_an_envelope(response: TestResponse) -> None:
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert error_code(response) == "internal_error"


def assert_not_logged(logs: pytest.LogCaptureFixture, *secrets: str) -> None:
    assert logs.records, "nothing was captured: the check would prove nothing"
    assert "hide_parameters=True" in logs.text  # SQLAlchemy did log statements, hiding values
    for secret in secrets:
        assert secret not in logs.text


def test_a_failed_payment_logs_neither_the_payment_code_nor_its_hash(
    breakable: Flask, logs: pytest.LogCaptureFixture
) -> None:
    api = Api(breakable.test_client())
    clerk, shopper = api.clerk(), api.shopper()
    order, code = api.order(clerk), api.payment_code(shopper)
    break_column(breakable, "payment_codes", "used_at")
    logs.clear()

    body = {"method": "card", "flow": "clerk_scan", "auth_code": code}
    response = api.post(f"/orders/{order['id']}/payments", clerk["api_key"], json=body)

    assert_an_envelope(response)
    assert "payment_codes" in logs.text  # the failing statement's error is in the log
    assert_not_logged(logs, code, hash_payment_code(SECRET, code))


def test_a_failed_key_lookup_logs_neither_the_key_nor_its_hash(
    breakable: Flask, logs: pytest.LogCaptureFixture
) -> None:
    api = Api(breakable.test_client())
    shopper = api.shopper()
    break_column(breakable, "api_keys", "revoked_at")
    logs.clear()

    response = api.get("/me/coupons", shopper["api_key"])

    assert_an_envelope(response)
    assert "api_keys" in logs.text
    assert_not_logged(logs, shopper["api_key"], hash_api_key(shopper["api_key"]))


def test_a_failed_payment_code_insert_logs_neither_the_code_nor_its_hash(
    breakable: Flask, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(breakable.test_client())
    shopper = api.shopper()
    monkeypatch.setattr(codes, "new_payment_code", lambda: KNOWN_CODE)
    break_column(breakable, "payment_codes", "created_at")
    logs.clear()

    response = api.get("/me/payment-code", shopper["api_key"])

    assert_an_envelope(response)
    assert "payment_codes" in logs.text
    assert_not_logged(logs, KNOWN_CODE, hash_payment_code(SECRET, KNOWN_CODE))


def test_a_key_insert_that_violates_a_constraint_logs_neither_the_key_nor_its_hash(
    api: Api, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_id = accounts.new_id
    monkeypatch.setattr(
        accounts, "new_id", lambda kind: "key_same" if kind == "key" else new_id(kind)
    )
    api.shopper()
    monkeypatch.setattr(accounts, "new_api_key", lambda role: KNOWN_KEY)
    logs.clear()

    response = api.post("/shoppers", ADMIN_KEY, json={"name": "Second"})  # its key row's id

    assert_an_envelope(response)
    assert "IntegrityError" in logs.text
    assert "api_keys" in logs.text
    assert_not_logged(logs, KNOWN_KEY, hash_api_key(KNOWN_KEY))


def test_a_payment_code_equal_to_a_stored_one_is_never_a_database_error(
    api: Api, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unique-key error's message shows the key (PostgreSQL's DETAIL, which no setting
    hides): a drawn code equal to a stored one is drawn again, not inserted."""
    first, second = api.shopper(), api.shopper()
    monkeypatch.setattr(codes, "new_payment_code", lambda: KNOWN_CODE)
    assert api.get("/me/payment-code", first["api_key"]).status_code == 200
    logs.clear()

    response = api.get("/me/payment-code", second["api_key"])  # every draw is KNOWN_CODE

    assert_an_envelope(response)
    assert "IntegrityError" not in logs.text
    assert_not_logged(logs, KNOWN_CODE, hash_payment_code(SECRET, KNOWN_CODE))


def test_minting_and_paying_with_a_code_logs_neither_code_key_nor_hash_even_at_debug(
    api: Api, logs: pytest.LogCaptureFixture
) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    order = api.order(clerk)
    code = api.payment_code(shopper)
    body = {"method": "card", "flow": "clerk_scan", "auth_code": code}
    paid = api.post(f"/orders/{order['id']}/payments", clerk["api_key"], json=body)
    assert paid.status_code == 201
    secrets = (shopper["api_key"], clerk["api_key"], code)
    hashes = (hash_api_key(shopper["api_key"]), hash_api_key(clerk["api_key"]))
    assert_not_logged(logs, *secrets, *hashes, hash_payment_code(SECRET, code))


def test_the_log_check_sees_a_hash_when_parameters_are_not_hidden(
    app_factory: Any, logs: pytest.LogCaptureFixture
) -> None:
    """The control: the same capture, with SQLAlchemy's default, does catch a bound hash."""
    api = Api(app_factory(SQLALCHEMY_ENGINE_OPTIONS={}).test_client())
    shopper = api.shopper()
    logs.clear()
    api.get("/me/coupons", shopper["api_key"])
    assert hash_api_key(shopper["api_key"]) in logs.text
