"""A small fluent API over the public HTTP API: shoppers, clerks and an admin walking flows.

o2o = Service(InProcess(app.test_client()), admin_key)    # or Service(OverHttp(url), key)
store = o2o.store("West Lake")
clerk, shopper = o2o.clerk(store), o2o.shopper("Li Na")
coupon = shopper.claim(o2o.campaign(discount=amount_off(5000, min_spend=30000)))
order = clerk.checkout(39900, qr=shopper.show_qr(coupon))
assert clerk.take_payment(order, shopper.payment_code()).status == "succeeded"
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from o2o.testing.transport import Reply, ServiceError, Transport


class Resource:
    """A JSON object from the API with attribute access (`order.status`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"


class Coupon(Resource):
    pass


class Order(Resource):
    pass


class Payment(Resource):
    pass


class Campaign(Resource):
    pass


class Store(Resource):
    pass


def amount_off(amount: int, min_spend: int = 0) -> dict[str, Any]:
    return {"type": "amount_off", "amount_off": amount, "min_spend": min_spend}


def percent_off(
    percent: int, max_discount: int | None = None, min_spend: int = 0
) -> dict[str, Any]:
    return {
        "type": "percent_off",
        "percent_off": percent,
        "max_discount": max_discount,
        "min_spend": min_spend,
    }


def exchange(price: int, item: str, min_spend: int = 0) -> dict[str, Any]:
    return {"type": "exchange", "exchange_price": price, "item": item, "min_spend": min_spend}


class Caller:
    """Someone holding an API key."""

    def __init__(self, transport: Transport, key: str) -> None:
        self.transport = transport
        self.key = key

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
        """The reply's body; a ServiceError (an AssertionError) on any error status."""
        reply = self.call(method, path, body, {k.replace("_", "-"): v for k, v in headers.items()})
        if reply.status >= 400:
            raise ServiceError(reply.status, reply.body, method, path)
        return reply.body

    def get(self, path: str) -> Any:
        return self.ok("GET", path)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.ok("POST", path, body if body is not None else {}, **headers)

    # Orders and payments are readable, and orders cancellable, by every role that may see them.
    def order(self, order: Order | str) -> Order:
        return Order(self.get(f"/orders/{_id(order)}"))

    def cancel(self, order: Order | str) -> Order:
        return Order(self.post(f"/orders/{_id(order)}/cancel"))

    def payment(self, payment: Payment | str) -> Payment:
        return Payment(self.get(f"/payments/{_id(payment)}"))


def _id(thing: Resource | str) -> str:
    return thing if isinstance(thing, str) else str(thing.id)


class Clock:
    """The sandbox clock (the service must run with O2O_SANDBOX=1)."""

    def __init__(self, admin: Caller) -> None:
        self.admin = admin

    def now(self) -> datetime:
        return datetime.fromisoformat(self.admin.get("/sandbox/clock")["now"])

    def freeze(self, at: datetime | str) -> datetime:
        """Set the clock to `at`; it stays there until advanced."""
        when = at.isoformat() if isinstance(at, datetime) else at
        return datetime.fromisoformat(self.admin.post("/sandbox/clock", {"now": when})["now"])

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> datetime:
        total = int(days * 86400 + hours * 3600 + minutes * 60 + seconds)
        body = {"advance_seconds": total}
        return datetime.fromisoformat(self.admin.post("/sandbox/clock", body)["now"])


class Shopper(Caller):
    def __init__(self, transport: Transport, key: str, data: dict[str, Any]) -> None:
        super().__init__(transport, key)
        self.id = data["id"]
        self.name = data["name"]

    def claim(self, campaign: Campaign | str, channel: str = "app") -> Coupon:
        return Coupon(self.post(f"/campaigns/{_id(campaign)}/claims", {"channel": channel}))

    def claimable(self) -> list[Campaign]:
        return [Campaign(c) for c in self.get("/campaigns?claimable=true&limit=200")["items"]]

    def coupons(self, status: str | None = None) -> list[Coupon]:
        query = f"?status={status}&limit=200" if status else "?limit=200"
        return [Coupon(c) for c in self.get(f"/me/coupons{query}")["items"]]

    def coupon(self, coupon: Coupon | str) -> Coupon:
        code = coupon if isinstance(coupon, str) else coupon.code
        return Coupon(self.get(f"/coupons/{code}"))

    def show_qr(self, coupon: Coupon | str) -> str:
        """The token the QR on screen encodes (what a clerk's scanner reads)."""
        code = coupon if isinstance(coupon, str) else coupon.code
        return str(self.get(f"/coupons/{code}/qr-token")["token"])

    def qr_image(self, coupon: Coupon | str, fmt: str = "png") -> bytes:
        code = coupon if isinstance(coupon, str) else coupon.code
        return bytes(self.get(f"/coupons/{code}/qr?format={fmt}"))

    def payment_code(self) -> str:
        """A one-time 18-digit code to show at the till."""
        return str(self.get("/me/payment-code")["auth_code"])

    def checkout(
        self, amount: int, coupon: Coupon | str | None = None, store: Store | str | None = None
    ) -> Order:
        """Order online, optionally with a coupon and a store to credit."""
        body: dict[str, Any] = {"amount": amount}
        if coupon is not None:
            body["coupon_code"] = coupon if isinstance(coupon, str) else coupon.code
        if store is not None:
            body["store_id"] = _id(store)
        return Order(self.post("/orders", body))

    def pay(
        self, order: Order | str, method: str = "wechat_pay", outcome: str = "success"
    ) -> Payment:
        body = {"method": method, "flow": "online"}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body, O2O_Mock_Outcome=outcome))

    def confirm(self, payment: Payment | str, outcome: str = "success") -> Payment:
        """Pay a shopper_scan payment, as if scanning the merchant's QR."""
        return Payment(self.post(f"/payments/{_id(payment)}/confirm", O2O_Mock_Outcome=outcome))


