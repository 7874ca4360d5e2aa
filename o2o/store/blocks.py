"""The hot path's rules, one builder each: SQL blocks that both compositions are made of.

A block that follows another takes what the earlier one returned as a `Source`: on PostgreSQL
the earlier block's CTE, so the whole use case is one statement; on SQLite the values the
earlier statement returned, bound as parameters, so the same blocks run one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Insert,
    Select,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from o2o.models import Campaign, Coupon, CouponEvent, Event, Order, Payment, PaymentCode, table
from o2o.store.params import CodeSpend, CouponMove, EventIds, OrderPayment, bind_name, row_param
from o2o.vocabulary import (
    COUPON_MOVES,
    CouponEventType,
    CouponStatus,
    EventType,
    OrderStatus,
    Role,
)

COUPONS, HISTORY, CAMPAIGNS = table(Coupon), table(CouponEvent), table(Campaign)
ORDERS, PAYMENTS, CODES = table(Order), table(Payment), table(PaymentCode)
EVENTS = table(Event)


@dataclass(frozen=True)
class MoveRule:
    """How a coupon move (COUPON_MOVES: where it starts and ends) is written: how the coupon is
    found, what it sets (coupon column → CouponMove field, None to clear) and what it adds to
    the campaign's redeemed_count."""

    by_holder: bool  # the coupon held by the move's order, rather than the one with its code
    sets: tuple[tuple[str, str | None], ...] = ()
    counts: int = 0


_REDEMPTION = ("redeemed_at", "store_id", "redeemed_by", "redeemed_flow")
MOVES = {
    CouponEventType.RESERVED: MoveRule(False, (("order_id", "order_id"),)),
    CouponEventType.RELEASED: MoveRule(True, (("order_id", None),)),
    CouponEventType.REDEEMED: MoveRule(
        True, (("redeemed_at", "at"), *((c, c) for c in _REDEMPTION[1:])), counts=1
    ),
    CouponEventType.RESTORED: MoveRule(
        True, tuple((column, None) for column in ("order_id", *_REDEMPTION)), counts=-1
    ),
    CouponEventType.EXPIRED: MoveRule(False),
}


@dataclass(frozen=True)
class Source:
    """What an earlier block returned, as columns a later block can select."""

    columns: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    from_: FromClause | None = None

    @classmethod
    def of(cls, cte: FromClause) -> Source:
        """PostgreSQL: the earlier block's CTE."""
        return cls({column.key: column for column in cte.c}, cte)

    @classmethod
    def bound(cls, scope: str, table_: Table, columns: tuple[str, ...]) -> Source:
        """SQLite: the earlier statement's returned row, bound as `<scope>__<column>`."""
        return cls({c: bindparam(bind_name(scope, c), type_=table_.c[c].type) for c in columns})

    @staticmethod
    def bind(scope: str, row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
        """SQLite: the values of a returned row, for the blocks built on `bound`."""
        return {bind_name(scope, column): getattr(row, column) for column in columns}

    def select(self, *columns: ColumnElement[Any]) -> Select[Any]:
        statement = select(*columns)
        return statement if self.from_ is None else statement.select_from(self.from_)

    def __getitem__(self, column: str) -> ColumnElement[Any]:
        return self.columns[column]


MOVED_COLUMNS = ("code", "campaign_id")
PAID_COLUMNS = ("id", "store_id", "coupon_code", "payable_amount")


def coupon_transition(event: CouponEventType, after: FromClause | None = None) -> Update:
    """UPDATE the coupon along its move, only if it still stands where the move starts (and,
    with `after`, only if that earlier block returned a row). Returns the coupon's row (every
    column: its event's object)."""
    rule, (starts, ends) = MOVES[event], COUPON_MOVES[event]
    if rule.by_holder:
        match = COUPONS.c.order_id == CouponMove.param("order_id", COUPONS.c.order_id.type)
    else:
        match = COUPONS.c.code == CouponMove.param("code", COUPONS.c.code.type)
    where = [match, or_(*(COUPONS.c.status == start for start in starts))]
    if after is not None:
        where.append(select(after).exists())
    values: dict[str, Any] = {
        column: None if field is None else CouponMove.param(field, COUPONS.c[column].type)
        for column, field in rule.sets
    }
    return update(COUPONS).where(*where).values(status=ends, **values).returning(*COUPONS.c)


_HISTORY_FIELDS = ("at", "actor_role", "actor_id", "store_id", "order_id")


def history_row(moved: Source) -> Insert:
    """INSERT the history row of a move, for the coupon that moved."""
    values = {"coupon_code": moved["code"], "type": CouponMove.param("event", HISTORY.c.type.type)}
    values.update({f: CouponMove.param(f, HISTORY.c[f].type) for f in _HISTORY_FIELDS})
    return insert(HISTORY).from_select(list(values), moved.select(*values.values()))


def campaign_counter(moved: Source, by: int) -> Update:
    """UPDATE the moved coupon's campaign: its redeemed_count changes by `by`."""
    return (
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == moved["campaign_id"])
        .values(redeemed_count=CAMPAIGNS.c.redeemed_count + by)
    )


