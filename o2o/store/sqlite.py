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

from o2o.events import columns_in, event_row
from o2o.store.blocks import (
    COUPONS,
    EVENTS,
    MOVED_COLUMNS,
    MOVES,
    ORDERS,
    PAYMENTS,
    Source,
    campaign_counter,
    coupon_transition,
    history_row,
    pay_order,
    row_insert,
    spend_code,
)
from o2o.store.params import CodeSpend, CouponMove, EventIds, OrderPayment, Paid, bind_row
from o2o.vocabulary import CouponEventType, EventType, Role


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
def spend_block() -> Update:
    return spend_code()


def log_event(
    session: Session, type_: EventType, columns: dict[str, Any], at: Any, ids: EventIds
) -> None:
    """Insert the event of a change, from the changed row's columns, with its bound id."""
    event_id = getattr(ids, type_.object_type)
    session.execute(EVENTS.insert(), event_row(type_, columns, at, event_id))


def insert_row(
    session: Session,
    table: Table,
    values: dict[str, Any],
    row_type: EventType | None,
    ids: EventIds,
) -> None:
    """Insert a whole row and its event (if its kind of row has events; dated as the row is
    created)."""
    session.execute(row_block(table), bind_row(table, values))
    if row_type is not None:
        log_event(session, row_type, values, values["created_at"], ids)


def move_coupon(
    session: Session,
    move: CouponMove,
    ids: EventIds,
    row: tuple[Table, dict[str, Any], EventType | None] | None,
) -> str | None:
    """Run a move, its history row, event, counter and row (with its event); the campaign
    id, or None if it lost."""
    transition, logged, counted = move_blocks(move.event)
    params = move.bind()
    moved = session.execute(transition, params).one_or_none()
    if moved is None:
        return None
    params |= Source.bind("moved", moved, MOVED_COLUMNS)
    session.execute(logged, params)
    log_event(session, EventType(f"coupon.{move.event}"), columns_in(COUPONS, moved), move.at, ids)
    if counted is not None:
        session.execute(counted, params)
    if row is not None:
        insert_row(session, *row, ids)
    return str(moved.campaign_id)


def pay_order_unread(session: Session, pay: OrderPayment, ids: EventIds, role: Role | None) -> Any:
    """Pay the order, then write its event: the order's row, or None."""
    paid = session.execute(pay_block(role), pay.bind()).one_or_none()
    if paid is not None:
        log_event(session, EventType.ORDER_PAID, columns_in(ORDERS, paid), pay.at, ids)
    return paid


@functools.cache
def pay_block(role: Role | None) -> Update:
    return pay_order(role)


def pay_at_till(
    session: Session,
    pay: OrderPayment,
    spend: CodeSpend,
    move: CouponMove,
    payment: dict[str, Any],
    *,
    ids: EventIds,
) -> Paid | None:
    """Spend the code, pay the order, redeem its coupon and insert the payment, in turn."""
    payer = session.execute(spend_block(), spend.bind()).scalar_one_or_none()
    if payer is None:
        return None
    paid = pay_order_unread(session, replace(pay, payer_id=payer), ids, Role.CLERK)
    if paid is None:
        return None
    payment = payment | {"amount": paid.payable_amount, "payer_id": payer}
    row = (PAYMENTS, payment, EventType.PAYMENT_SUCCEEDED)
    campaign_id = move_coupon(session, move, ids, row) if paid.coupon_code else None
    if not paid.coupon_code:
        insert_row(session, *row, ids)
    return Paid(paid.coupon_code, paid.payable_amount, payer, campaign_id)
