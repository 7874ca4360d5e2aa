"""PostgreSQL: each hot use case as one statement, its blocks chained as data-modifying CTEs.

Every write after the first selects from an earlier block's result, so none happens unless
that block wrote; the statement is atomic, and one round trip.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import CTE, Select, Table, select
from sqlalchemy.orm import Session

from o2o import vocabulary
from o2o.store.blocks import (
    MOVES,
    PAYMENTS,
    Source,
    campaign_counter,
    coupon_transition,
    history_row,
    locked_code_owner,
    pay_order,
    row_insert,
    spend_code,
)
from o2o.store.params import CodeSpend, CouponMove, OrderPayment, Paid, bind_row
from o2o.vocabulary import CouponEventType, Role


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


def _history(event: CouponEventType, moved: CTE) -> list[CTE]:
    """The history row and (if the move counts) the counter of a move, as CTEs."""
    source = Source.of(moved)
    blocks = [history_row(source).cte(f"{event}_logged")]
    if MOVES[event].counts:
        blocks.append(campaign_counter(source, MOVES[event].counts).cte(f"{event}_counted"))
    return blocks


@functools.cache
def move_statement(event: CouponEventType, row_table: Table | None = None) -> Select[Any]:
    """A coupon move with its history row and counter, and a row inserted with it (the order
    that reserves the coupon); returns the coupon's campaign, or nothing if it lost."""
    moved = coupon_transition(event).cte("moved")
    statement = select(moved.c.campaign_id).add_cte(*_history(event, moved))
    if row_table is not None:
        statement = statement.add_cte(row_insert(row_table, Source.of(moved)).cte("added"))
    return statement


@functools.cache
def till_statement() -> Select[Any]:
    """A clerk_scan payment: lock the shopper's payment code, pay the order (if this clerk may
    and its coupon's reservation stands), spend the code, redeem the coupon with its history
    row and counter, insert the payment. Returns what was paid, or nothing."""
    owner = locked_code_owner().cte("code_owner")
    payer = select(owner.c.shopper_id).scalar_subquery()
    paid = pay_order(Role.CLERK, payer).where(select(owner).exists()).cte("paid")
    spent = spend_code(after=paid).cte("spent")
    redeemed = coupon_transition(CouponEventType.REDEEMED, after=paid).cte("redeemed_coupon")
    computed = {"amount": paid.c.payable_amount, "payer_id": paid.c.payer_id}
    added = row_insert(PAYMENTS, Source.of(paid), **computed).cte("added")
    campaign = select(redeemed.c.campaign_id).scalar_subquery().label("campaign_id")
    return select(paid.c.coupon_code, paid.c.payable_amount, paid.c.payer_id, campaign).add_cte(
        spent, *_history(CouponEventType.REDEEMED, redeemed), added
    )


def move_coupon(
    session: Session, move: CouponMove, row: tuple[Table, dict[str, Any]] | None
) -> str | None:
    """Run a move (and its row) as one statement; the campaign id, or None if it lost."""
    table, values = row or (None, {})
    params = move.bind() | (bind_row(table, values) if table is not None else {})
    campaign_id = session.execute(move_statement(move.event, table), params).scalar()
    return None if campaign_id is None else str(campaign_id)


def pay_at_till(
    session: Session, pay: OrderPayment, spend: CodeSpend, move: CouponMove, payment: dict[str, Any]
) -> Paid | None:
    """Run the till's payment as one statement; what was paid, or None if anything failed."""
    params = pay.bind() | spend.bind() | move.bind() | bind_row(PAYMENTS, payment)
    row = session.execute(till_statement(), params).one_or_none()
    return None if row is None else Paid(**row._asdict())
