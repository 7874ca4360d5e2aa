"""Every field of every POST and PATCH, fed NUL, lone surrogates, arbitrary Unicode and arbitrary
JSON: never a 5xx, every 4xx in the envelope, and not a row written by a refused request.

The operations come from the app's OpenAPI spec, and their fields from each request schema,
so a new endpoint or field is fuzzed without a line here; a valid base request for it (BASES)
lets the fuzz reach past validation, and a test below fails until one is written.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o2o import create_app
from tests.api.hostile import NUL, SURROGATE, Call, assert_envelope, detail_at, row_counts
from tests.builders import (
    ADMIN_KEY,
    API,
    PINNED_SETTINGS,
    Api,
    recorded_event,
    webhook_endpoint,
)

# -- the operations, read from the spec ---------------------------------------------------------

NEW_FIELD = ("*",)  # a target that adds a field of its own (fuzzed) name, not one of the schema's


@dataclass
class Operation:
    method: str
    path: str  # as the spec writes it, under /api/v1
    roles: tuple[str, ...]
    fields: dict[tuple[Any, ...], dict[str, Any]]  # each writable field path → its schema

    def __str__(self) -> str:
        return f"{self.method} {self.path.removeprefix(API)}"


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif any(key in schema for key in ("allOf", "anyOf", "oneOf")):
            schema = next(schema[key][0] for key in ("allOf", "anyOf", "oneOf") if key in schema)
        else:
            return schema


def _fields(
    schema: dict[str, Any], spec: dict[str, Any], prefix: tuple[Any, ...] = ()
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every writable property, the properties of nested objects (of each variant of a oneOf),
    and the first item of lists, each with its (resolved) schema."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    if "oneOf" in schema:  # each variant's fields (a discount's, by its type)
        for variant in schema["oneOf"]:
            found |= _fields(variant, spec, prefix)
        return found
    for name, prop in _resolve(schema, spec).get("properties", {}).items():
        if "oneOf" in prop:
            found |= _fields(prop, spec, (*prefix, name))
        prop = _resolve(prop, spec)
        if prop.get("readOnly"):
            continue
        path = (*prefix, name)
        found[path] = prop
        found |= _fields(prop, spec, path)
        if "items" in prop:
            found[(*path, 0)] = items = _resolve(prop["items"], spec)
            found |= _fields(items, spec, (*path, 0))
    return found


def _operations() -> list[Operation]:
    """Every POST and PATCH of the spec, with the roles its view serves."""
    app = create_app({**PINNED_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, environ={})
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    roles: dict[tuple[str, str], tuple[str, ...]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in rule.methods or ():
            roles[(method, path)] = tuple(getattr(view, "o2o_roles", ()))
    operations = []
    for path, item in spec["paths"].items():
        for method in ("post", "patch"):
            if method not in item:
                continue
            content = item[method].get("requestBody", {}).get("content", {})
            if content and "application/json" not in content:
                # a multipart upload (POST /scans/image): its form's hostile values, NUL and
                # broken files included, are tested beside it (tests/api/test_scan_image.py)
                continue
            schema = content.get("application/json", {}).get("schema", {})
            fields = _fields(schema, spec)
            signature = (method.upper(), path)
            operations.append(Operation(*signature, roles.get(signature, ()), fields))
    return operations


OPERATIONS = _operations()

# -- a world to act in, and a valid base request for each operation ----------------------------


@dataclass
class World:
    """What base requests need: a store and its clerk, a shopper, a roomy campaign, a QR token."""

    api: Api
    now: str
    store: dict[str, Any]
    clerk: dict[str, Any]
    shopper: dict[str, Any]
    campaign: dict[str, Any]
    token: str

    @classmethod
    def make(cls, api: Api) -> World:
        store = api.store()
        shopper = api.shopper()
        campaign = api.campaign(total_quantity=10_000_000, per_shopper_limit=1000)
        code = api.claim(shopper, campaign["id"])["code"]
        now = api.clock(advance_seconds=0)  # the clock row exists before any count is taken
        clerk = api.clerk(store["id"])
        return cls(api, now, store, clerk, shopper, campaign, api.qr_token(shopper, code))

    def key(self, role: str) -> str:
        return {"admin": ADMIN_KEY, "clerk": self.clerk_key, "shopper": self.shopper_key}[role]

    @property
    def clerk_key(self) -> str:
        return str(self.clerk["api_key"])

    @property
    def shopper_key(self) -> str:
        return str(self.shopper["api_key"])

    def at(self, days: int) -> str:
        return (datetime.fromisoformat(self.now) + timedelta(days=days)).isoformat()

    def code(self) -> str:
        """A fresh coupon of the world's shopper."""
        return str(self.api.claim(self.shopper, self.campaign["id"])["code"])

    def order(self) -> str:
        return str(self.api.order(self.clerk)["id"])

    def pending_payment(self) -> str:
        body = {"method": "alipay", "flow": "shopper_scan"}
        response = self.api.post(f"/orders/{self.order()}/payments", self.clerk_key, json=body)
        return str(response.get_json()["id"])

    def webhook_endpoint(self) -> str:
        return str(webhook_endpoint(self.api, "http://127.0.0.1:9/hooks")["id"])

    def paid_payment(self) -> str:
        response = self.api.pay(self.api.order(self.clerk), self.shopper, self.clerk)
        return str(response.get_json()["id"])