def row_insert(table_: Table, after: Source, **computed: ColumnElement[Any]) -> Insert:
    """INSERT a whole row (every column bound, `computed` ones taken from `after`) once the
    block `after` stands for has returned its row."""
    values: dict[str, ColumnElement[Any]] = {
        c.key: row_param(table_, c.key) for c in table_.columns
    }
    values.update(computed)
    return insert(table_).from_select(list(values), after.select(*values.values()))


def code_usable() -> list[ColumnElement[bool]]:
    """The payment code (by its hash) exists, was never used and has not expired."""
    return [
        CODES.c.code_hash == CodeSpend.param("code_hash", CODES.c.code_hash.type),
        CODES.c.used_at.is_(None),
        CODES.c.expires_at > CodeSpend.param("at", CODES.c.expires_at.type),
    ]


def spend_code(after: FromClause | None = None) -> Update:
    """UPDATE the payment code as used (once, before it expires); returns whose it was."""
    statement = (
        update(CODES)
        .where(*code_usable())
        .values(used_at=CodeSpend.param("at", CODES.c.used_at.type))
        .returning(CODES.c.shopper_id)
    )
    return statement if after is None else statement.where(select(after).exists())


def locked_code_owner() -> Select[Any]:
    """PostgreSQL: whose usable payment code this is, locking it until the statement ends."""
    return select(CODES.c.shopper_id).where(*code_usable()).with_for_update()


def payable_predicates(role: Role | None) -> dict[str, ColumnElement[bool]]:
    """When the order may be paid now, as named predicates, in the order the careful path
    reports them: by this caller (role None: already checked), through this channel, while it
    awaits payment and has not lapsed, with its coupon's reservation standing."""
    pay = OrderPayment.param
    predicates: dict[str, ColumnElement[bool]] = {}
    if role is Role.CLERK:
        predicates["caller_may_pay"] = ORDERS.c.store_id == pay("store_id", ORDERS.c.store_id.type)
    elif role is Role.SHOPPER:
        shopper = pay("shopper_id", ORDERS.c.shopper_id.type)
        predicates["caller_may_pay"] = ORDERS.c.shopper_id == shopper
    if role is not None:
        predicates["channel_matches"] = ORDERS.c.channel == pay("channel", ORDERS.c.channel.type)
    predicates["awaits_payment"] = ORDERS.c.status == OrderStatus.AWAITING_PAYMENT
    predicates["not_lapsed"] = ORDERS.c.expires_at > pay("at", ORDERS.c.expires_at.type)
    predicates["reservation_stands"] = or_(
        ORDERS.c.coupon_code.is_(None),
        select(COUPONS.c.code)
        .where(
            COUPONS.c.code == ORDERS.c.coupon_code,
            COUPONS.c.status == CouponStatus.RESERVED,
            COUPONS.c.order_id == ORDERS.c.id,
        )
        .exists(),
    )
    return predicates


def the_order() -> ColumnElement[bool]:
    return ORDERS.c.id == OrderPayment.param("order_id", ORDERS.c.id.type)


def pay_order(role: Role | None, payer: ColumnElement[Any] | None = None) -> Update:
    """UPDATE the order as paid if every payable predicate holds; returns the order's row
    (every column: its event's object) and who paid (`payer`, else the bound payer_id)."""
    if payer is None:
        payer = OrderPayment.param("payer_id", ORDERS.c.shopper_id.type)
    return (
        update(ORDERS)
        .where(the_order(), *payable_predicates(role).values())
        .values(
            status=OrderStatus.PAID,
            paid_at=OrderPayment.param("at", ORDERS.c.paid_at.type),
            shopper_id=func.coalesce(ORDERS.c.shopper_id, payer),
        )
        .returning(*ORDERS.c, payer.label("payer_id"))
    )


def _quoted(name: str) -> ColumnElement[Any]:
    return literal_column(f"'{name}'")  # a column key or a vocabulary value: never input


def row_json(table_: Table, changed: FromClause) -> ColumnElement[Any]:
    """PostgreSQL: the changed row as the JSON text an event keeps (o2o.events.snapshot's):
    each of the table's columns by key, from the block that returned them."""
    pairs = [part for c in table_.c for part in (_quoted(c.key), changed.c[c.name])]
    return cast(func.json_build_object(*pairs), Text)


def event_insert(
    type_: EventType, table_: Table, changed: FromClause, at: ColumnElement[Any]
) -> Insert:
    """PostgreSQL: INSERT the event of the change block `changed` made (none if it returned no
    row), its id bound (EventIds, by the object's kind), dated `at`."""
    kind = type_.object_type
    (key,) = table_.primary_key.columns
    values = {
        "id": EventIds.param(kind, EVENTS.c.id.type),
        "type": _quoted(type_),
        "created_at": at,
        "object_type": _quoted(kind),
        "object_id": changed.c[key.name],
        "data": row_json(table_, changed),
        "dispatched": false(),  # not the column's Python default: a bound value in each CTE
    }
    return insert(EVENTS).from_select(list(values), select(*values.values()).select_from(changed))
