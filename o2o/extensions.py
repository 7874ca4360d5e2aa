"""Flask extensions: the SQLAlchemy handle, Alembic migrations and the flask-smorest Api."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask
from flask_migrate import Migrate
from flask_smorest import Api as _Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their values after commit: the response is dumped from what the transaction
# wrote, without a reload per object. Code that changes rows by conditional UPDATE refreshes.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()


def writes_in_one_statement() -> bool:
    """Whether the session's database runs data-modifying CTEs (PostgreSQL does, SQLite not),
    so that several dependent writes of the hot path can go as one statement, one round trip."""
    return bool(db.session.get_bind().dialect.name == "postgresql")


def statements_commit_themselves() -> None:
    """From here to the next commit, each statement commits by itself (PostgreSQL): no BEGIN
    and no COMMIT round trips. For a use case that reads, then writes with one statement:
    under READ COMMITTED its reads shared no snapshot anyway, and one statement is atomic.
    Call `back_to_transactions()` before a second write."""
    if not writes_in_one_statement():
        return
    if db.session().in_transaction():  # reads so far (a key lookup): nothing to keep
        db.session.commit()
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def back_to_transactions() -> None:
    """Leave statement-by-statement mode: the statements that follow share one transaction."""
    db.session.commit()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the single writer; busy_timeout queues writers."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Stable snake_case code"})
    message = ma.fields.String(required=True, metadata={"description": "A human sentence"})
    details = ma.fields.Dict(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(_Api):
    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled by o2o.api.errors, which writes the project's envelope."""


def make_api(app: Flask) -> Api:
    """One Api per app: flask-smorest keeps the app and its spec on the Api object."""
    api = Api(
        spec_kwargs={
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
        }
    )
    api.init_app(app)
    return api
