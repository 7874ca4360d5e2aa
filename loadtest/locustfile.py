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

Every flow goes through ``o2o.client`` (``Service``, ``Shopper``, ``Clerk``) over
``LocustTransport``, a transport backed by the user's Locust session, so each request is one
entry in Locust's statistics. Everything a user needs is created with the admin key, inside each
Locust process, so nothing has to travel from the master to the workers: every user registers
its own shopper in ``on_start``; each process lazily creates one campaign (large
``total_quantity`` and ``per_shopper_limit``) and a small pool of stores with a clerk each, shared
by its users. Setup requests show up in the statistics under names starting with ``[setup]``.
Requests whose URL holds an id are named with ``[id]`` / ``[code]`` so they aggregate, and some
carry the flow in parentheses (``/orders (online)``); any unexpected status (or a body that
contradicts the contract) is counted as a failure, and ends that task.

Run it from the repository root with ``o2o`` and Locust installed (the ``loadtest`` extra:
``pip install -e '.[loadtest]'``; on a load machine only ``o2o.client`` is used), against a
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

Every worker needs o2o installed, this file and the same environment variables; the master
hands out users and the host. Drop ``--headless -u -r -t`` on the master to drive the run from
its web UI.

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

import functools
import itertools
import json
import logging
import os
import random
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import gevent
from gevent.lock import BoundedSemaphore
from locust import HttpUser, between, events, task
from locust.clients import HttpSession
from locust.env import Environment
from locust.runners import WorkerRunner

from o2o.client import (
    PREFIX,
    Clerk,
    Coupon,
    Order,
    OverHttp,
    Reply,
    Service,
    ServiceError,
    Shopper,
    amount_off,
)
from o2o.client.transport import decode, request_headers
from o2o.vocabulary import (
    Channel,
    ClaimChannel,
    CouponStatus,
    ErrorCode,
    MockOutcome,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)

ADMIN_KEY = os.environ.get("O2O_ADMIN_KEY", "demo-admin-key")
HOSTS = [h.strip().rstrip("/") for h in os.environ.get("O2O_LT_HOSTS", "").split(",") if h.strip()]
FIXED_CAMPAIGN_ID = os.environ.get("O2O_LT_CAMPAIGN_ID") or None
STORES_PER_PROCESS = max(1, int(os.environ.get("O2O_LT_STORES", "2")))
DECLINE_RATE = float(os.environ.get("O2O_LT_DECLINE_RATE", "0.1"))
REFUND_RATE = float(os.environ.get("O2O_LT_REFUND_RATE", "0.2"))

# The campaign each process creates: ¥50 off orders of ¥300+, in store and online, every store.
DISCOUNT = amount_off(5000, min_spend=30000)
TOTAL_QUANTITY = 10_000_000  # the schema's maximum
PER_SHOPPER_LIMIT = 1000  # the schema's maximum; a shopper who reaches it is replaced
PAYMENT_METHODS = tuple(PaymentMethod)
CLAIM_CHANNELS = tuple(ClaimChannel)
# Claims may answer 409 with these codes: a new shopper, or a new campaign, takes over.
CLAIM_REFUSALS = (
    ErrorCode.PER_SHOPPER_LIMIT_REACHED.code,
    ErrorCode.CAMPAIGN_EXHAUSTED.code,
    ErrorCode.CAMPAIGN_NOT_ACTIVE.code,
)

log = logging.getLogger("o2o.loadtest")

Check = Callable[[Reply], str | None]
"""Given a reply, an error message when it breaks the contract."""

# Path segments after these are ids (codes, for coupons): named [id] / [code] so they aggregate.
_COLLECTIONS = re.compile(r"/(orders|payments|campaigns|stores|clerks|shoppers|coupons)/([^/?]+)")


def request_name(path: str) -> str:
    """`/orders/ord_1/payments` → `/orders/[id]/payments`; `/coupons/ABC/qr-token` → `[code]`."""

    def template(match: re.Match[str]) -> str:
        collection = match.group(1)
        return f"/{collection}/{'[code]' if collection == 'coupons' else '[id]'}"

    return _COLLECTIONS.sub(template, path)


