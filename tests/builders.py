"""Builders: make stores, people, campaigns and coupons through the public API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ADMIN_KEY = "test-admin-key"
SECRET = "test-secret"
API = "/api/v1"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def campaign_fields(**overrides: Any) -> dict[str, Any]:
    """A valid campaign body: ¥50 off ¥300, 100 coupons, valid 30 days after claim."""
    body: dict[str, Any] = {
        "name": "¥50 off ¥300",
        "discount": {"type": "amount_off", "amount_off": 5000, "min_spend": 30000},
        "total_quantity": 100,
        "valid_days_after_claim": 30,
    }
    body.update(overrides)
    return body


def error_code(response: TestResponse) -> str:
    body = response.get_json()
    assert body is not None, response.data
    assert "error" in body, body
    return str(body["error"]["code"])


@dataclass
class Api:
    """The test client with keys and paths filled in."""

    client: FlaskClient
    admin_key: str = ADMIN_KEY

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        all_headers = {**(bearer(key) if key else {}), **(headers or {})}
        return self.client.open(API + path, method=method, json=json, headers=all_headers, **kwargs)

    def get(self, path: str, key: str | None = None, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, key, **kwargs)

    def post(self, path: str, key: str | None = None, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, key, **kwargs)

    def patch(self, path: str, key: str | None = None, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, key, **kwargs)

    def _created(self, path: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        response = self.post(path, key or self.admin_key, json=body)
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def store(self, **fields: Any) -> dict[str, Any]:
        return self._created("/stores", {"name": "Xihu", "city": "Hangzhou", **fields})

    def clerk(self, store_id: str | None = None, **fields: Any) -> dict[str, Any]:
        store_id = store_id or self.store()["id"]
        return self._created("/clerks", {"name": "Clerk", "store_id": store_id, **fields})

    def shopper(self, **fields: Any) -> dict[str, Any]:
        return self._created("/shoppers", {"name": "Shopper", **fields})

    def campaign(self, **overrides: Any) -> dict[str, Any]:
        return self._created("/campaigns", campaign_fields(**overrides))

    def claim(self, shopper: dict[str, Any], campaign_id: str, **body: Any) -> dict[str, Any]:
        return self._created(f"/campaigns/{campaign_id}/claims", body, key=shopper["api_key"])

    def coupon(self, shopper: dict[str, Any] | None = None, **campaign: Any) -> dict[str, Any]:
        """A freshly claimed coupon (of a new campaign unless campaign_id is given)."""
        shopper = shopper or self.shopper()
        campaign_id = campaign.pop("campaign_id", None) or self.campaign(**campaign)["id"]
        return self.claim(shopper, campaign_id)

    def clock(self, **body: Any) -> str:
        response = self.post("/sandbox/clock", self.admin_key, json=body)
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["now"])