class Clerk(Caller):
    def __init__(self, transport: Transport, key: str, data: dict[str, Any]) -> None:
        super().__init__(transport, key)
        self.id = data["id"]
        self.store_id = data["store_id"]

    def scan(self, qr: str, amount: int) -> Resource:
        return Resource(self.post("/scans", {"qr_token": qr, "amount": amount}))

    def checkout(self, amount: int, qr: str | None = None) -> Order:
        body: dict[str, Any] = {"amount": amount, **({"qr_token": qr} if qr else {})}
        return Order(self.post("/orders", body))

    def take_payment(
        self,
        order: Order | str,
        auth_code: str,
        method: str = "wechat_pay",
        outcome: str = "success",
    ) -> Payment:
        """Scan the shopper's payment code (clerk_scan)."""
        body = {"method": method, "flow": "clerk_scan", "auth_code": auth_code}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body, O2O_Mock_Outcome=outcome))

    def show_payment_qr(self, order: Order | str, method: str = "wechat_pay") -> Payment:
        """Show the merchant's QR for the shopper to pay (shopper_scan); pending until confirmed."""
        body = {"method": method, "flow": "shopper_scan"}
        return Payment(self.post(f"/orders/{_id(order)}/payments", body))

    def refund(
        self, payment: Payment | str, amount: int | None = None, reason: str | None = None
    ) -> Resource:
        body = {k: v for k, v in (("amount", amount), ("reason", reason)) if v is not None}
        return Resource(self.post(f"/payments/{_id(payment)}/refunds", body))


class Service(Caller):
    """The merchant's side (an admin key): sets the stage, reads the stats, moves the clock."""

    def __init__(self, transport: Transport, admin_key: str) -> None:
        super().__init__(transport, admin_key)
        self.clock = Clock(self)

    def store(
        self, name: str = "West Lake", city: str = "Hangzhou", address: str | None = None
    ) -> Store:
        return Store(self.post("/stores", {"name": name, "city": city, "address": address}))

    def clerk(self, store: Store | str, name: str = "Clerk") -> Clerk:
        data = self.post("/clerks", {"name": name, "store_id": _id(store)})
        return Clerk(self.transport, data["api_key"], data)

    def shopper(self, name: str = "Shopper", phone: str | None = None) -> Shopper:
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
        return dict(self.get(f"/campaigns/{_id(campaign)}/stats"))

    def refund(self, payment: Payment | str, amount: int | None = None) -> Resource:
        body = {} if amount is None else {"amount": amount}
        return Resource(self.post(f"/payments/{_id(payment)}/refunds", body))
