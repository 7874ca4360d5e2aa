"""Locust load test for the O2O service: shoppers paying online and the in-store QR flow.

Two kinds of simulated users, in-store the majority (weights 3 : 1):

- ``InStoreUser``: a shopper claims a coupon and shows its QR token; the store's clerk scans it
  (``POST /scans``), checks out (``POST /orders`` with the token), takes the shopper's one-time
  payment code (``GET /me/payment-code``) in a ``clerk_scan`` payment, and sometimes refunds part
  of it. Now and then a purchase without a coupon.
- ``ShopperUser``: browses claimable campaigns and its own coupons, claims, fetches a QR token
  and pays online (``POST /orders`` with ``coupon_code``, then a payment with ``flow: "online"``);
  now and then the mock provider declines (``O2O-Mock-Outcome: declined``) and the shopper pays
  again.

Everything a user needs is created through the public API with the admin key, inside each
Locust process, so nothing has to travel from the master to the workers: every user registers
its own shopper in ``on_start``; each process lazily creates one campaign (large
``total_quantity`` and ``per_shopper_limit``) and a small pool of stores with a clerk each, shared
by its users. Setup requests show up in the statistics under names starting with ``[setup]``.
Requests whose URL holds an id are named with ``[id]`` / ``[code]`` so they aggregate; any
unexpected status (or a body that contradicts the contract) is counted as a failure.

Run it from the repository root (``pip install locust``, or the ``loadtest`` extra), against a
service that has been migrated (``o2o db upgrade``) and knows the admin key (``o2o seed`` or
``O2O_ADMIN_KEY`` on the server):

Local, headless::

    locust -f loadtest/locustfile.py --headless -u 50 -r 10 -t 1m --host http://127.0.0.1:5000

Local with the web UI (http://127.0.0.1:8089)::

    locust -f loadtest/locustfile.py --host http://127.0.0.1:5000

Distributed: one master (it generates no load, it aggregates) and workers on the load machines,
as many as their CPU cores (a Locust process uses one core)::

    locust -f loadtest/locustfile.py --master --expect-workers 4 \\
        --headless -u 2000 -r 50 -t 10m --host http://lb.internal:8000      # master machine
    locust -f loadtest/locustfile.py --worker --master-host <master>       # each load machine

Every worker needs this file (and the same environment variables); the master hands out users
and the host. Drop ``--headless -u -r -t`` on the master to drive the run from its web UI.

Environment variables (read by every process):

- ``O2O_ADMIN_KEY``: admin bearer key used for setup (default ``demo-admin-key``).
- ``O2O_LT_HOSTS``: comma-separated base URLs (``http://app1:8000,http://app2:8000``) to spread
  users over several instances round-robin when there is no load balancer; overrides ``--host``.
- ``O2O_LT_CAMPAIGN_ID``: claim from this existing campaign instead of creating one per process
  (any discount with ``min_spend`` ≤ ¥300, open in store and online, at every store).
  Shoppers who reach its per-shopper limit are replaced by new ones; once it runs out (or is
  paused) each process goes on with a campaign of its own.
- ``O2O_LT_STORES``: stores (each with one clerk) created per process (default 2).
- ``O2O_LT_DECLINE_RATE``: share of online payments first declined (default 0.1).
- ``O2O_LT_REFUND_RATE``: share of in-store payments partly refunded (default 0.2).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import gevent
from gevent.lock import BoundedSemaphore
from locust import HttpUser, between, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

API = "/api/v1"
ADMIN_KEY = os.environ.get("O2O_ADMIN_KEY", "demo-admin-key")
HOSTS = [h.strip().rstrip("/") for h in os.environ.get("O2O_LT_HOSTS", "").split(",") if h.strip()]
FIXED_CAMPAIGN_ID = os.environ.get("O2O_LT_CAMPAIGN_ID") or None
STORES_PER_PROCESS = max(1, int(os.environ.get("O2O_LT_STORES", "2")))
DECLINE_RATE = float(os.environ.get("O2O_LT_DECLINE_RATE", "0.1"))
REFUND_RATE = float(os.environ.get("O2O_LT_REFUND_RATE", "0.2"))

# The campaign each process creates: ¥50 off orders of ¥300+, in store and online, every store.
DISCOUNT = {"type": "amount_off", "amount_off": 5000, "min_spend": 30000}
TOTAL_QUANTITY = 10_000_000  # the schema's maximum
PER_SHOPPER_LIMIT = 1000  # the schema's maximum; a shopper who reaches it is replaced
PAYMENT_METHODS = ("wechat_pay", "alipay", "card")
CLAIM_CHANNELS = ("app", "public_account", "in_store")

log = logging.getLogger("o2o.loadtest")

Check = Callable[[int, Any], str | None]
"""Given (status, JSON body), an error message when the response breaks the contract."""


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _amount() -> int:
    """A basket between ¥300 and ¥1000, so the ¥50-off-¥300 coupon always applies."""
    return random.randrange(30_000, 100_001, 100)


class O2OUser(HttpUser):
    """Shared plumbing: checked requests, the user's own shopper, claiming."""

    abstract = True
    host = HOSTS[0] if HOSTS else None  # so that O2O_LT_HOSTS alone is enough, without --host
    wait_time = between(0.5, 2)
    _numbers = itertools.count()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if HOSTS:  # spread users over instances when there is no load balancer in front
            self.client.base_url = HOSTS[next(self._numbers) % len(HOSTS)]
        self.shopper_key = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        key: str,
        expect: int | tuple[int, ...],
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        check: Check | None = None,
    ) -> tuple[int, Any]:
        """One request under `name`; a failure unless the status is expected and `check` passes.

        Returns (status, JSON body), the body None on failure; status 0 when no response came.
        """
        expected = (expect,) if isinstance(expect, int) else expect
        all_headers = _bearer(key) | (headers or {})
        with self.client.request(
            method,
            API + path,
            name=name,
            json=json_body,
            headers=all_headers,
            catch_response=True,
        ) as resp:
            status = resp.status_code
            try:
                body = resp.json() if resp.content else None
            except ValueError:
                body = None
            if status not in expected:
                resp.failure(f"HTTP {status} (expected {'/'.join(map(str, expected))}): {body}")
                return status, None
            if not isinstance(body, dict):
                resp.failure(f"HTTP {status} without a JSON object body")
                return status, None
            problem = check(status, body) if check else None
            if problem:
                resp.failure(problem)
                return status, None
            resp.success()
            return status, body

    def register_shopper(self) -> bool:
        tag = uuid.uuid4().hex[:10]
        _, body = self.call(
            "POST",
            "/shoppers",
            name="[setup] /shoppers",
            key=ADMIN_KEY,
            expect=201,
            json_body={"name": f"Load shopper {tag}"},
            check=lambda _s, b: None if b and b.get("api_key") else "no api_key in the response",
        )
        if body is None:
            return False
        self.shopper_key = body["api_key"]
        return True

    def on_start(self) -> None:
        self.register_shopper()

    def claim(self, channel: str) -> dict[str, Any] | None:
        """Claim a coupon from this process's campaign; None when there is nothing to go on."""
        if not self.shopper_key and not self.register_shopper():
            return None
        campaign_id = FIXTURES.campaign(self)
        if campaign_id is None:
            return None
        handled = ("per_shopper_limit_reached", "campaign_exhausted", "campaign_not_active")

        def check(status: int, body: Any) -> str | None:
            if status == 409:
                code = _error_code(body)
                return None if code in handled else f"409 {code}"
            if not body or body.get("status") != "available" or not body.get("code"):
                return f"claimed coupon is not available: {body}"
            return None

        status, body = self.call(
            "POST",
            f"/campaigns/{campaign_id}/claims",
            name="/campaigns/[id]/claims",
            key=self.shopper_key,
            expect=(201, 409),
            json_body={"channel": channel},
            check=check,
        )
        if status == 409 and body is not None:
            if _error_code(body) == "per_shopper_limit_reached":
                self.register_shopper()  # this shopper has had their fill: a new one walks in
            else:
                FIXTURES.retire_campaign(campaign_id)
            return None
        return body if status == 201 else None

    def qr_token(self, code: str) -> str | None:
        _, body = self.call(
            "GET",
            f"/coupons/{code}/qr-token",
            name="/coupons/[code]/qr-token",
            key=self.shopper_key,
            expect=200,
            check=lambda _s, b: None if b and b.get("token") else "no token in the response",
        )
        return body["token"] if body else None

    def payment_code(self) -> str | None:
        _, body = self.call(
            "GET",
            "/me/payment-code",
            name="/me/payment-code",
            key=self.shopper_key,
            expect=200,
            check=lambda _s, b: (
                None
                if b and len(str(b.get("auth_code", ""))) == 18
                else f"not an 18-digit auth_code: {b}"
            ),
        )
        return body["auth_code"] if body else None


