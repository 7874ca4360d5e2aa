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


def one_of2properties(converter: Any, field: ma.fields.Field, **_: Any) -> dict[str, Any]:
    """A field that names its `variants` by a `discriminator` field (o2o.api.schemas.OneOf):
    a `oneOf` of the variants' components, with a `discriminator` mapping each name to its own."""
    variants: dict[str, type[ma.Schema]] | None = getattr(field, "variants", None)
    if not variants:
        return {}
    refs = {name: converter.resolve_nested_schema(schema) for name, schema in variants.items()}
    return {
        "type": "object",
        "oneOf": list(refs.values()),
        "discriminator": {
            "propertyName": field.discriminator,  # type: ignore[attr-defined]
            "mapping": {name: ref["$ref"] for name, ref in refs.items()},
        },
    }


def make_api(app: Flask, **spec_kwargs: Any) -> Api:
    """One Api per app: flask-smorest keeps the app and its spec on the Api object."""
    api = Api(
        spec_kwargs={
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
            **spec_kwargs,
        }
    )
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(one_of2properties)
    return api
