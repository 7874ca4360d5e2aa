"""Every change of a coupon's status: one conditional UPDATE and its history row, together."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Executable, Table, Update, bindparam, insert, or_, select, update

from o2o.extensions import db, writes_in_one_statement
from o2o.models import Campaign, Coupon, CouponEvent, table
from o2o.services.accounts import Principal
from o2o.vocabulary import COUPON_MOVES, ActorRole, CouponEventType, CouponStatus

COUPONS, EVENTS, CAMPAIGNS = table(Coupon), table(CouponEvent), table(Campaign)
EVENT_COLUMNS = ("type", "at", "actor_role", "actor_id", "store_id", "order_id")


def move_coupon(
    code: str,
    event: CouponEventType,
    at: datetime,
    actor: Principal | None,
    *,
    order_id: str | None = None,
    store_id: str | None = None,
    held_by: str | None = None,
    values: dict[str, Any] | None = None,
    redeemed: int = 0,
    with_row: tuple[Table, dict[str, Any]] | None = None,
) -> str | None:
    """Move the coupon along COUPON_MOVES[event] if it still stands where the move starts
    (and, with `held_by`, is still held by that order); write its history row, add
    `redeemed` to its campaign's redeemed_count and insert `with_row` (the order that
    reserves the coupon, the payment that redeems it).

    Returns the coupon's campaign id, or None (having written nothing) when another
    transaction moved it first: the conditional UPDATE decides, never a value read earlier.
    This is the hot path: statements are built once per shape with bound parameters, and on
    PostgreSQL all the writes are one statement (data-modifying CTEs), one round trip.
    """
    values = values or {}
    params = move_params(code, event, at, actor, order_id, store_id, held_by, values, redeemed)
    row_table, row = with_row or (None, {})
    params.update({f"row_{name}": value for name, value in row.items()})
    shape = (event, tuple(values), held_by is not None, redeemed != 0, row_table, tuple(row))
    if writes_in_one_statement():
        return _scalar(_one_statement(*shape), params)
    campaign_id = _scalar(_conditional_update(*shape[:3]), params)
    if campaign_id is not None:
        db.session.execute(INSERT_EVENT, params)
        if redeemed:
            db.session.execute(COUNT_REDEEMED, {**params, "campaign_id": campaign_id})
        if row_table is not None:
            db.session.execute(insert(row_table), row)
    return campaign_id


def move_params(
    code: str | None,
    event: CouponEventType,
    at: datetime,
    actor: Principal | None,
    order_id: str | None,
    store_id: str | None,
    held_by: str | None,
    values: dict[str, Any],
    redeemed: int,
) -> dict[str, Any]:
    """The bound parameters of a move's statements (see `move_coupon`)."""
    params = {f"set_{name}": value for name, value in values.items()}
    params["match_code"] = code
    if held_by is not None:
        params["match_order_id"] = held_by
    params.update(
        event_type=event,
        event_at=at,
        event_actor_role=actor.role if actor else ActorRole.SYSTEM,
        event_actor_id=actor.actor_id if actor else None,
        event_store_id=store_id,
        event_order_id=order_id,
        redeemed_change=redeemed,
    )
    return params


def held_coupon_move(
    event: CouponEventType, columns: tuple[str, ...], after: CTE
) -> tuple[CTE, list[CTE]]:
    """PostgreSQL: the move of the coupon held by order `match_order_id`, with its history row
    and counter, as CTEs of a caller's statement; nothing is written unless `after` (the
    caller's own write, e.g. paying that order) returned a row. Parameters: `move_params`."""
    starts, ends = COUPON_MOVES[event]
    moved = (
        update(COUPONS)
        .where(
            COUPONS.c.order_id == bindparam("match_order_id"),
            or_(*(COUPONS.c.status == start for start in starts)),
            select(after).exists(),
        )
        .values(status=ends, **{name: bindparam(f"set_{name}") for name in columns})
        .returning(COUPONS.c.code, COUPONS.c.campaign_id)
        .cte(f"{event}_coupon")
    )
    logged, counted = _history_and_count(moved, moved.c.code, f"{event}_")
    return moved, [logged, counted]


