"""The hot path's bound parameters as value objects; the one place that names them.

A bound parameter named like a column that an INSERT or UPDATE writes is taken by SQLAlchemy
as that column's value. Every name bound here is `<scope>__<field>`, and no column of the
schema has a double underscore (tests/store checks it), so the trap cannot be stepped in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import BindParameter, Table, bindparam
from sqlalchemy.types import TypeEngine

from o2o.events import new_event_id
from o2o.vocabulary import ActorRole, CouponEventType


@functools.cache
def bind_name(scope: str, field: str) -> str:
    """The name of a bound parameter: the naming rule of the whole hot path (remembered: it
    is asked for every parameter of every hot statement)."""
    return f"{scope}__{field}"


class Params:
    """A value object whose fields are the bound parameters of the statements that use it."""

    scope: ClassVar[str]

    @classmethod
    def param(cls, field: str, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
        """The bound parameter standing for `field` inside a statement."""
        return bindparam(bind_name(cls.scope, field), type_=type_)

    def bind(self) -> dict[str, Any]:
        """The values to execute a statement with."""
        return {bind_name(self.scope, name): value for name, value in vars(self).items()}


@dataclass(frozen=True)
class CouponMove(Params):
    """One change of a coupon's status, with what its history row records.

    The coupon is found by `code`, or (code None) as the coupon held by order `order_id`.
    """

    scope: ClassVar[str] = "move"

    event: CouponEventType
    at: datetime
    order_id: str | None = None
    store_id: str | None = None
    code: str | None = None
    actor_role: str = ActorRole.SYSTEM
    actor_id: str | None = None
    redeemed_by: str | None = None
    redeemed_flow: str | None = None


class Actor(Protocol):
    """Who made a move: anything with a role and an actor id (a Principal)."""

    @property
    def role(self) -> str: ...

    @property
    def actor_id(self) -> str: ...


def acted_by(actor: Actor | None) -> dict[str, Any]:
    """A move's actor fields: the caller's, or the service's own (housekeeping, redemption)."""
    if actor is None:
        return {"actor_role": ActorRole.SYSTEM, "actor_id": None}
    return {"actor_role": actor.role, "actor_id": actor.actor_id}


@dataclass(frozen=True)
class OrderPayment(Params):
    """Paying order `order_id` at `at`, by a caller who may pay it through `channel`.

    `store_id` is the calling clerk's store, `shopper_id` the calling shopper (one of them);
    `payer_id` who pays, when known before the statement (else the payment code says).
    """

    scope: ClassVar[str] = "pay"

    order_id: str
    at: datetime
    channel: str
    store_id: str | None = None
    shopper_id: str | None = None
    payer_id: str | None = None


@dataclass(frozen=True)
class CodeSpend(Params):
    """Using up a shopper's one-time payment code at `at`, found by its keyed hash (the clear
    code is never bound: not even a logged statement could show it)."""

    scope: ClassVar[str] = "spend"

    code_hash: str
    at: datetime


@dataclass(frozen=True)
class EventIds(Params):
    """The ids of the events a hot statement may write, one per kind of row it can change
    (drawn in Python before the statement, whichever composition runs it, and bound)."""

    scope: ClassVar[str] = "event"

    coupon: str | None = None
    order: str | None = None
    payment: str | None = None

    @classmethod
    def fresh(cls, *slots: str) -> EventIds:
        """New ids for `slots` (ObjectType values: coupon, order, payment)."""
        return cls(**{slot: new_event_id() for slot in slots})


@dataclass(frozen=True)
class Paid:
    """What paying an order at the till did: the order's coupon and amount, who paid, and the
    campaign of the coupon redeemed (None when none was)."""

    coupon_code: str | None
    payable_amount: int
    payer_id: str
    campaign_id: str | None


def row_of(obj: Any) -> dict[str, Any]:
    """Every column of the row a new model object stands for (None included), so that a row
    inserted along with a move always has the same shape."""
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


def row_param(table: Table, column: str) -> BindParameter[Any]:
    """The bound parameter for one column of a row inserted along with a move."""
    return bindparam(bind_name(table.name, column), type_=table.c[column].type)


def bind_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row's values under the names `row_param` gives them."""
    return {bind_name(table.name, column): value for column, value in row.items()}
