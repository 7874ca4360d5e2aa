"""SQLite: the blocks of PostgreSQL's statements, run one by one in the caller's transaction.

SQLite has no data-modifying CTEs; each later block gets what the earlier one returned as
bound parameters (`Source.bound`), and is skipped when the earlier one wrote nothing.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from sqlalchemy import Insert, Table, Update
from sqlalchemy.orm import Session

from o2o.store.blocks import (
    COUPONS,
    MOVED_COLUMNS,
    MOVES,
    PAYMENTS,
    Source,
    campaign_counter,
    coupon_transition,
    history_row,
    pay_order,
    row_insert,
    spend_code,
)
from o2o.store.params import CodeSpend, CouponMove, OrderPayment, Paid, bind_row
from o2o.vocabulary import CouponEventType, Role


@functools.cache
def move_blocks(event: CouponEventType) -> tuple[Update, Insert, Update | None]:
    """The move's UPDATE, then the history row and the counter that select from its result."""
    moved = Source.bound("moved", COUPONS, MOVED_COLUMNS)
    counts = MOVES[event].counts
    return (
        coupon_transition(event),
        history_row(moved),
        campaign_counter(moved, counts) if counts else None,
    )


@functools.cache
def row_block(table: Table) -> Insert:
    return row_insert(table, Source())


@functools.cache
def till_blocks() -> tuple[Update, Update]:
    return spend_code(), pay_order(Role.CLERK)


def move_coupon(
    session: Session, move: CouponMove, row: tuple[Table, dict[str, Any]] | None
) -> str | None:
    """Run a move, its history row, counter and row; the campaign id, or None if it lost."""
    transition, logged, counted = move_blocks(move.event)
    params = move.bind()
    moved = session.execute(transition, params).one_or_none()
    if moved is None:
        return None
    params |= Source.bind("moved", moved, MOVED_COLUMNS)
    session.execute(logged, params)
    if counted is not None:
        session.execute(counted, params)
    if row is not None:
        session.execute(row_block(row[0]), bind_row(*row))
    return str(moved.campaign_id)


def pay_at_till(
    session: Session, pay: OrderPayment, spend: CodeSpend, move: CouponMove, payment: dict[str, Any]
) -> Paid | None:
    """Spend the code, pay the order, redeem its coupon and insert the payment, in turn."""
    spend_block, pay_block = till_blocks()
    payer = session.execute(spend_block, spend.bind()).scalar_one_or_none()
    if payer is None:
        return None
    paid = session.execute(pay_block, replace(pay, payer_id=payer).bind()).one_or_none()
    if paid is None:
        return None
    payment = payment | {"amount": paid.payable_amount, "payer_id": payer}
    row = (PAYMENTS, payment)
    campaign_id = move_coupon(session, move, row) if paid.coupon_code else None
    if not paid.coupon_code:
        session.execute(row_block(PAYMENTS), bind_row(*row))
    return Paid(paid.coupon_code, paid.payable_amount, payer, campaign_id)
