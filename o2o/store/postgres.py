"""PostgreSQL: each hot use case as one statement, its blocks chained as data-modifying CTEs.

Every write after the first selects from an earlier block's result, so none happens unless
that block wrote; the statement is atomic, and one round trip.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import CTE, Select, Table, select
from sqlalchemy.orm import Session

from o2o import vocabulary
from o2o.store.blocks import (
    COUPONS,
    MOVES,
    ORDERS,
    PAID_COLUMNS,
    PAYMENTS,
    Source,
    campaign_counter,
    coupon_transition,
    event_insert,
    history_row,
    locked_code_owner,
    pay_order,
    row_insert,
    spend_code,
)
from o2o.store.params import (
    CodeSpend,
    CouponMove,
    EventIds,
    OrderPayment,
    Paid,
    bind_row,
    row_param,
)
from o2o.vocabulary import CouponEventType, EventType, Role


def _bind_the_vocabulary_as_text() -> None:
    """psycopg finds a parameter's dumper by its exact class; for a str subclass, such as the
    vocabulary's StrEnums bound all through the hot path, it walks the class's MRO on every new
    cursor. Give each StrEnum the dumpers of str once, so it is found at the first look."""
    try:
        from psycopg import adapters
        from psycopg.adapt import PyFormat
    except ImportError:  # without the postgres extra there is no PostgreSQL to talk to
        return
    for enum in vocabulary.STR_ENUMS:
        for format_ in (PyFormat.BINARY, PyFormat.TEXT):  # the last one is also str's AUTO
            adapters.register_dumper(enum, adapters.get_dumper(str, format_))


_bind_the_vocabulary_as_text()

# psycopg keeps the conversion of a query (its placeholders parsed into PostgreSQL's $n) in a
# cache, but not for queries over 4096 bytes or 50 parameters: with its event CTEs the till's
# statement is longer, and parsing it again cost every payment more CPU than the events'
# whole share of the work. Our hot statements are a handful of fixed strings: cache them.
STATEMENT_CACHE_LIMITS = {"MAX_CACHED_STATEMENT_LENGTH": 16_384, "MAX_CACHED_STATEMENT_PARAMS": 200}


def _cache_the_hot_statements_conversion() -> None:
    try:
        from psycopg import _queries
    except ImportError:
        return
    for name, limit in STATEMENT_CACHE_LIMITS.items():
        setattr(_queries, name, max(limit, getattr(_queries, name)))


_cache_the_hot_statements_conversion()

Built = TypeVar("Built", bound=Callable[..., Any])


def built_once(builder: Built) -> Built:
    """Build a hot statement once per argument, and its SQLAlchemy cache key with it.

    SQLAlchemy finds a statement's compiled form by its cache key, which it computes by walking
    the whole statement at every execution: for these statements, with their event CTEs, that
    walk costs more CPU than the rest of the request's database work. The statements built here
    never change after they are built, so neither does their key: it is kept on the statement.
    """

    @functools.cache
    def build(*args: Any, **kwargs: Any) -> Any:
        statement = builder(*args, **kwargs)
        statement._generate_cache_key = functools.cache(statement._generate_cache_key)
        return statement

    return functools.wraps(builder)(build)  # type: ignore[return-value]


def _history(event: CouponEventType, moved: CTE) -> list[CTE]:
    """The history row, the event and (if the move counts) the counter of a move, as CTEs."""
    source = Source.of(moved)
    at = CouponMove.param("at", COUPONS.c.claimed_at.type)
    blocks = [
        history_row(source).cte(f"{event}_logged"),
        event_insert(EventType(f"coupon.{event}"), COUPONS, moved, at).cte(f"{event}_event"),
    ]
    if MOVES[event].counts:
        blocks.append(campaign_counter(source, MOVES[event].counts).cte(f"{event}_counted"))
    return blocks


def _added(table: Table, after: Source, row_type: EventType | None, **computed: Any) -> list[CTE]:
    """A row inserted once `after` returned its row, with the row's event (if its kind of
    row has events; dated as the row is created), as CTEs."""
    insert = row_insert(table, after, **computed)
    if row_type is None:
        return [insert.cte("added")]
    added = insert.returning(*table.c).cte("added")
    at = row_param(table, "created_at")
    return [added, event_insert(row_type, table, added, at).cte("added_event")]


@built_once
def insert_statement(table: Table, row_type: EventType) -> Select[Any]:
    """A whole row inserted with its event, as one statement."""
    added, logged = _added(table, Source(), row_type)
    return select(added.c[next(iter(table.primary_key.columns)).name]).add_cte(logged)


@built_once
def move_statement(
    event: CouponEventType, row_table: Table | None = None, row_type: EventType | None = None
) -> Select[Any]:
    """A coupon move with its history row, event and counter, and a row inserted with it
    (the order that reserves the coupon), with its event (`row_type`); returns the coupon's
    campaign, or nothing if it lost."""
    moved = coupon_transition(event).cte("moved")
    statement = select(moved.c.campaign_id).add_cte(*_history(event, moved))
    if row_table is not None:
        statement = statement.add_cte(*_added(row_table, Source.of(moved), row_type))
    return statement


@built_once
def pay_statement(role: Role | None) -> Select[Any]:
    """Pay the order if every payable predicate holds, with its `order.paid` event; returns
    what the payment needs and who paid, or nothing."""
    paid = pay_order(role).cte("paid")
    at = OrderPayment.param("at", ORDERS.c.paid_at.type)
    logged = event_insert(EventType.ORDER_PAID, ORDERS, paid, at).cte("paid_event")
    return select(*(paid.c[c] for c in PAID_COLUMNS), paid.c.payer_id).add_cte(logged)


@built_once
def till_statement() -> Select[Any]:
    """A clerk_scan payment: lock the shopper's payment code, pay the order (if this clerk may
    and its coupon's reservation stands), spend the code, redeem the coupon with its history
    row and counter, insert the payment; an event for the order, the coupon and the payment.
    Returns what was paid, or nothing."""
    owner = locked_code_owner().cte("code_owner")
    payer = select(owner.c.shopper_id).scalar_subquery()
    paid = pay_order(Role.CLERK, payer).where(select(owner).exists()).cte("paid")
    at = OrderPayment.param("at", ORDERS.c.paid_at.type)
    paid_event = event_insert(EventType.ORDER_PAID, ORDERS, paid, at).cte("paid_event")
    spent = spend_code(after=paid).cte("spent")
    redeemed = coupon_transition(CouponEventType.REDEEMED, after=paid).cte("redeemed_coupon")
    computed = {"amount": paid.c.payable_amount, "payer_id": paid.c.payer_id}
    added = _added(PAYMENTS, Source.of(paid), EventType.PAYMENT_SUCCEEDED, **computed)
    campaign = select(redeemed.c.campaign_id).scalar_subquery().label("campaign_id")
    return select(paid.c.coupon_code, paid.c.payable_amount, paid.c.payer_id, campaign).add_cte(
        paid_event, spent, *_history(CouponEventType.REDEEMED, redeemed), *added
    )


def move_coupon(
    session: Session,
    move: CouponMove,
    ids: EventIds,
    row: tuple[Table, dict[str, Any], EventType | None] | None,
) -> str | None:
    """Run a move (and its row) as one statement; the campaign id, or None if it lost."""
    table, values, row_type = row or (None, {}, None)
    params = move.bind() | ids.bind() | (bind_row(table, values) if table is not None else {})
    statement = move_statement(move.event, table, row_type)
    campaign_id = session.execute(statement, params).scalar()
    return None if campaign_id is None else str(campaign_id)


def insert_row(
    session: Session,
    table: Table,
    values: dict[str, Any],
    row_type: EventType | None,
    ids: EventIds,
) -> None:
    """Insert a whole row with its event, as one statement."""
    assert row_type is not None
    session.execute(insert_statement(table, row_type), bind_row(table, values) | ids.bind())


def pay_order_unread(session: Session, pay: OrderPayment, ids: EventIds, role: Role | None) -> Any:
    """Pay the order, with its event, as one statement: the order's row, or None."""
    return session.execute(pay_statement(role), pay.bind() | ids.bind()).one_or_none()


def pay_at_till(
    session: Session,
    pay: OrderPayment,
    spend: CodeSpend,
    move: CouponMove,
    payment: dict[str, Any],
    *,
    ids: EventIds,
) -> Paid | None:
    """Run the till's payment as one statement; what was paid, or None if anything failed."""
    params = pay.bind() | spend.bind() | move.bind() | bind_row(PAYMENTS, payment) | ids.bind()
    row = session.execute(till_statement(), params).one_or_none()
    return None if row is None else Paid(**row._asdict())
