"""The project's flask-smorest Blueprint: a JSON body parser that speaks the error envelope."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import flask
from flask_smorest import Blueprint as _Blueprint
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from o2o.errors import O2OError, validation_failed
from o2o.vocabulary import ErrorCode

# NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8 for
# either database: the one rule for every string a request carries (body, query, path,
# headers), applied before any schema or service sees it.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_VALUE = "Must not contain NUL (U+0000) or a lone surrogate (U+D800 to U+DFFF)."
REPORTED_DEPTH = 16
UNSTORABLE_NAME = "This field name contains NUL (U+0000) or a lone surrogate (U+D800 to U+DFFF)."


class JSONBodyParser(FlaskParser):
    """Reads the body as JSON whatever its Content-Type (curl -d sends form encoding); the
    `multipart` location reads a multipart/form-data body's fields and files as one."""

    __location_map__ = dict(multipart="load_multipart", **FlaskParser.__location_map__)

    def load_multipart(self, req: flask.Request, schema: Any) -> Any:
        """A multipart/form-data body's fields and files; 415 for any other body."""
        if req.mimetype != "multipart/form-data":
            raise O2OError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE, "This operation takes a multipart/form-data body."
            )
        if found := unstorable_text(req.form.to_dict(flat=True)):
            raise validation_failed(found)
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: flask.Request) -> Any:
        return request_json()


def request_json() -> Any:
    """The request body as a dict, `missing` when empty; 400 bad_request when not an object,
    422 validation_error naming every field whose text could not be stored."""
    raw = flask.request.get_data(cache=True)
    if not raw.strip():
        return webargs_core.missing
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise O2OError(ErrorCode.BAD_REQUEST, "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise O2OError(ErrorCode.BAD_REQUEST)
    if found := unstorable_text(body):
        raise validation_failed(found)
    return body


def unstorable_text(value: Any) -> dict[Any, Any]:
    """Field → messages for every string in `value` (parsed JSON, or a mapping of parameters)
    holding NUL or a lone surrogate, names included; {} if none. Shaped as marshmallow shapes
    its own: nested objects nest, list items go by index.

    Iterative, so that a body nested as deep as the JSON parser allows cannot overflow the stack.
    """
    if not _holds_unstorable(value):  # the common case, on every request: no paths built
        return {}
    found: dict[Any, Any] = {}
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                _put(found, path, UNSTORABLE_VALUE)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and UNSTORABLE.search(key):
                    # the name itself cannot be echoed as it is: escape it for the details
                    _put(found, (*path, key.encode("unicode_escape").decode()), UNSTORABLE_NAME)
                else:
                    stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, index), child) for index, child in enumerate(item))
    return found


def _holds_unstorable(value: Any) -> bool:
    strings: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            stack += item
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    # One search of them all: joining makes no pair of two lone surrogates (Python keeps both).
    return UNSTORABLE.search("".join(strings)) is not None


def _put(found: dict[Any, Any], path: tuple[Any, ...], message: str) -> None:
    # Deeper than any schema goes, the error is reported on an ancestor: details nested as
    # deep as the body could be too deep for the encoder that writes the response.
    *parents, leaf = path[:REPORTED_DEPTH] or ("_schema",)
    node = found
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):  # an escaped name that reads like a real one: reported
            return
    node.setdefault(leaf, [message])


def accepts_upload(view: Callable[..., Any]) -> Callable[..., Any]:
    """Lets this view's body be as large as O2O_SCAN_IMAGE_MAX_BYTES instead of the app's
    MAX_CONTENT_LENGTH (a larger body is refused with 413 before it is read)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flask.request.max_content_length = flask.current_app.config["O2O_SCAN_IMAGE_MAX_BYTES"]
        return view(*args, **kwargs)

    return wrapper


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = JSONBodyParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **_Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with one schema instance per view: webargs would otherwise build
        a new instance of a schema class on every request (a deep copy of its fields)."""
        instance = schema() if isinstance(schema, type) else schema
        return super().arguments(instance, *args, **kwargs)