class _Fixtures:
    """What the users of one Locust process share, created lazily through the admin API."""

    def __init__(self) -> None:
        self._lock = BoundedSemaphore()
        self._campaign_id: str | None = FIXED_CAMPAIGN_ID
        self._stores: list[tuple[str, str]] = []  # (store_id, clerk api key)
        self._next_store = itertools.count()

    def campaign(self, user: O2OUser) -> str | None:
        if self._campaign_id:
            return self._campaign_id
        with self._lock:  # one greenlet creates it, the others wait and reuse it
            if self._campaign_id is None:
                tag = uuid.uuid4().hex[:8]
                _, body = user.call(
                    "POST",
                    "/campaigns",
                    name="[setup] /campaigns",
                    key=ADMIN_KEY,
                    expect=201,
                    json_body={
                        "name": f"Load test {tag}: 50 off 300",
                        "discount": DISCOUNT,
                        "total_quantity": TOTAL_QUANTITY,
                        "per_shopper_limit": PER_SHOPPER_LIMIT,
                        "valid_days_after_claim": 30,
                        "channels": ["in_store", "online"],
                    },
                )
                if body is not None:
                    self._campaign_id = body["id"]
                    log.info("campaign %s created for this process", self._campaign_id)
            return self._campaign_id

    def retire_campaign(self, campaign_id: str) -> None:
        """The campaign ran out (or was paused): the next claim creates a fresh one."""
        with self._lock:
            if self._campaign_id == campaign_id:
                log.warning("campaign %s exhausted or inactive, switching", campaign_id)
                self._campaign_id = None

    def store(self, user: O2OUser) -> tuple[str, str] | None:
        """A (store_id, clerk key) pair; stores are handed out round-robin, created on demand."""
        slot = next(self._next_store) % STORES_PER_PROCESS
        with self._lock:
            while len(self._stores) <= slot:
                created = self._create_store(user)
                if created is None:
                    return None
                self._stores.append(created)
            return self._stores[slot]

    @staticmethod
    def _create_store(user: O2OUser) -> tuple[str, str] | None:
        tag = uuid.uuid4().hex[:8]
        _, store = user.call(
            "POST",
            "/stores",
            name="[setup] /stores",
            key=ADMIN_KEY,
            expect=201,
            json_body={"name": f"Load test store {tag}", "city": "Hangzhou"},
        )
        if store is None:
            return None
        _, clerk = user.call(
            "POST",
            "/clerks",
            name="[setup] /clerks",
            key=ADMIN_KEY,
            expect=201,
            json_body={"name": f"Clerk {tag}", "store_id": store["id"]},
            check=lambda _s, b: None if b and b.get("api_key") else "no api_key in the response",
        )
        if clerk is None:
            return None
        log.info("store %s with clerk %s created for this process", store["id"], clerk["id"])
        return store["id"], clerk["api_key"]


