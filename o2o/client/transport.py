"""How the client reaches the service: in process (a Flask test client) or over HTTP (urllib)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flask.testing import FlaskClient

PREFIX = "/api/v1"


class ServiceError(AssertionError):
    """The service answered with an error envelope where the flow expected success."""

    def __init__(self, status: int, body: Any, method: str, path: str) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.body = body
        self.code: str = error.get("code", "")
        self.details: dict[str, Any] = error.get("details", {})
        message = f"{method} {path} → {status} {self.code}: {error.get('message', body)}"
        if self.details:  # which field, which reasons: what a failing test must say
            message += f" {json.dumps(self.details, ensure_ascii=False, sort_keys=True)}"
        super().__init__(message)


@dataclass
class Reply:
    """One response: status (0 when none came), the decoded JSON body (or raw bytes), headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """A 2xx or 3xx answer."""
        return 200 <= self.status < 400


class Transport(Protocol):
    """Sends one request to the API (`path` is below /api/v1) with an optional bearer key."""

    def request(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply: ...


def request_headers(key: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """JSON content type, the bearer key, then `extra`."""
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
        """Open `PREFIX + path` on the test client."""
        response = self.client.open(
            PREFIX + path,
            method=method,
            data=None if body is None else json.dumps(body),
            headers=request_headers(key, headers),
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
        """One urllib request; an HTTP error status is a Reply, a dead socket an OSError."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + PREFIX + path,
            data=data,
            method=method,
            headers=request_headers(key, headers),
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return decode(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return decode(error.code, error.read(), dict(error.headers))


def decode(status: int, raw: bytes, headers: dict[str, str]) -> Reply:
    """A Reply whose body is parsed JSON when the content type says so, else the raw bytes."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.startswith("application/json"):
        return Reply(status, json.loads(raw or b"null"), headers)
    return Reply(status, raw, headers)
