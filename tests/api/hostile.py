"""Helpers for hostile-input tests: JSON that carries lone surrogates, row counts, the envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from o2o.extensions import db
from tests.builders import Api

SURROGATE = "\ud800"
NUL = "\x00"


@dataclass(frozen=True)
class Call:
    """One request to send: method, path under /api/v1, the caller's key and a JSON body."""

    method: str
    path: str
    key: str
    body: Any

    def send(self, api: Api) -> TestResponse:
        """Send the body as JSON escaped to ASCII, so a lone surrogate travels as `\\ud800`
        (the test client's own `json=` cannot encode one)."""
        data = json.dumps(self.body, ensure_ascii=True, allow_nan=True)
        return api.call(
            self.method, self.path, self.key, data=data, content_type="application/json"
        )


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows every table holds, in one query."""
    counts = [
        select(func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in db.metadata.sorted_tables
    ]
    with app.app_context():
        row = db.session.execute(select(*counts)).one()
        db.session.remove()
    return dict(row._mapping)


def assert_envelope(response: TestResponse) -> dict[str, Any]:
    """The response is the API's error envelope; returns its `error` object."""
    body = response.get_json(silent=True)
    assert isinstance(body, dict), (response.status_code, response.data[:300])
    error = body.get("error")
    assert isinstance(error, dict), body
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str), body
    assert isinstance(error["message"], str), body
    assert isinstance(error["details"], dict), body
    return error


def detail_at(details: dict[str, Any], path: tuple[Any, ...]) -> Any:
    """The validation messages at a field path (nested objects nest, list items by index)."""
    node: Any = details
    for part in path:
        assert isinstance(node, dict), (path, details)
        assert str(part) in node, (path, details)
        node = node[str(part)]
    return node
