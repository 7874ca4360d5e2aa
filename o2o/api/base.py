"""The project's flask-smorest Blueprint: a JSON body parser that speaks the error envelope."""

from __future__ import annotations

import json
from typing import Any

import flask
from flask_smorest import Blueprint as _Blueprint
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser

from o2o.errors import O2OError
from o2o.vocabulary import ErrorCode


class JSONBodyParser(FlaskParser):
    """Reads the body as JSON whatever its Content-Type (curl -d sends form encoding)."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        return request_json()


def request_json() -> Any:
    """The request body as a dict, `missing` when empty; 400 bad_request when not an object."""
    raw = flask.request.get_data(cache=True)
    if not raw.strip():
        return webargs_core.missing
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise O2OError(ErrorCode.BAD_REQUEST, "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise O2OError(ErrorCode.BAD_REQUEST)
    return body


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = JSONBodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with one schema instance per view: webargs would otherwise build
        a new instance of a schema class on every request (a deep copy of its fields)."""
        instance = schema() if isinstance(schema, type) else schema
        return super().arguments(instance, *args, **kwargs)