def _history_and_count(moved: CTE, code: Any, prefix: str = "") -> tuple[CTE, CTE]:
    """The history row and the redeemed_count change of a move, as CTEs selecting from it."""
    history = select(code, *(_event_value(name) for name in EVENT_COLUMNS)).select_from(moved)
    logged = insert(EVENTS).from_select(["coupon_code", *EVENT_COLUMNS], history)
    counted = (
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == moved.c.campaign_id)
        .values(redeemed_count=CAMPAIGNS.c.redeemed_count + bindparam("redeemed_change"))
    )
    return logged.cte(f"{prefix}logged"), counted.cte(f"{prefix}counted")


def _scalar(statement: Executable, params: dict[str, Any]) -> str | None:
    value = db.session.execute(statement, params).scalar_one_or_none()
    return None if value is None else str(value)


@functools.cache
def _conditional_update(event: CouponEventType, columns: tuple[str, ...], held: bool) -> Update:
    """The UPDATE of one move; the status test is plain equality (no expanding IN)."""
    starts, ends = COUPON_MOVES[event]
    where = [COUPONS.c.code == bindparam("match_code")]
    where.append(or_(*(COUPONS.c.status == start for start in starts)))
    if held:
        where.append(COUPONS.c.order_id == bindparam("match_order_id"))
    return (
        update(COUPONS)
        .where(*where)
        .values(status=ends, **{name: bindparam(f"set_{name}") for name in columns})
        .returning(COUPONS.c.campaign_id)
    )


def _event_value(name: str) -> Any:
    return bindparam(f"event_{name}", type_=EVENTS.c[name].type)


INSERT_EVENT = insert(EVENTS).values(
    coupon_code=bindparam("match_code"), **{name: _event_value(name) for name in EVENT_COLUMNS}
)
COUNT_REDEEMED = (
    update(CAMPAIGNS)
    .where(CAMPAIGNS.c.id == bindparam("campaign_id"))
    .values(redeemed_count=CAMPAIGNS.c.redeemed_count + bindparam("redeemed_change"))
)


@functools.cache
def _one_statement(
    event: CouponEventType,
    columns: tuple[str, ...],
    held: bool,
    counted: bool,
    row_table: Table | None,
    row_columns: tuple[str, ...],
) -> Executable:
    """PostgreSQL: the UPDATE, its history row, the counter and the row as one statement;
    every write after the UPDATE selects from its result, so none happens if it loses."""
    moved = _conditional_update(event, columns, held).cte("moved")
    code = bindparam("match_code", type_=EVENTS.c.coupon_code.type)
    logged, count = _history_and_count(moved, code)
    statement = select(moved.c.campaign_id).add_cte(logged)
    if counted:
        statement = statement.add_cte(count)
    if row_table is not None:
        row = [bindparam(f"row_{name}", type_=row_table.c[name].type) for name in row_columns]
        added = insert(row_table).from_select(row_columns, select(*row).select_from(moved))
        statement = statement.add_cte(added.cte("added"))
    return statement


def expire_lapsed(now: datetime, batch: int = 1000) -> int:
    """Write the `expired` move (dated when each coupon lapsed) for unused coupons past validity.

    Reads never need this (they show lapsed coupons as expired already); it puts the event in
    the history. Runs when the sandbox clock moves and from `o2o expire-coupons` (cron).
    """
    lapsed = db.session.execute(
        select(Coupon.code, Coupon.valid_until)
        .where(Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_until <= now)
        .order_by(Coupon.valid_until, Coupon.code)
        .limit(batch)
    ).all()
    moved = 0
    for code, valid_until in lapsed:  # valid_until never changes: status decides the race
        moved += move_coupon(code, CouponEventType.EXPIRED, valid_until, None) is not None
    return moved