FIXTURES = _Fixtures()


class ShopperUser(O2OUser):
    """A shopper at home: browses, claims, and pays online with the coupon."""

    weight = 1

    @task(2)
    def browse(self) -> None:
        if not self.shopper_key:
            return
        self.call(
            "GET",
            "/campaigns?claimable=true",
            name="/campaigns?claimable=true",
            key=self.shopper_key,
            expect=200,
        )
        self.call(
            "GET",
            "/me/coupons?status=available",
            name="/me/coupons?status=available",
            key=self.shopper_key,
            expect=200,
        )

    @task(3)
    def buy_online(self) -> None:
        coupon = self.claim(random.choice(("app", "public_account")))
        if coupon is None:
            return
        code = coupon["code"]
        self.call("GET", "/me/coupons", name="/me/coupons", key=self.shopper_key, expect=200)
        if self.qr_token(code) is None:
            return
        amount = _amount()

        def order_ok(_status: int, order: Any) -> str | None:
            if order.get("channel") != "online" or order.get("coupon_code") != code:
                return f"unexpected order: {order}"
            if order.get("discount_amount", 0) <= 0 or order.get("status") != "awaiting_payment":
                return f"coupon not applied: {order}"
            return None

        _, order = self.call(
            "POST",
            "/orders",
            name="/orders (online)",
            key=self.shopper_key,
            expect=201,
            json_body={"amount": amount, "coupon_code": code},
            check=order_ok,
        )
        if order is None:
            return
        body = {"method": random.choice(PAYMENT_METHODS), "flow": "online"}
        if random.random() < DECLINE_RATE:
            self.call(
                "POST",
                f"/orders/{order['id']}/payments",
                name="/orders/[id]/payments (online, declined)",
                key=self.shopper_key,
                expect=201,
                json_body=body,
                headers={"O2O-Mock-Outcome": "declined"},
                check=lambda _s, p: (
                    None
                    if p.get("status") == "failed" and p.get("failure_code") == "declined"
                    else f"expected a declined payment: {p}"
                ),
            )
        self.call(
            "POST",
            f"/orders/{order['id']}/payments",
            name="/orders/[id]/payments (online)",
            key=self.shopper_key,
            expect=201,
            json_body=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            check=lambda _s, p: (
                None
                if p.get("status") == "succeeded" and p.get("amount") == order["payable_amount"]
                else f"payment did not succeed for {order['payable_amount']}: {p}"
            ),
        )


