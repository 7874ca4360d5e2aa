"""The typed client of the public API: a merchant (Service), its shoppers and clerks, the clock.

o2o = Service(InProcess(app.test_client()), admin_key)    # or Service(OverHttp(url), key)
store = o2o.store("West Lake")
clerk, shopper = o2o.clerk(store), o2o.shopper("Li Na")
coupon = shopper.claim(o2o.campaign(discount=amount_off(5000, min_spend=30000)))
order = clerk.checkout(39900, qr=shopper.show_qr(coupon))
assert clerk.take_payment(order, shopper.payment_code()).status == PaymentStatus.SUCCEEDED
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

from o2o.client.transport import Reply, ServiceError, Transport
from o2o.vocabulary import ClaimChannel, DiscountType, MockOutcome, PaymentFlow, PaymentMethod

T = TypeVar("T")


class Field(Generic[T]):
    """A typed view of one key of a resource's JSON (`order.status` is a `str`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, resource: Resource | None, owner: type | None = None) -> T:
        if resource is None:
            raise AttributeError(self.name)
        try:
            return cast(T, resource.data[self.name])
        except KeyError:
            raise AttributeError(self.name) from None


def _no_such(owner: object, name: str, kinds: dict[str, Iterable[str]]) -> AttributeError:
    """An AttributeError naming what `owner` has instead (by kind), and the closest match.

    `name` is set, so Python adds no "Did you mean" of its own from dir(): ours is in the message,
    which is there wherever the error is printed or logged, not only in a traceback.
    """
    kind = next(iter(kinds))
    known = {key: list(names) for key, names in kinds.items()}
    close = difflib.get_close_matches(name, [n for names in known.values() for n in names], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = "; ".join(
        f"its {key}s are: {', '.join(names) or 'none'}" for key, names in known.items()
    )
    return AttributeError(
        f"{type(owner).__name__} has no {kind} {name!r}{hint}; {listed}", name=name
    )


class Resource:
    """A JSON object from the API with attribute access (`order.status`); other keys are Any.

    An unknown name raises AttributeError listing the fields this object has, e.g.
    `Order has no field 'totl' (did you mean 'total'?); its fields are: id, status, amount, …`.
    """

    id: Field[str] = Field()

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("data")
        if data is None or name.startswith("__"):  # half-built (copy, pickle) or a protocol probe
            raise AttributeError(name)
        try:
            return data[name]
        except KeyError:
            # Also reached when a typed Field's key is missing from the JSON (Field.__get__).
            raise _no_such(self, name, {"field": data}) from None

    def __dir__(self) -> Iterable[str]:
        return sorted({*super().__dir__(), *self.__dict__.get("data", {})})

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"


class _Described:
    """An unknown attribute raises AttributeError naming the attributes and methods there are."""

    # Hidden from mypy: a __getattr__ it saw would make every misspelt name type-check as Any.
    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            public = [n for n in dir(type(self)) if not n.startswith("_")]
            attributes = sorted(n for n in vars(self) if not n.startswith("_"))
            methods = [n for n in public if callable(getattr(type(self), n))]
            raise _no_such(self, name, {"attribute": attributes, "method": methods})


class Store(Resource):
    """A store (`id`, `name`, `city`)."""

    name: Field[str] = Field()


class Campaign(Resource):
    """A coupon campaign (`id`, `name`, `status`, `discount`, …)."""

    name: Field[str] = Field()
    status: Field[str] = Field()


class Coupon(Resource):
    """A shopper's coupon, known by its `code`."""

    code: Field[str] = Field()
    status: Field[str] = Field()
    campaign_id: Field[str] = Field()


class Scan(Resource):
    """What a clerk's scan of a coupon QR says: applicable or why not, and the amounts."""

    applicable: Field[bool] = Field()
    reasons: Field[list[str]] = Field()
    discount_amount: Field[int] = Field()
    payable_amount: Field[int] = Field()


class Order(Resource):
    """An order in store or online; amounts in fen."""

    status: Field[str] = Field()
    channel: Field[str] = Field()
    store_id: Field[str | None] = Field()
    amount: Field[int] = Field()
    discount_amount: Field[int] = Field()
    payable_amount: Field[int] = Field()
    coupon_code: Field[str | None] = Field()


class Payment(Resource):
    """A payment of an order (`status`: pending, succeeded, failed, …)."""

    status: Field[str] = Field()
    amount: Field[int] = Field()
    refunded_amount: Field[int] = Field()
    failure_code: Field[str | None] = Field()


class Refund(Resource):
    """A refund of (part of) a payment."""

    amount: Field[int] = Field()
    status: Field[str] = Field()


def amount_off(amount: int, min_spend: int = 0) -> dict[str, Any]:
    """A discount of `amount` fen off orders of at least `min_spend`."""
    return {"type": DiscountType.AMOUNT_OFF, "amount_off": amount, "min_spend": min_spend}


def percent_off(
    percent: int, max_discount: int | None = None, min_spend: int = 0
) -> dict[str, Any]:
    """A discount of `percent` % (rounded down to the fen), capped at `max_discount`."""
    return {
        "type": DiscountType.PERCENT_OFF,
        "percent_off": percent,
        "max_discount": max_discount,
        "min_spend": min_spend,
    }


def exchange(price: int, item: str, min_spend: int = 0) -> dict[str, Any]:
    """A coupon that buys `item` for `price` fen."""
    return {
        "type": DiscountType.EXCHANGE,
        "exchange_price": price,
        "item": item,
        "min_spend": min_spend,
    }


def _id(thing: Resource | str) -> str:
    return thing if isinstance(thing, str) else str(thing.id)


def _code(coupon: Coupon | str) -> str:
    return coupon if isinstance(coupon, str) else coupon.code


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency_Key": key} if key else {}


class Caller(_Described):
    """Someone holding an API key."""

    def __init__(self, transport: Transport, key: str) -> None:
        self.transport = transport
        self.key = key

    def using(self, transport: Transport) -> Self:
        """The same caller (same key) over another transport."""
        other = copy.copy(self)
        other.transport = transport
        return other

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """The raw reply, whatever its status."""
        return self.transport.request(method, path, self.key, body, headers)

    def ok(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        """The reply's body; a ServiceError (an AssertionError) on an error or no answer."""
        reply = self.call(method, path, body, {k.replace("_", "-"): v for k, v in headers.items()})
        if not reply.ok:
            raise ServiceError(reply.status, reply.body, method, path)
        return reply.body

    def get(self, path: str) -> Any:
        """GET `path`; its body."""
        return self.ok("GET", path)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        """POST `body` (default `{}`) to `path`; header names take `_` for `-`."""
        return self.ok("POST", path, body if body is not None else {}, **headers)

    # Orders and payments are readable, and orders cancellable, by every role that may see them.
    def order(self, order: Order | str) -> Order:
        """The order as it stands."""
        return Order(self.get(f"/orders/{_id(order)}"))

    def cancel(self, order: Order | str) -> Order:
        """Cancel an unpaid order (its coupon goes back to the wallet)."""
        return Order(self.post(f"/orders/{_id(order)}/cancel"))

    def payment(self, payment: Payment | str) -> Payment:
        """The payment as it stands (a pending one may have settled)."""
        return Payment(self.get(f"/payments/{_id(payment)}"))


class Refunder(Caller):
    """A caller who may give money back: an admin (any payment) or a clerk (their store's)."""

    def refund(
        self,
        payment: Payment | str,
        amount: int | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Refund:
        """Refund `amount` fen (all that is left by default) of a payment."""
        body = {k: v for k, v in (("amount", amount), ("reason", reason)) if v is not None}
        path = f"/payments/{_id(payment)}/refunds"
        return Refund(self.post(path, body, **_idempotency(idempotency_key)))


class Clock(_Described):
    """The sandbox clock (the service must run with O2O_SANDBOX=1)."""

    def __init__(self, admin: Caller) -> None:
        self.admin = admin

    def now(self) -> datetime:
        """The service's time."""
        return datetime.fromisoformat(self.admin.get("/sandbox/clock")["now"])

    def freeze(self, at: datetime | str) -> datetime:
        """Set the clock to `at`; it stays there until advanced."""
        when = at.isoformat() if isinstance(at, datetime) else at
        return datetime.fromisoformat(self.admin.post("/sandbox/clock", {"now": when})["now"])

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> datetime:
        """Move the clock forward (or back, with negative amounts); the new time."""
        total = int(days * 86400 + hours * 3600 + minutes * 60 + seconds)
        body = {"advance_seconds": total}
        return datetime.fromisoformat(self.admin.post("/sandbox/clock", body)["now"])

    def real(self) -> datetime:
        """Give the clock back to real time: it follows the real clock until frozen again."""
        body = {"mode": "real"}
        return datetime.fromisoformat(self.admin.post("/sandbox/clock", body)["now"])

    def mode(self) -> str:
        """`frozen` or `real`."""
        return str(self.admin.get("/sandbox/clock")["mode"])


class Shopper(Caller):
    """A shopper: claims coupons, shows their QR and payment code, orders and pays online."""

    def __init__(self, transport: Transport, key: str, data: dict[str, Any]) -> None:
        super().__init__(transport, key)
        self.id: str = data["id"]
        self.name: str = data["name"]

    def claim(self, campaign: Campaign | str, channel: str = ClaimChannel.APP) -> Coupon:
        """Claim a coupon of `campaign` through `channel` (app, public_account, in_store)."""
        return Coupon(self.post(f"/campaigns/{_id(campaign)}/claims", {"channel": channel}))

    def claimable(self) -> list[Campaign]:
        """The campaigns this shopper may claim from now."""
        return [Campaign(c) for c in self.get("/campaigns?claimable=true&limit=200")["items"]]

    def coupons(self, status: str | None = None) -> list[Coupon]:
        """This shopper's coupons, optionally only those in `status`."""
        query = f"?status={status}&limit=200" if status else "?limit=200"
        return [Coupon(c) for c in self.get(f"/me/coupons{query}")["items"]]

    def coupon(self, coupon: Coupon | str) -> Coupon:
        """One coupon as it stands."""
        return Coupon(self.get(f"/coupons/{_code(coupon)}"))

    def show_qr(self, coupon: Coupon | str) -> str:
        """The token the QR on screen encodes (what a clerk's scanner reads)."""
        return str(self.get(f"/coupons/{_code(coupon)}/qr-token")["token"])

    def qr_image(self, coupon: Coupon | str, fmt: str = "png") -> bytes:
        """The coupon's QR as a PNG or SVG image."""
        return bytes(self.get(f"/coupons/{_code(coupon)}/qr?format={fmt}"))

    def payment_code(self) -> str:
        """A one-time 18-digit code to show at the till."""
        return str(self.get("/me/payment-code")["auth_code"])

    def checkout(
        self, amount: int, coupon: Coupon | str | None = None, store: Store | str | None = None
    ) -> Order:
        """Order online, optionally with a coupon and a store to credit."""
        body: dict[str, Any] = {"amount": amount}
        if coupon is not None:
            body["coupon_code"] = _code(coupon)
        if store is not None:
            body["store_id"] = _id(store)
        return Order(self.post("/orders", body))

    def pay(
        self,
        order: Order | str,
        method: str = PaymentMethod.WECHAT_PAY,
        outcome: str = MockOutcome.SUCCESS,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Pay an order online; `outcome` scripts the mock provider (declined, user_paying, …)."""
        body = {"method": method, "flow": PaymentFlow.ONLINE}
        headers = {"O2O_Mock_Outcome": outcome, **_idempotency(idempotency_key)}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body, **headers))

    def confirm(self, payment: Payment | str, outcome: str = MockOutcome.SUCCESS) -> Payment:
        """Pay a shopper_scan payment, as if scanning the merchant's QR."""
        return Payment(self.post(f"/payments/{_id(payment)}/confirm", O2O_Mock_Outcome=outcome))


class Clerk(Refunder):
    """A store's clerk: scans coupon QRs, checks out, takes payments, refunds."""

    def __init__(self, transport: Transport, key: str, data: dict[str, Any]) -> None:
        super().__init__(transport, key)
        self.id: str = data["id"]
        self.store_id: str = data["store_id"]

    def scan(self, qr: str, amount: int) -> Scan:
        """Check a coupon QR against a basket of `amount` fen, without reserving it."""
        return Scan(self.post("/scans", {"qr_token": qr, "amount": amount}))

    def checkout(self, amount: int, qr: str | None = None) -> Order:
        """Ring up `amount` fen in store, reserving the coupon behind `qr` if given."""
        body: dict[str, Any] = {"amount": amount, **({"qr_token": qr} if qr else {})}
        return Order(self.post("/orders", body))

    def take_payment(
        self,
        order: Order | str,
        auth_code: str,
        method: str = PaymentMethod.WECHAT_PAY,
        outcome: str = MockOutcome.SUCCESS,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Scan the shopper's payment code (clerk_scan)."""
        body = {"method": method, "flow": PaymentFlow.CLERK_SCAN, "auth_code": auth_code}
        headers = {"O2O_Mock_Outcome": outcome, **_idempotency(idempotency_key)}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body, **headers))

    def show_payment_qr(
        self, order: Order | str, method: str = PaymentMethod.WECHAT_PAY
    ) -> Payment:
        """Show the merchant's QR for the shopper to pay (shopper_scan); pending until confirmed."""
        body = {"method": method, "flow": PaymentFlow.SHOPPER_SCAN}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body))


class Service(Refunder):
    """The merchant's side (an admin key): sets the stage, reads the stats, moves the clock."""

    def __init__(self, transport: Transport, admin_key: str) -> None:
        super().__init__(transport, admin_key)
        self.clock = Clock(self)

    def using(self, transport: Transport) -> Self:
        """The same admin over another transport (with its own clock handle)."""
        return type(self)(transport, self.key)

    def store(
        self, name: str = "West Lake", city: str = "Hangzhou", address: str | None = None
    ) -> Store:
        """Open a store."""
        return Store(self.post("/stores", {"name": name, "city": city, "address": address}))

    def clerk(self, store: Store | str, name: str = "Clerk") -> Clerk:
        """Hire a clerk at `store`; the clerk holds the new API key."""
        data = self.post("/clerks", {"name": name, "store_id": _id(store)})
        return Clerk(self.transport, data["api_key"], data)

    def shopper(self, name: str = "Shopper", phone: str | None = None) -> Shopper:
        """Register a shopper; the shopper holds the new API key."""
        data = self.post("/shoppers", {"name": name, "phone": phone})
        return Shopper(self.transport, data["api_key"], data)

    def campaign(self, **fields: Any) -> Campaign:
        """Publish a campaign; defaults: ¥50 off ¥300, 100 coupons, valid 30 days after claim."""
        body: dict[str, Any] = {
            "name": "Campaign",
            "discount": amount_off(5000, min_spend=30000),
            "total_quantity": 100,
            "valid_days_after_claim": 30,
            **fields,
        }
        if "store_ids" in body and body["store_ids"]:
            body["store_ids"] = [_id(s) for s in body["store_ids"]]
        return Campaign(self.post("/campaigns", body))

    def stats(self, campaign: Campaign | str) -> dict[str, Any]:
        """The campaign's counters: claimed, redeemed, GMV, discount given, …"""
        return dict(self.get(f"/campaigns/{_id(campaign)}/stats"))
