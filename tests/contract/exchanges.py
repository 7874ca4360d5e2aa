"""Every request and response of a Flask test client checked against the OpenAPI spec with
openapi-core (the one module that imports it): what the server accepted and everything it
answered must be what the spec says."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

SPEC_PATH = "/api/v1/openapi.json"


@dataclass
class Contract:
    """The spec, and the exchanges checked against it: how many, and each mismatch."""

    openapi: OpenAPI
    validated: int = 0
    mismatches: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Contract:
        return cls(OpenAPI.from_dict(spec))

    def fresh(self) -> Contract:
        """The same spec, nothing counted yet (reading a spec costs more than a test)."""
        return Contract(self.openapi)

    def check(self, request: Request, response: TestResponse) -> None:
        """The request, if the server took it (2xx, 3xx), and the response, always."""
        found: list[str] = []
        checked = WerkzeugOpenAPIRequest(request)
        where = f"{request.method} {request.full_path.rstrip('?')} → {response.status_code}"
        if response.status_code < 400:
            found += [f"{where}: request: {error}" for error in _errors_of_request(self, checked)]
        result = self.openapi.unmarshal_response(checked, WerkzeugOpenAPIResponse(response))
        found += [f"{where}: response: {_explain(error)}" for error in result.errors]
        with self._lock:
            self.validated += 1
            self.mismatches += found

    def client_class(self) -> type[FlaskClient]:
        """A FlaskClient whose every exchange this contract checks."""
        contract = self

        class CheckedClient(FlaskClient):
            def open(self, *args: Any, **kwargs: Any) -> TestResponse:
                request = _copy_of_request(*args, **kwargs)
                response: TestResponse = super().open(*args, **kwargs)
                if request is not None and request.path.startswith("/api/v1/"):
                    if request.path != SPEC_PATH:
                        contract.check(request, response)
                return response

        return CheckedClient


def _errors_of_request(contract: Contract, request: WerkzeugOpenAPIRequest) -> list[str]:
    return [_explain(error) for error in contract.openapi.unmarshal_request(request).errors]


def _copy_of_request(*args: Any, **kwargs: Any) -> Request | None:
    """The request as the app will see it, its body read now (the app consumes the stream);
    None when the client is handed a prepared environ or builder, which this does not copy."""
    if args and not isinstance(args[0], str):
        return None
    kwargs = {key: value for key, value in kwargs.items() if key != "follow_redirects"}
    builder = EnvironBuilder(*args, **kwargs)
    try:
        request = builder.get_request()
        request.get_data(cache=True)
        return request
    finally:
        builder.close()


def _explain(error: Exception) -> str:
    """The error with its schema errors, which openapi-core keeps on __cause__."""
    reasons = getattr(error.__cause__, "schema_errors", None) or ()
    details = "; ".join(str(getattr(reason, "message", reason)) for reason in reasons)
    return f"{error!r}{': ' + details if details else ''}"