class LocustTransport:
    """A Transport over a Locust user's HttpSession: each request is one entry in Locust's stats.

    A 2xx JSON object answer is a success; any other answer, one that `expect(accept=…)` does
    not allow, or one its `check` rejects, is a failure in the stats and raises ServiceError.
    """

    def __init__(self, session: HttpSession) -> None:
        self.session = session
        self.label: str | None = None
        self.setup = False
        self.accept: tuple[int, ...] = ()
        self.check: Check | None = None

    @contextmanager
    def expect(
        self,
        label: str | None = None,
        *,
        setup: bool = False,
        accept: tuple[int, ...] = (),
        check: Check | None = None,
    ) -> Iterator[None]:
        """Within the block: name requests `[setup] …` or `… (label)`, allow `accept`, `check`."""
        saved = self.label, self.setup, self.accept, self.check
        self.label, self.setup, self.accept, self.check = label, setup, accept, check
        try:
            yield
        finally:
            self.label, self.setup, self.accept, self.check = saved

    def name(self, path: str) -> str:
        """The name this request is recorded under."""
        name = request_name(path)
        if self.setup:
            name = f"[setup] {name}"
        return f"{name} ({self.label})" if self.label else name

    def request(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send through the session, record success or failure, and return the Reply."""
        with self.session.request(
            method,
            PREFIX + path,
            name=self.name(path),
            data=None if body is None else json.dumps(body),
            headers=request_headers(key, headers),
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            try:
                reply = decode(status, response.content or b"", dict(response.headers or {}))
            except ValueError:
                reply = Reply(status, response.content or b"")
            problem = self.problem(reply, response.error)
            if problem is None:
                response.success()
                return reply
            response.failure(problem)
        envelope = reply.body if isinstance(reply.body, dict) and "error" in reply.body else None
        raise ServiceError(status, envelope or {"error": {"message": problem}}, method, path)

    def problem(self, reply: Reply, error: Any) -> str | None:
        """Why this reply is a failure, or None."""
        if reply.status == 0:
            return f"no response: {error}"
        if not 200 <= reply.status < 300 and reply.status not in self.accept:
            return f"HTTP {reply.status}: {reply.body!r}"[:500]
        if not isinstance(reply.body, dict):
            return f"HTTP {reply.status} without a JSON object body"
        return self.check(reply) if self.check else None


def has(field: str) -> Check:
    """A check that the reply holds a non-empty `field`."""
    return lambda reply: None if reply.body.get(field) else f"no {field} in the response"


def _amount() -> int:
    """A basket between ¥300 and ¥1000, so the ¥50-off-¥300 coupon always applies."""
    return random.randrange(30_000, 100_001, 100)


P = ParamSpec("P")
U = TypeVar("U", bound="O2OUser")


def flow(
    body: Callable[Concatenate[U, P], None],
) -> Callable[Concatenate[U, P], None]:
    """A task that ends at the first failed request (Locust has already recorded it)."""

    @functools.wraps(body)
    def run(user: U, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            body(user, *args, **kwargs)
        except ServiceError as error:
            log.debug("task %s ended: %s", body.__name__, error)

    return run


class O2OUser(HttpUser):
    """Shared plumbing: the client over this user's session, its own shopper, claiming."""

    abstract = True
    host = HOSTS[0] if HOSTS else None  # so that O2O_LT_HOSTS alone is enough, without --host
    wait_time = between(0.5, 2)
    _numbers = itertools.count()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if HOSTS:  # spread users over instances when there is no load balancer in front
            self.client.base_url = HOSTS[next(self._numbers) % len(HOSTS)]
        self.transport = LocustTransport(self.client)
        self.admin = Service(self.transport, ADMIN_KEY)
        self.shopper: Shopper | None = None

    def register_shopper(self) -> Shopper:
        """A new shopper for this user (at the start, and when one has had their fill)."""
        with self.transport.expect(setup=True, check=has("api_key")):
            self.shopper = self.admin.shopper(f"Load shopper {uuid.uuid4().hex[:10]}")
        return self.shopper

    def me(self) -> Shopper:
        """This user's shopper, registered if the first attempt failed."""
        return self.shopper or self.register_shopper()

    def on_start(self) -> None:
        try:
            self.register_shopper()
        except ServiceError:
            pass  # recorded; the first task tries again

    def claim(self, channel: str) -> Coupon | None:
        """Claim a coupon from this process's campaign; None when there is nothing to go on."""
        shopper = self.me()
        campaign_id = FIXTURES.campaign(self)

        def available(reply: Reply) -> str | None:
            if reply.status == 409:
                code = reply.body.get("error", {}).get("code")
                return None if code in CLAIM_REFUSALS else f"409 {code}"
            if reply.body.get("status") != CouponStatus.AVAILABLE or not reply.body.get("code"):
                return f"claimed coupon is not available: {reply.body}"
            return None

        try:
            with self.transport.expect(accept=(409,), check=available):
                return shopper.claim(campaign_id, channel)
        except ServiceError as refused:
            if refused.code == ErrorCode.PER_SHOPPER_LIMIT_REACHED.code:
                self.register_shopper()  # this shopper has had their fill: a new one walks in
            elif refused.code in CLAIM_REFUSALS:
                FIXTURES.retire_campaign(campaign_id)
            else:
                raise
            return None

    def show_qr(self, coupon: Coupon) -> str:
        """The coupon's QR token, as the shopper's phone shows it."""
        with self.transport.expect(check=has("token")):
            return self.me().show_qr(coupon)

    def payment_code(self) -> str:
        """The shopper's one-time 18-digit payment code."""

        def eighteen_digits(reply: Reply) -> str | None:
            code = str(reply.body.get("auth_code", ""))
            return None if len(code) == 18 else f"not an 18-digit auth_code: {reply.body}"

        with self.transport.expect(check=eighteen_digits):
            return self.me().payment_code()


def paid(amount: int | None = None) -> Check:
    """A check that a payment succeeded (for `amount` fen, if given)."""

    def check(reply: Reply) -> str | None:
        payment = reply.body
        if payment.get("status") == PaymentStatus.SUCCEEDED and amount in (
            None,
            payment.get("amount"),
        ):
            return None
        return f"payment did not succeed for {amount}: {payment}"

    return check


class _Fixtures:
    """What the users of one Locust process share, created lazily through the admin API."""

    def __init__(self) -> None:
        self._lock = BoundedSemaphore()
        self._campaign_id: str | None = FIXED_CAMPAIGN_ID
        self._clerks: list[Clerk] = []  # one per store
        self._next_store = itertools.count()

    def campaign(self, user: O2OUser) -> str:
        """This process's campaign, created by the first user who needs it."""
        if self._campaign_id:
            return self._campaign_id
        with self._lock:  # one greenlet creates it, the others wait and reuse it
            if self._campaign_id is None:
                with user.transport.expect(setup=True):
                    campaign = user.admin.campaign(
                        name=f"Load test {uuid.uuid4().hex[:8]}: 50 off 300",
                        discount=DISCOUNT,
                        total_quantity=TOTAL_QUANTITY,
                        per_shopper_limit=PER_SHOPPER_LIMIT,
                        valid_days_after_claim=30,
                        channels=[Channel.IN_STORE, Channel.ONLINE],
                    )
                self._campaign_id = campaign.id
                log.info("campaign %s created for this process", self._campaign_id)
            return self._campaign_id

    def retire_campaign(self, campaign_id: str) -> None:
        """The campaign ran out (or was paused): the next claim creates a fresh one."""
        with self._lock:
            if self._campaign_id == campaign_id:
                log.warning("campaign %s exhausted or inactive, switching", campaign_id)
                self._campaign_id = None

    def clerk(self, user: O2OUser) -> Clerk:
        """A store's clerk, on `user`'s session; stores go round-robin, created on demand."""
        slot = next(self._next_store) % STORES_PER_PROCESS
        with self._lock:
            while len(self._clerks) <= slot:
                tag = uuid.uuid4().hex[:8]
                with user.transport.expect(setup=True):
                    store = user.admin.store(f"Load test store {tag}", "Hangzhou")
                with user.transport.expect(setup=True, check=has("api_key")):
                    clerk = user.admin.clerk(store, f"Clerk {tag}")
                log.info("store %s with clerk %s created for this process", store.id, clerk.id)
                self._clerks.append(clerk)
            return self._clerks[slot].using(user.transport)


FIXTURES = _Fixtures()


class ShopperUser(O2OUser):
    """A shopper at home: browses, claims, and pays online with the coupon."""

    weight = 1

    @task(2)
    @flow
    def browse(self) -> None:
        shopper = self.me()
        shopper.claimable()
        shopper.coupons(CouponStatus.AVAILABLE)

    @task(3)
    @flow
    def buy_online(self) -> None:
        coupon = self.claim(random.choice((ClaimChannel.APP, ClaimChannel.PUBLIC_ACCOUNT)))
        if coupon is None:
            return
        shopper = self.me()
        shopper.coupons()
        self.show_qr(coupon)

        def applied(reply: Reply) -> str | None:
            order = reply.body
            if order.get("channel") != Channel.ONLINE or order.get("coupon_code") != coupon.code:
                return f"unexpected order: {order}"
            if (
                order.get("discount_amount", 0) <= 0
                or order.get("status") != OrderStatus.AWAITING_PAYMENT
            ):
                return f"coupon not applied: {order}"
            return None

        with self.transport.expect("online", check=applied):
            order = shopper.checkout(_amount(), coupon=coupon)
        method = random.choice(PAYMENT_METHODS)
        if random.random() < DECLINE_RATE:

            def declined(reply: Reply) -> str | None:
                payment = reply.body
                failed = payment.get("status") == PaymentStatus.FAILED
                if failed and payment.get("failure_code") == MockOutcome.DECLINED:
                    return None
                return f"expected a declined payment: {payment}"

            with self.transport.expect("online, declined", check=declined):
                shopper.pay(order, method, outcome=MockOutcome.DECLINED)
        with self.transport.expect("online", check=paid(order.payable_amount)):
            shopper.pay(order, method, idempotency_key=uuid.uuid4().hex)


class InStoreUser(O2OUser):
    """A shopper at a till with a coupon on their phone, and the clerk who serves them."""

    weight = 3

    def on_start(self) -> None:
        super().on_start()
        self._clerk: Clerk | None = None
        try:
            self.clerk()
        except ServiceError:
            pass  # recorded; the first task tries again

    def clerk(self) -> Clerk:
        """This user's store clerk, fetched (or created) until it works once."""
        if self._clerk is None:
            self._clerk = FIXTURES.clerk(self)
        return self._clerk

    def _checkout(self, amount: int, qr_token: str | None, coupon: Coupon | None) -> None:
        """The clerk checks out `amount` (with the coupon's token, if any) and takes payment."""
        clerk, shopper = self.clerk(), self.me()
        code = coupon.code if coupon else None

        def rung_up(reply: Reply) -> str | None:
            order = reply.body
            if order.get("channel") != Channel.IN_STORE or order.get("store_id") != clerk.store_id:
                return f"unexpected order: {order}"
            if (
                order.get("coupon_code") != code
                or order.get("status") != OrderStatus.AWAITING_PAYMENT
            ):
                return f"unexpected order: {order}"
            return None

        with self.transport.expect("in_store", check=rung_up):
            order: Order = clerk.checkout(amount, qr=qr_token)
        auth_code = self.payment_code()
        till_key = f"till-{clerk.store_id}-{order.id}"
        with self.transport.expect("clerk_scan", check=paid(order.payable_amount)):
            payment = clerk.take_payment(
                order, auth_code, random.choice(PAYMENT_METHODS[:2]), idempotency_key=till_key
            )
        status = OrderStatus.PAID
        if random.random() < REFUND_RATE and payment.amount > 100:
            part = random.randrange(100, payment.amount, 100)

            def refunded(reply: Reply) -> str | None:
                return None if reply.body.get("amount") == part else f"refund: {reply.body}"

            with self.transport.expect("partial", check=refunded):
                clerk.refund(payment, part, "one item returned", idempotency_key=uuid.uuid4().hex)
            status = OrderStatus.PARTIALLY_REFUNDED

        def settled(reply: Reply) -> str | None:
            now = reply.body.get("status")
            return None if now == status else f"order is {now}, not {status}"

        with self.transport.expect(check=settled):
            shopper.order(order)

    @task(5)
    @flow
    def purchase_with_coupon(self) -> None:
        clerk = self.clerk()
        coupon = self.claim(random.choice(CLAIM_CHANNELS))
        if coupon is None:
            return
        token = self.show_qr(coupon)
        amount = _amount()

        def applicable(reply: Reply) -> str | None:
            scan = reply.body
            if not scan.get("applicable") or scan.get("reasons"):
                return f"coupon not applicable: {scan.get('reasons')}"
            if scan.get("payable_amount") != amount - scan.get("discount_amount", 0):
                return f"payable does not add up: {scan}"
            return None

        with self.transport.expect(check=applicable):
            clerk.scan(token, amount)
        self._checkout(amount, token, coupon)

    @task(1)
    @flow
    def purchase_without_coupon(self) -> None:
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
        try:
            Service(OverHttp(host, timeout=10), ADMIN_KEY).get("/stores?limit=1")
        except ServiceError as exc:
            hint = " (is O2O_ADMIN_KEY the service's admin key?)" if exc.status == 401 else ""
            problems.append(f"GET {host}{PREFIX}/stores -> HTTP {exc.status}{hint}")
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
