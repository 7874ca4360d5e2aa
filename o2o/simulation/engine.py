"""Drive a scenario through the public API: shoppers claim online and buy in store or online.

Everything random comes from one seeded `random.Random`, and time only from the sandbox clock,
so the same scenario and seed make the same requests in the same order.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from o2o.client import Clerk, Order, Payment, Service, ServiceError, Shopper
from o2o.vocabulary import Channel, ErrorCode, OrderStatus, PaymentFlow, PaymentStatus

Progress = Callable[[int, int], None]
SCENARIO_ONLY = ("key", "stores", "appeal", "basket")  # campaign fields the API does not take
POLL_AFTER_SECONDS = 6  # just past O2O_MOCK_PAYING_SECONDS (5 by default)


@dataclass
class Sale:
    """What the simulator knows of one order it placed."""

    order_id: str
    channel: str
    store_key: str | None
    amount: int
    coupon: str | None
    campaign_key: str | None
    payments: list[str] = field(default_factory=list)
    refunded: int = 0


@dataclass
class World:
    """The objects a run created, by scenario key, and what it did with them."""

    service: Service
    stores: dict[str, str] = field(default_factory=dict)  # key → id
    clerks: dict[str, Clerk] = field(default_factory=dict)  # store key → clerk
    campaigns: dict[str, str] = field(default_factory=dict)  # key → id
    shoppers: list[Shopper] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)  # shopper id → position
    wallets: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # (code, campaign key)
    coupons: dict[str, str] = field(default_factory=dict)  # code → campaign key
    sales: list[Sale] = field(default_factory=list)
    pending: list[tuple[Sale, str, Shopper, Clerk | None]] = field(default_factory=list)
    to_refund: list[tuple[datetime, Sale, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = sorted(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of visits per shopper per day."""
    limit, k, p = pow(2.718281828459045, -mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Simulation:
    def __init__(
        self, scenario: dict[str, Any], service: Service, shoppers: int, days: int, seed: int
    ):
        self.scenario = scenario
        self.rng = random.Random(seed)
        self.world = World(service)
        self.shopper_count = shoppers
        self.days = days
        self.start: datetime = scenario["start"]
        self._now = self.start
        self.baskets = {c["key"]: c["basket"] for c in scenario["campaigns"] if c.get("basket")}

    # -- setting the stage -----------------------------------------------------------------

    def setup(self) -> None:
        service, world = self.world.service, self.world
        service.clock.freeze(self.start)
        for store in self.scenario["stores"]:
            made = service.store(store["name"], store["city"], store["address"])
            world.stores[store["key"]] = made.id
            world.clerks[store["key"]] = service.clerk(made, f"Clerk of {store['name']}")
        for campaign in self.scenario["campaigns"]:
            fields = {k: v for k, v in campaign.items() if k not in SCENARIO_ONLY}
            if campaign.get("stores"):
                fields["store_ids"] = [world.stores[k] for k in campaign["stores"]]
            world.campaigns[campaign["key"]] = service.campaign(**fields).id
        for i in range(self.shopper_count):
            world.shoppers.append(service.shopper(f"Shopper {i + 1:05d}"))
            world.index[world.shoppers[-1].id] = i
            world.wallets[i] = []

    # -- time ------------------------------------------------------------------------------

    def _visits(self, day: int) -> list[tuple[datetime, int]]:
        arrivals = self.scenario["arrivals"]
        midnight = self.start + timedelta(days=day)
        rate = arrivals["visits_per_shopper_per_day"] * arrivals["by_weekday"][midnight.weekday()]
        hours = [str(h) for h in range(24)]
        hour_weights = dict(zip(hours, arrivals["by_hour"], strict=True))
        visits = []
        for shopper in range(self.shopper_count):
            for _ in range(_poisson(self.rng, rate)):
                hour = int(_pick(self.rng, hour_weights))
                at = midnight + timedelta(hours=hour, seconds=self.rng.randrange(3600))
                visits.append((at, shopper))
        return sorted(visits)

    def run(self, progress: Progress | None = None) -> World:
        self.setup()
        for day in range(self.days):
            visits = self._visits(day)
            for done, (at, shopper) in enumerate(visits, 1):
                self._at(at)
                self._visit(shopper)
                if progress and done % 25 == 0:
                    progress(day, done * 100 // max(len(visits), 1))
            self._at(self.start + timedelta(days=day + 1) - timedelta(seconds=1))
            self._settle_pending()
            self._refunds_due()
            if progress:
                progress(day, 100)
        self._at(self.start + timedelta(days=self.days))
        self._settle_pending()
        return self.world

    def _at(self, at: datetime) -> None:
        if at > self._now:
            self.world.service.clock.freeze(at)
            self._now = at

    # -- one visit -------------------------------------------------------------------------

    def _visit(self, index: int) -> None:
        behaviour = self.scenario["behaviour"]
        if self.rng.random() < behaviour["claim_probability"]:
            self._claim(index)
        if self.rng.random() < behaviour["purchase_probability"]:
            self._purchase(index)

    def _claim(self, index: int) -> None:
        world = self.world
        shopper = world.shoppers[index]
        keys_by_id = {v: k for k, v in world.campaigns.items()}
        claimable = sorted(keys_by_id[c.id] for c in shopper.claimable() if c.id in keys_by_id)
        if not claimable:
            world.counts["claims_none_claimable"] += 1
            return
        appeal = {
            c["key"]: c["appeal"] for c in self.scenario["campaigns"] if c["key"] in claimable
        }
        key = _pick(self.rng, appeal)
        channel = _pick(self.rng, self.scenario["behaviour"]["claim_channels"])
        coupon = shopper.claim(world.campaigns[key], channel)
        world.wallets[index].append((coupon.code, key))
        world.coupons[coupon.code] = key
        world.counts["claims"] += 1

    def _purchase(self, index: int) -> None:
        behaviour = self.scenario["behaviour"]
        in_store = self.rng.random() < behaviour["in_store_share"]
        wallet = self.world.wallets[index]
        use = bool(wallet) and self.rng.random() < behaviour["use_coupon_probability"]
        coupon = wallet[self.rng.randrange(len(wallet))] if use else None
        # a coupon's campaign may bring its own basket (an exchange coupon buys its item)
        basket = self.baskets.get(coupon[1], behaviour["basket"]) if coupon else behaviour["basket"]
        amount = self.rng.randrange(basket["min"], basket["max"] + 1, basket["step"])
        if in_store:
            stores = {s["key"]: s["traffic"] for s in self.scenario["stores"]}
            self._buy_in_store(index, _pick(self.rng, stores), amount, coupon)
        else:
            self._buy_online(index, amount, coupon)

    def _buy_in_store(
        self, index: int, store_key: str, amount: int, coupon: tuple[str, str] | None
    ) -> None:
        world = self.world
        shopper, clerk = world.shoppers[index], world.clerks[store_key]
        qr = None
        if coupon is not None:
            try:
                qr = shopper.show_qr(coupon[0])
                if not clerk.scan(qr, amount).applicable:
                    qr = None
            except ServiceError:  # redeemed, expired or reserved meanwhile
                self._forget(index, coupon[0])
                qr = None
        order = clerk.checkout(amount, qr=qr)
        sale = self._record(order, Channel.IN_STORE, store_key)
        self._pay(sale, shopper, clerk)

    def _buy_online(self, index: int, amount: int, coupon: tuple[str, str] | None) -> None:
        shopper = self.world.shoppers[index]
        order = None
        if coupon is not None:
            try:
                order = shopper.checkout(amount, coupon=coupon[0])
            except ServiceError as error:
                self.world.counts[f"coupon_refused_{error.code}"] += 1
                if error.code != ErrorCode.COUPON_NOT_APPLICABLE.code:
                    self._forget(index, coupon[0])
        if order is None:
            order = shopper.checkout(amount)
        sale = self._record(order, Channel.ONLINE, None)
        self._pay(sale, shopper, None)

    def _record(self, order: Order, channel: str, store_key: str | None) -> Sale:
        code = order.coupon_code
        sale = Sale(
            order.id, channel, store_key, order.amount, code, self.world.coupons.get(code or "")
        )
        self.world.sales.append(sale)
        self.world.counts[f"orders_{channel}"] += 1
        return sale

    def _forget(self, index: int, code: str) -> None:
        self.world.wallets[index] = [c for c in self.world.wallets[index] if c[0] != code]

    # -- paying ----------------------------------------------------------------------------

    def _pay(self, sale: Sale, shopper: Shopper, clerk: Clerk | None, retry: bool = True) -> None:
        payments = self.scenario["payments"]
        method = _pick(self.rng, payments["methods"])
        outcome = _pick(self.rng, payments["outcomes"])
        if clerk is None:
            payment = shopper.pay(sale.order_id, method, outcome)
        elif _pick(self.rng, payments["in_store_flows"]) == PaymentFlow.CLERK_SCAN:
            payment = clerk.take_payment(sale.order_id, shopper.payment_code(), method, outcome)
        else:
            shown = clerk.show_payment_qr(sale.order_id, method)
            payment = shopper.confirm(shown, outcome)
        sale.payments.append(payment.id)
        self.world.counts[f"payment_{outcome}"] += 1
        self._after(sale, payment, shopper, clerk, retry)

    def _after(
        self, sale: Sale, payment: Payment, shopper: Shopper, clerk: Clerk | None, retry: bool
    ) -> None:
        if payment.status == PaymentStatus.SUCCEEDED:
            self._paid(sale, shopper)
        elif payment.status == PaymentStatus.PENDING:
            # the till polls, as with WeChat Pay's USERPAYING: look again once it may have settled
            self.world.pending.append((sale, payment.id, shopper, clerk))
            self._at(self._now + timedelta(seconds=POLL_AFTER_SECONDS))
            self._settle_pending()
        elif retry and self.rng.random() < self.scenario["payments"]["retry_failed"]:
            self._pay(sale, shopper, clerk, retry=False)
        else:
            try:
                (clerk or shopper).cancel(sale.order_id)
                self.world.counts["orders_abandoned"] += 1
            except ServiceError:  # it lapsed on its own meanwhile
                self.world.counts["orders_lapsed"] += 1

    def _paid(self, sale: Sale, shopper: Shopper) -> None:
        if sale.coupon:
            self._forget(self.world.index[shopper.id], sale.coupon)
        refunds = self.scenario["refunds"]
        if self.rng.random() < refunds["probability"]:
            due = self._now + timedelta(days=refunds["after_days"])
            self.world.to_refund.append((due, sale, sale.payments[-1]))

    def _settle_pending(self) -> None:
        pending, self.world.pending = self.world.pending, []
        for sale, payment_id, shopper, clerk in pending:
            payment = (clerk or shopper).payment(payment_id)
            if payment.status == PaymentStatus.PENDING:  # not due yet: look again later
                self.world.pending.append((sale, payment_id, shopper, clerk))
            elif payment.status == PaymentStatus.SUCCEEDED:
                self._paid(sale, shopper)
            elif (clerk or shopper).order(sale.order_id).status == OrderStatus.AWAITING_PAYMENT:
                self._after(sale, payment, shopper, clerk, retry=True)

    def _refunds_due(self) -> None:
        due = [r for r in self.world.to_refund if r[0] <= self._now]
        self.world.to_refund = [r for r in self.world.to_refund if r[0] > self._now]
        for _, sale, payment_id in due:
            full = self.rng.random() < self.scenario["refunds"]["full_share"]
            payment = self.world.service.get(f"/payments/{payment_id}")
            left = payment["amount"] - payment["refunded_amount"]
            amount = left if full else left // 2
            if amount <= 0:
                continue
            self.world.service.refund(payment_id, amount)
            sale.refunded += amount
            self.world.counts["refunds_full" if full else "refunds_partial"] += 1


def simulate(
    scenario: dict[str, Any],
    service: Service,
    *,
    shoppers: int,
    days: int,
    seed: int,
    progress: Progress | None = None,
) -> World:
    """Run the scenario; returns what was created and done (for the report and the checks)."""
    return Simulation(scenario, service, shoppers, days, seed).run(progress)