Base = Callable[[World], Call]
WEBHOOK_ENDPOINT = {"url": "http://127.0.0.1:9/hooks", "events": ["*"], "description": "Till"}


def campaign(discount: dict[str, Any]) -> Base:
    def build(w: World) -> Call:
        body = {
            "name": "Spring",
            "discount": dict(discount),
            "total_quantity": 100,
            "per_shopper_limit": 2,
            "claim_starts_at": w.at(0),
            "claim_ends_at": w.at(10),
            "valid_from": w.at(0),
            "valid_until": w.at(30),
            "valid_days_after_claim": 7,
            "wait_days_after_claim": 0,
            "store_ids": [w.store["id"]],
            "channels": ["in_store", "online"],
            "restore_on_refund": True,
            "status": "draft",
        }
        return Call("POST", "/campaigns", ADMIN_KEY, body)

    return build


def patched_campaign(w: World) -> Call:
    body = {"name": "Renamed", "status": "paused", "total_quantity": 200}
    return Call("PATCH", f"/campaigns/{w.api.campaign()['id']}", ADMIN_KEY, body)


def clerk_order(w: World) -> Call:
    body = {"amount": 39900, "qr_token": w.api.qr_token(w.shopper, w.code())}
    return Call("POST", "/orders", w.clerk_key, {**body, "store_id": w.store["id"]})


def shopper_order(w: World) -> Call:
    body = {"amount": 39900, "coupon_code": w.code(), "store_id": w.store["id"]}
    return Call("POST", "/orders", w.shopper_key, body)


def payment(flow: str) -> Base:
    def build(w: World) -> Call:
        if flow == "online":
            order, key = w.api.online_order(w.shopper)["id"], w.shopper_key
        else:
            order, key = w.order(), w.clerk_key
        body = {"method": "wechat_pay", "flow": flow}
        if flow == "clerk_scan":
            body["auth_code"] = w.api.payment_code(w.shopper)
        return Call("POST", f"/orders/{order}/payments", key, body)

    return build


def wechat_merchant(w: World) -> dict[str, Any]:
    """A WeChat Pay merchant at the world's store, as registering it answered."""
    body = {"appid": "wx8888888888888888", "name": "GXG", "store_ids": [w.store["id"]]}
    response = w.api.post("/wechatpay/merchants", ADMIN_KEY, json=body)
    assert response.status_code == 201, response.get_json()
    registered: dict[str, Any] = response.get_json()
    return registered