class InStoreUser(O2OUser):
    """A shopper at a till with a coupon on their phone, and the clerk who serves them."""

    weight = 3

    def on_start(self) -> None:
        super().on_start()
        self.store_id = self.clerk_key = ""
        self.has_store()

    def has_store(self) -> bool:
        """This user's store and clerk, fetched (or created) until it works once."""
        if not self.clerk_key:
            store = FIXTURES.store(self)
            if store is not None:
                self.store_id, self.clerk_key = store
        return bool(self.clerk_key)

    def _checkout(self, amount: int, qr_token: str | None, code: str | None) -> None:
        """The clerk checks out `amount` (with the coupon's token, if any) and takes payment."""

        def order_ok(_status: int, order: Any) -> str | None:
            if order.get("channel") != "in_store" or order.get("store_id") != self.store_id:
                return f"unexpected order: {order}"
            if order.get("coupon_code") != code or order.get("status") != "awaiting_payment":
                return f"unexpected order: {order}"
            return None

        body: dict[str, Any] = {"amount": amount}
        if qr_token:
            body["qr_token"] = qr_token
        _, order = self.call(
            "POST",
            "/orders",
            name="/orders (in_store)",
            key=self.clerk_key,
            expect=201,
            json_body=body,
            check=order_ok,
        )
        if order is None:
            return
        auth_code = self.payment_code()
        if auth_code is None:
            return
        _, payment = self.call(
            "POST",
            f"/orders/{order['id']}/payments",
            name="/orders/[id]/payments (clerk_scan)",
            key=self.clerk_key,
            expect=201,
            json_body={
                "method": random.choice(PAYMENT_METHODS[:2]),
                "flow": "clerk_scan",
                "auth_code": auth_code,
            },
            headers={"Idempotency-Key": f"till-{self.store_id}-{order['id']}"},
            check=lambda _s, p: (
                None
                if p.get("status") == "succeeded" and p.get("amount") == order["payable_amount"]
                else f"payment did not succeed for {order['payable_amount']}: {p}"
            ),
        )
        if payment is None:
            return
        status = "paid"
        if random.random() < REFUND_RATE and payment["amount"] > 100:
            part = random.randrange(100, payment["amount"], 100)
            _, refund = self.call(
                "POST",
                f"/payments/{payment['id']}/refunds",
                name="/payments/[id]/refunds (partial)",
                key=self.clerk_key,
                expect=201,
                json_body={"amount": part, "reason": "one item returned"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
                check=lambda _s, r: None if r.get("amount") == part else f"refund: {r}",
            )
            if refund is not None:
                status = "partially_refunded"
        self.call(
            "GET",
            f"/orders/{order['id']}",
            name="/orders/[id]",
            key=self.shopper_key,
            expect=200,
            check=lambda _s, o: (
                None if o.get("status") == status else f"order is {o.get('status')}, not {status}"
            ),
        )

    @task(5)
    def purchase_with_coupon(self) -> None:
        if not self.has_store():
            return
        coupon = self.claim(random.choice(CLAIM_CHANNELS))
        if coupon is None:
            return
        token = self.qr_token(coupon["code"])
        if token is None:
            return
        amount = _amount()

        def scan_ok(_status: int, scan: Any) -> str | None:
            if not scan.get("applicable") or scan.get("reasons"):
                return f"coupon not applicable: {scan.get('reasons')}"
            if scan.get("payable_amount") != amount - scan.get("discount_amount", 0):
                return f"payable does not add up: {scan}"
            return None

        _, scan = self.call(
            "POST",
            "/scans",
            name="/scans",
            key=self.clerk_key,
            expect=200,
            json_body={"qr_token": token, "amount": amount},
            check=scan_ok,
        )
        if scan is not None:
            self._checkout(amount, token, coupon["code"])

    @task(1)
    def purchase_without_coupon(self) -> None:
        if self.has_store() and (self.shopper_key or self.register_shopper()):
            self._checkout(random.randrange(1_000, 50_001, 100), None, None)


@events.test_start.add_listener
def _preflight(environment: Environment, **_: Any) -> None:
    """On the master (or a local run): the service answers and the admin key is accepted.

    If not, a headless run stops at once with exit code 1; with the web UI it is only logged.
    """
    if isinstance(environment.runner, WorkerRunner):
        return
    hosts = HOSTS or ([environment.host.rstrip("/")] if environment.host else [])
    problems = []
    for host in hosts:
        request = urllib.request.Request(f"{host}{API}/stores?limit=1", headers=_bearer(ADMIN_KEY))
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                json.load(resp)
        except urllib.error.HTTPError as exc:
            hint = " (is O2O_ADMIN_KEY the service's admin key?)" if exc.code == 401 else ""
            problems.append(f"GET {host}{API}/stores -> HTTP {exc.code}{hint}")
        except (OSError, ValueError) as exc:
            problems.append(f"{host} does not answer as the O2O service: {exc}")
        else:
            log.info("preflight: %s is up and accepts the admin key", host)
    for problem in problems:
        log.error("preflight: %s", problem)
    options = environment.parsed_options
    if problems and options is not None and options.headless and environment.runner is not None:
        environment.process_exit_code = 1
        gevent.spawn(environment.runner.quit)
