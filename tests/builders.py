"""Builders: make stores, people, campaigns and coupons through the public API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from o2o import events
from o2o.events import delivery
from o2o.extensions import db
from o2o.models import Campaign
from o2o.vocabulary import EventType

ADMIN_KEY = "test-admin-key"
SECRET = "test-secret"
API = "/api/v1"

# The time rules the tests count on, pinned rather than read from the environment.
QR_TOKEN_TTL = 300
ORDER_TTL = 900
PAYMENT_CODE_TTL = 60
MOCK_PAYING_SECONDS = 5
IDEMPOTENCY_TTL = 24 * 3600

# Every O2O_* setting a test app relies on; test apps read nothing else from os.environ.
PINNED_SETTINGS: dict[str, Any] = {
    "O2O_SECRET_KEY": SECRET,
    "O2O_ADMIN_KEY": ADMIN_KEY,
    "O2O_SANDBOX": True,
    "O2O_QR_TOKEN_TTL": QR_TOKEN_TTL,
    "O2O_ORDER_TTL": ORDER_TTL,
    "O2O_PAYMENT_CODE_TTL": PAYMENT_CODE_TTL,
    "O2O_MOCK_PAYING_SECONDS": MOCK_PAYING_SECONDS,
    "O2O_IDEMPOTENCY_TTL": IDEMPOTENCY_TTL,
    "O2O_SCAN_IMAGE_MAX_BYTES": 8 * 1024 * 1024,
    "O2O_SCAN_IMAGE_MAX_PIXELS": 50_000_000,
    "O2O_TIMEZONE": "Asia/Shanghai",
}


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

    def qr_token(self, shopper: dict[str, Any], code: str) -> str:
        response = self.get(f"/coupons/{code}/qr-token", shopper["api_key"])
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["token"])

    def payment_code(self, shopper: dict[str, Any]) -> str:
        return str(self.get("/me/payment-code", shopper["api_key"]).get_json()["auth_code"])

    def order(
        self, clerk: dict[str, Any], amount: int = 39900, token: str | None = None
    ) -> dict[str, Any]:
        """An in-store order placed by the clerk, with the coupon behind `token` if given."""
        body: dict[str, Any] = {"amount": amount, **({"qr_token": token} if token else {})}
        return self._created("/orders", body, key=clerk["api_key"])

    def online_order(
        self, shopper: dict[str, Any], amount: int = 39900, code: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"amount": amount, **({"coupon_code": code} if code else {})}
        return self._created("/orders", body, key=shopper["api_key"])

    def pay(
        self,
        order: dict[str, Any],
        payer: dict[str, Any],
        clerk: dict[str, Any] | None = None,
        outcome: str = "success",
        method: str = "wechat_pay",
    ) -> TestResponse:
        """Pay in store by clerk_scan of the payer's code, or online when no clerk is given."""
        headers = {"O2O-Mock-Outcome": outcome}
        path = f"/orders/{order['id']}/payments"
        if clerk is None:
            body = {"method": method, "flow": "online"}
            return self.post(path, payer["api_key"], json=body, headers=headers)
        body = {"method": method, "flow": "clerk_scan", "auth_code": self.payment_code(payer)}
        return self.post(path, clerk["api_key"], json=body, headers=headers)

    def checkout(self, amount: int = 39900, **campaign: Any) -> dict[str, Any]:
        """A whole in-store purchase with a coupon; returns everyone and everything made."""
        clerk = self.clerk()
        shopper = self.shopper()
        coupon = self.coupon(shopper, **campaign)
        order = self.order(clerk, amount, self.qr_token(shopper, coupon["code"]))
        payment = self.pay(order, shopper, clerk)
        assert payment.status_code == 201, payment.get_json()
        return {
            "clerk": clerk,
            "shopper": shopper,
            "code": coupon["code"],
            "campaign_id": coupon["campaign_id"],
            "order": order,
            "payment": payment.get_json(),
        }

    def reserved_sale(self) -> dict[str, Any]:
        """A clerk, a shopper and an in-store order holding the shopper's coupon, unpaid."""
        clerk, shopper = self.clerk(), self.shopper()
        code = self.coupon(shopper)["code"]
        order = self.order(clerk, token=self.qr_token(shopper, code))
        return {"clerk": clerk, "shopper": shopper, "code": code, "order": order}

    def walk_in_sale(self, method: str = "wechat_pay") -> dict[str, Any]:
        """A walk-in's order (placed by a clerk, no coupon: no shopper) and the pending
        shopper_scan payment its merchant QR asks someone to confirm."""
        clerk = self.clerk()
        order = self.order(clerk)
        body = {"method": method, "flow": "shopper_scan"}
        payment = self._created(f"/orders/{order['id']}/payments", body, key=clerk["api_key"])
        return {"clerk": clerk, "order": order, "payment": payment}

    def confirm(
        self, payment_id: str, shopper: dict[str, Any], outcome: str = "success"
    ) -> TestResponse:
        """The shopper confirms a shopper_scan payment (the wallet's Pay)."""
        headers = {"O2O-Mock-Outcome": outcome}
        return self.post(f"/payments/{payment_id}/confirm", shopper["api_key"], headers=headers)

    def coupon_status(self, code: str) -> str:
        return str(self.get(f"/coupons/{code}", self.admin_key).get_json()["status"])

    def coupon_campaign(self, code: str) -> str:
        return str(self.get(f"/coupons/{code}", self.admin_key).get_json()["campaign_id"])

    def events(self, code: str) -> list[str]:
        items = self.get(f"/coupons/{code}/events", self.admin_key).get_json()["items"]
        return [item["type"] for item in items]

    def clock(self, **body: Any) -> str:
        response = self.post("/sandbox/clock", self.admin_key, json=body)
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["now"])

    def page(self, path: str, key: str | None = None, **params: Any) -> dict[str, Any]:
        """One page of a list, asserted 200: `{items, next_cursor}`."""
        response = self.get(path, key or self.admin_key, query_string=params)
        assert response.status_code == 200, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def listed(self, path: str, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, walking its pages by `next_cursor` (`limit` per page)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.page(path, key, **params, **({"cursor": cursor} if cursor else {}))
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def refund(self, payment_id: str, key: str | None = None, **body: Any) -> dict[str, Any]:
        """A refund of the payment (all that is left unless `amount` is given)."""
        return self._created(f"/payments/{payment_id}/refunds", body, key)

    def void(self, code: str, key: str | None = None, **body: Any) -> TestResponse:
        return self.post(f"/coupons/{code}/void", key or self.admin_key, json=body)

    def all_events(self, **filters: Any) -> list[dict[str, Any]]:
        """Every event GET /events lists (newest first), following its cursors."""
        return self.listed("/events", limit=200, **filters)

    def event_count(self) -> int:
        return len(self.all_events())


# -- webhooks ----------------------------------------------------------------------------------


def webhook_endpoint(api: Api, url: str, patterns: Any = ("*",), **fields: Any) -> dict[str, Any]:
    """A webhook endpoint registered by the admin (its `secret` included, as created)."""
    return api._created("/webhook-endpoints", {"url": url, "events": list(patterns), **fields})


def recorded_event(app: Flask, api: Api, type_: str = "campaign.exhausted") -> str:
    """The id of an event recorded for a fresh campaign (by default `campaign.exhausted`, which
    no API call of these tests makes, so an endpoint for it gets this event alone)."""
    campaign_id = api.campaign()["id"]
    with app.app_context():
        event = events.record(EventType(type_), db.session.get_one(Campaign, campaign_id))
        db.session.commit()
        return str(event.id)


def deliver(app: Flask, worker_id: str = "test-worker") -> int:
    """One tick of the delivery loop, in process: the work it did."""
    with app.app_context():
        return delivery.run_once(worker_id)


def deliveries(api: Api, endpoint_id: str, **query: str) -> list[dict[str, Any]]:
    """An endpoint's delivery log, newest first."""
    response = api.get(
        f"/webhook-endpoints/{endpoint_id}/deliveries", api.admin_key, query_string=query
    )
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items