def wechat_trade(w: World, kind: str, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh /v3/ trade of the world's merchant (placed in process, as the gateway would)."""
    from o2o.extensions import db
    from o2o.models import WechatMerchant
    from o2o.wechatpay import trades

    registered = wechat_merchant(w)
    request = {
        "mchid": registered["mchid"],
        "appid": registered["appid"],
        "description": "GXG",
        "out_trade_no": "T" + uuid.uuid4().hex[:20],
        "notify_url": "https://shop.example/notify",
        "amount": {"total": 39900},
        **body,
    }
    with w.api.client.application.app_context():
        merchant = db.session.get(WechatMerchant, registered["mchid"])
        assert merchant is not None
        return registered, trades.pay(merchant, kind, request)


def code_url_payment(w: World) -> Call:
    _, answer = wechat_trade(w, "native")
    return Call("POST", "/wechatpay/code-url/pay", w.shopper_key, {"code_url": answer["code_url"]})


def cashier_payment(w: World) -> Call:
    from o2o import crypto
    from o2o.wechatpay import protocol

    appid = "wx8888888888888888"
    openid = w.api.get(f"/wechatpay/openid?appid={appid}", w.shopper_key).get_json()["openid"]
    registered, answer = wechat_trade(w, "jsapi", payer={"openid": openid})
    timestamp, nonce, package = "1733300000", "N" * 32, f"prepay_id={answer['prepay_id']}"
    message = protocol.paysign_message(appid, timestamp, nonce, package)
    body = {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": crypto.rsa_sign(registered["private_key"], message),
    }
    return Call("POST", "/wechatpay/cashier/pay", w.shopper_key, body)


def busifavor_send(w: World) -> Call:
    """A coupon of a fresh merchant coupon stock, sent to the world's shopper."""
    from o2o import clock
    from o2o.extensions import db
    from o2o.models import WechatMerchant
    from o2o.wechatpay import busifavor, protocol

    registered = wechat_merchant(w)
    appid = registered["appid"]
    openid = w.api.get(f"/wechatpay/openid?appid={appid}", w.shopper_key).get_json()["openid"]
    with w.api.client.application.app_context():
        merchant = db.session.get(WechatMerchant, registered["mchid"])
        assert merchant is not None
        now = clock.now()
        available = {
            "available_begin_time": protocol.rfc3339(now),
            "available_end_time": protocol.rfc3339(now + timedelta(days=30)),
        }
        body = {
            "stock_name": "GXG",
            "belong_merchant": merchant.mchid,
            "goods_name": "GXG",
            "stock_type": "NORMAL",
            "coupon_use_rule": {
                "coupon_available_time": available,
                "fixed_normal_coupon": {"discount_amount": 5000, "transaction_minimum": 30000},
                "use_method": "OFF_LINE",
            },
            "stock_send_rule": {"max_coupons": 100, "max_coupons_per_user": 5},
            "out_request_no": "S" + uuid.uuid4().hex[:20],
            "coupon_code_mode": "WECHATPAY_MODE",
        }
        stock_id = busifavor.create_stock(merchant, body)["stock_id"]
    body = {"stock_id": stock_id, "openid": openid}
    return Call("POST", "/wechatpay/busifavor/send", w.shopper_key, body)


def chosen_outcome(w: World) -> Call:
    body = {"mchid": wechat_merchant(w)["mchid"], "out_trade_no": "T0000001", "outcome": "declined"}
    return Call("POST", "/sandbox/outcomes", ADMIN_KEY, body)


# Each operation's valid requests (one per shape its body can take), keyed as the spec names it.
BASES: dict[tuple[str, str], list[Base]] = {
    ("POST", f"{API}/stores"): [
        lambda w: Call(
            "POST", "/stores", ADMIN_KEY, {"name": "Xihu", "city": "Hangzhou", "address": "1 Lake"}
        )
    ],
    ("POST", f"{API}/clerks"): [
        lambda w: Call("POST", "/clerks", ADMIN_KEY, {"name": "Li", "store_id": w.store["id"]})
    ],
    ("POST", f"{API}/shoppers"): [
        lambda w: Call("POST", "/shoppers", ADMIN_KEY, {"name": "Wang", "phone": "13800000000"})
    ],
    # A fresh person each time: rotating the world's own clerk or shopper would end its key.
    ("POST", f"{API}/clerks/{{clerk_id}}/keys"): [
        lambda w: Call("POST", f"/clerks/{w.api.clerk(w.store['id'])['id']}/keys", ADMIN_KEY, {})
    ],
    ("POST", f"{API}/shoppers/{{shopper_id}}/keys"): [
        lambda w: Call("POST", f"/shoppers/{w.api.shopper()['id']}/keys", ADMIN_KEY, {})
    ],
    ("POST", f"{API}/campaigns"): [
        campaign({"type": "amount_off", "amount_off": 5000, "min_spend": 30000}),
        campaign({"type": "percent_off", "percent_off": 20, "max_discount": 10000, "min_spend": 0}),
        campaign({"type": "exchange", "exchange_price": 100, "item": "Tote", "min_spend": 0}),
    ],
    ("PATCH", f"{API}/campaigns/{{campaign_id}}"): [patched_campaign],
    ("POST", f"{API}/campaigns/{{campaign_id}}/claims"): [
        lambda w: Call(
            "POST", f"/campaigns/{w.campaign['id']}/claims", w.shopper_key, {"channel": "app"}
        )
    ],
    ("POST", f"{API}/scans"): [
        lambda w: Call(
            "POST",
            "/scans",
            w.clerk_key,
            {"qr_token": w.token, "amount": 39900, "store_id": w.store["id"]},
        )
    ],
    ("POST", f"{API}/orders"): [clerk_order, shopper_order],
    ("POST", f"{API}/orders/{{order_id}}/cancel"): [
        lambda w: Call("POST", f"/orders/{w.order()}/cancel", w.clerk_key, {})
    ],
    ("POST", f"{API}/orders/{{order_id}}/payments"): [
        payment("clerk_scan"),
        payment("shopper_scan"),
        payment("online"),
    ],
    ("POST", f"{API}/payments/{{payment_id}}/confirm"): [
        lambda w: Call("POST", f"/payments/{w.pending_payment()}/confirm", w.shopper_key, {})
    ],
    ("POST", f"{API}/payments/{{payment_id}}/refunds"): [
        lambda w: Call(
            "POST",
            f"/payments/{w.paid_payment()}/refunds",
            ADMIN_KEY,
            {"amount": 100, "reason": "Damaged"},
        )
    ],
    ("POST", f"{API}/coupons/{{code}}/void"): [
        lambda w: Call("POST", f"/coupons/{w.code()}/void", ADMIN_KEY, {"reason": "Misprinted"})
    ],
    ("POST", f"{API}/sandbox/clock"): [
        lambda w: Call("POST", "/sandbox/clock", ADMIN_KEY, {"advance_seconds": 60}),
        lambda w: Call("POST", "/sandbox/clock", ADMIN_KEY, {"now": w.at(1)}),
    ],
    ("POST", f"{API}/webhook-endpoints"): [
        lambda w: Call("POST", "/webhook-endpoints", ADMIN_KEY, WEBHOOK_ENDPOINT),
    ],
    ("PATCH", f"{API}/webhook-endpoints/{{endpoint_id}}"): [
        lambda w: Call(
            "PATCH",
            f"/webhook-endpoints/{w.webhook_endpoint()}",
            ADMIN_KEY,
            {**WEBHOOK_ENDPOINT, "events": ["coupon.*"], "status": "disabled"},
        )
    ],
    ("POST", f"{API}/webhook-endpoints/{{endpoint_id}}/rotate-secret"): [
        lambda w: Call(
            "POST", f"/webhook-endpoints/{w.webhook_endpoint()}/rotate-secret", ADMIN_KEY, {}
        )
    ],
    ("POST", f"{API}/events/{{event_id}}/redeliver"): [
        lambda w: Call(
            "POST",
            f"/events/{recorded_event(w.api.client.application, w.api)}/redeliver",
            ADMIN_KEY,
            {"endpoint_id": w.webhook_endpoint()},
        )
    ],
    ("POST", f"{API}/wechatpay/merchants"): [
        lambda w: Call(
            "POST",
            "/wechatpay/merchants",
            ADMIN_KEY,
            {"appid": "wx8888888888888888", "name": "GXG", "store_ids": [w.store["id"]]},
        ),
    ],
    ("POST", f"{API}/wechatpay/code-url/pay"): [code_url_payment],
    ("POST", f"{API}/wechatpay/cashier/pay"): [cashier_payment],
    ("POST", f"{API}/sandbox/outcomes"): [chosen_outcome],
    ("POST", f"{API}/wechatpay/busifavor/send"): [busifavor_send],
}


def bases_of(operation: Operation) -> list[Base]:
    """The operation's base requests; for one not in BASES, a guess (its test below fails)."""
    if (operation.method, operation.path) in BASES:
        return BASES[(operation.method, operation.path)]
    path = re.sub(r"\{[^}]+\}", "x", operation.path.removeprefix(API))
    role = operation.roles[0] if operation.roles else "admin"
    return [lambda w: Call(operation.method, path, w.key(role), {})]


# -- one field at a time --------------------------------------------------------------------------


def _holds(body: Any, path: tuple[Any, ...]) -> bool:
    node = body
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return True


Case = tuple[Base, tuple[Any, ...]]


def cases(operation: Operation, world: World) -> list[Case]:
    """(base request, field path) for each field and NEW_FIELD: a base whose body holds the
    field, else one that holds its parent, else the first."""
    bases = bases_of(operation)
    bodies = [base(world).body for base in bases]  # their shapes (the objects made are unused)
    found = []
    for path in [*operation.fields, NEW_FIELD]:
        fits = [i for i, body in enumerate(bodies) if _holds(body, path)]
        fits = fits or [i for i, body in enumerate(bodies) if _holds(body, path[:-1])]
        found.append((bases[(fits or [0])[0]], path))
    return found


def with_value(call: Call, path: tuple[Any, ...], value: Any, name: str) -> Call:
    """The call with the field at `path` (or a new field called `name`) set to `value`."""
    body = copy.deepcopy(call.body) if isinstance(call.body, dict) else {}
    if path == NEW_FIELD:
        path = (name,)
    node: Any = body
    for part, following in zip(path, path[1:], strict=False):
        node = _container_at(node, part, list if isinstance(following, int) else dict)
    if isinstance(node, list):
        node.extend(None for _ in range(path[-1] + 1 - len(node)))
    node[path[-1]] = value
    return Call(call.method, call.path, call.key, body)


def _container_at(node: Any, part: Any, kind: type) -> Any:
    """node[part], made an empty `kind` where it is missing or not one."""
    if isinstance(node, list):
        node.extend(None for _ in range(part + 1 - len(node)))
    if not isinstance(node.get(part) if isinstance(node, dict) else node[part], kind):
        node[part] = kind()
    return node[part]


def reported_path(path: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    """Where the 422 must point: the field, or a bad new field's name, escaped."""
    return (name.encode("unicode_escape").decode(),) if path == NEW_FIELD else path


# -- what is sent ---------------------------------------------------------------------------------


def _mixed(
    characters: st.SearchStrategy[str], specials: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """Text in which the specials are common: drawn as an alphabet, each would be as rare as
    any other of the 1.1 million code points."""
    return st.lists(st.text(characters, max_size=6) | specials, max_size=8).map("".join)


AWKWARD = st.sampled_from(
    [NUL, SURROGATE, "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00", "\ufeff", "\ufffd"]
    + ["\uffff", "\U0010ffff", "\u202e", "\u2028", "\x85", "\x7f", "\\", '"', "%", "\n"]
)
# Any text: st.characters() draws from every code point, surrogates included.
TEXT = _mixed(st.characters(), AWKWARD) | st.sampled_from(["", " ", "%00", "null"])
# Text a schema accepts (no NUL, no lone surrogate), as odd as it comes otherwise.
STORABLE = _mixed(
    st.characters(exclude_categories=["Cs"], exclude_characters=NUL),
    st.sampled_from(["\U0001f600", "\u202e", "\ufeff", "\u0301", "'", '"', "\\", "%", ";"]),
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis attaches the timezones below
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]),
).map(datetime.isoformat)
INTEGERS = st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
EDGES = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**30, 1.5, -0.0])
SCALARS = st.none() | st.booleans() | INTEGERS | EDGES | st.floats() | TEXT | MOMENTS
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def plausible(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the type the field's schema names, and inside its bounds: they get past
    validation, so what they reach is the service and the database."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date-time":
        return MOMENTS
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
        return STORABLE.map(lambda text: text[:high]).filter(lambda text: len(text) >= low)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = plausible(schema.get("items", {}))
        low, high = schema.get("minItems", 0), min(schema.get("maxItems", 4), 4)
        return st.lists(items, min_size=min(low, high), max_size=high)
    return VALUES


def values_for(operation: Operation, path: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """Half the time a value the field's schema allows, half the time anything at all."""
    schema = operation.fields.get(path)
    return st.one_of(plausible(schema) if schema else VALUES, TEXT | VALUES)


def examples_for(count: int) -> int:
    """A few per field, bounded: well under 60 s per database for the whole module."""
    return min(200, 20 + 6 * count)


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_operation_has_a_valid_base_request_for_every_body_it_takes(
    api: Api, operation: Operation
) -> None:
    assert (operation.method, operation.path) in BASES, f"add {operation} to BASES"
    world = World.make(api)
    for base in bases_of(operation):
        call = base(world)
        response = call.send(api)
        assert response.status_code < 300, (call, response.get_json())


def test_the_spec_offers_every_post_and_patch_to_the_fuzz() -> None:
    assert len(OPERATIONS) >= 13
    assert {(op.method, op.path) for op in OPERATIONS} >= set(BASES)
    fields = {(str(op), path) for op in OPERATIONS for path in op.fields}
    assert ("POST /campaigns", ("discount", "item")) in fields
    assert ("POST /campaigns", ("store_ids", 0)) in fields


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_field_refuses_nul_and_lone_surrogates_by_name(
    api: Api, app: Flask, operation: Operation
) -> None:
    world = World.make(api)
    for base, path in cases(operation, world):
        for bad in (SURROGATE, NUL):
            text = f"a{bad}b"
            call = with_value(base(world), path, text, name=text)
            before = row_counts(app)
            response = call.send(api)
            assert response.status_code == 422, (call, response.get_json())
            error = assert_envelope(response)
            assert error["code"] == "validation_error"
            assert detail_at(error["details"], reported_path(path, text)), error
            assert row_counts(app) == before, call


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_value_in_any_field_makes_a_5xx_or_a_half_written_row(
    api: Api, app: Flask, operation: Operation
) -> None:
    world = World.make(api)
    targets = cases(operation, world)
    drawn = st.sampled_from(targets).flatmap(
        lambda case: st.tuples(st.just(case), values_for(operation, case[1]))
    )

    @given(drawn=drawn, name=TEXT)
    @settings(
        max_examples=examples_for(len(targets)),
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(drawn: tuple[Case, Any], name: str) -> None:
        (base, path), value = drawn
        call = with_value(base(world), path, value, name)
        before = row_counts(app)
        response = call.send(api)
        try:
            assert response.status_code < 500, (call, response.data[:500])
            if response.status_code >= 400:
                assert_envelope(response)
                assert row_counts(app) == before, (call, response.get_json())
        finally:
            api.clock(now=world.now)  # a fuzzed clock moves no later example

    fuzz()
