"""How the flow API reaches the service: in process (Flask test client) or over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask.testing import FlaskClient

PREFIX = "/api/v1"


class ServiceError(AssertionError):
    """The service answered with an error envelope where the flow expected success."""

    def __init__(self, status: int, body: Any, method: str, path: str) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "")
        self.details = error.get("details", {})
        super().__init__(f"{method} {path} → {status} {self.code}: {error.get('message', body)}")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def request(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply: ...


def _headers(key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return {**headers, **(extra or {})}


class InProcess:
    """Calls the app through Flask's test client: no server, no sockets."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        response = self.client.open(
            PREFIX + path,
            method=method,
            data=None if body is None else json.dumps(body),
            headers=_headers(key, headers),
        )
        payload = response.get_json(silent=True) if response.is_json else response.data
        return Reply(response.status_code, payload, dict(response.headers))


class OverHttp:
    """Calls a live service at `base_url` (e.g. http://127.0.0.1:5000)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + PREFIX + path, data=data, method=method, headers=_headers(key, headers)
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _reply(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return _reply(error.code, error.read(), dict(error.headers))


def _reply(status: int, raw: bytes, headers: dict[str, str]) -> Reply:
    if headers.get("Content-Type", "").startswith("application/json"):
        return Reply(status, json.loads(raw or b"null"), headers)
    return Reply(status, raw, headers)
