"""The database's hot path: the only code that knows dialects and round trips.

Services call the functions here with value objects (`params`); each runs one composition of
the same blocks (`blocks`): one statement on PostgreSQL (`postgres`), the blocks one by one in
the caller's transaction on SQLite (`sqlite`). The compiled PostgreSQL statements are kept as
files in `sql/` (`make sql`), so a change to the hot path is a SQL diff in review.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import Table, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from o2o import events
from o2o.extensions import db
from o2o.models import Order
from o2o.store import blocks, postgres, sqlite, transactions
from o2o.store.params import CodeSpend, CouponMove, EventIds, OrderPayment, Paid, acted_by, row_of
from o2o.store.transactions import Guard, commit, guarded, one_unit, rollback
from o2o.vocabulary import EventType, ObjectType, Role

__all__ = [
    "CodeSpend",
    "CouponMove",
    "Guard",
    "OrderPayment",
    "Paid",
    "Verdict",
    "acted_by",
    "commit",
    "guarded",
    "one_unit",
    "rollback",
    "row_of",
]


def _composition() -> ModuleType:
    return postgres if writes_in_one_statement() else sqlite


def writes_in_one_statement() -> bool:
    """Whether the database runs data-modifying CTEs (PostgreSQL does, SQLite not)."""
    return bool(db.session.get_bind().dialect.name == "postgresql")


def _row_type(table: Table, values: dict[str, Any]) -> tuple[EventType | None, list[str]]:
    """The event a new row writes (None for a kind of row without events) and its id slot."""
    kind = events.object_type_of(table)
    if kind is None:
        return None, []
    return events.inserted_type(kind, values), [kind]


def move_coupon(move: CouponMove, row: tuple[Table, dict[str, Any]] | None = None) -> str | None:
    """Move a coupon if it still stands where the move starts, with its history row, event,
    counter and `row` (a whole row to insert with it, with its event). Returns the coupon's
    campaign id, or None (having written nothing) when another transaction moved it first."""
    row_type, slots = _row_type(*row) if row is not None else (None, [])
    ids = EventIds.fresh(ObjectType.COUPON, *slots)
    with_type = None if row is None else (*row, row_type)
    result: str | None = _composition().move_coupon(db.session, move, ids, with_type)
    return result


def insert_row(table: Table, values: dict[str, Any]) -> None:
    """Insert a whole row (`row_of` a new order, payment, …) with its event: one statement on
    PostgreSQL, so also in a use case whose statements commit themselves."""
    row_type, slots = _row_type(table, values)
    ids = EventIds.fresh(*slots)
    _composition().insert_row(db.session, table, values, row_type, ids)


def pay_at_till(
    pay: OrderPayment, spend: CodeSpend, move: CouponMove, payment: dict[str, Any]
) -> Paid | None:
    """A successful clerk_scan payment with nothing read first: spend the payment code, pay
    the order, redeem its coupon, insert `payment` (amount and payer filled in), with the
    events of the order, the coupon and the payment. None, with nothing written, when the
    code, the order or this clerk does not qualify."""
    ids = EventIds.fresh(ObjectType.ORDER, ObjectType.COUPON, ObjectType.PAYMENT)
    paid: Paid | None = _composition().pay_at_till(db.session, pay, spend, move, payment, ids=ids)
    return paid


def pay_order_unread(pay: OrderPayment, role: Role | None) -> Any:
    """Pay the order if every payable predicate holds (for `role`; None: the caller was
    checked already), with its `order.paid` event: the order's row, or None."""
    ids = EventIds.fresh(ObjectType.ORDER)
    return _composition().pay_order_unread(db.session, pay, ids, role)


def spend_code(spend: CodeSpend) -> str | None:
    """Use up a payment code (once, before it expires): whose it was, or None."""
    payer = db.session.execute(_spend_code(), spend.bind()).scalar_one_or_none()
    return None if payer is None else str(payer)


@dataclass(frozen=True)
class Verdict:
    """The order, and whether each payable predicate holds for it."""

    order: Order
    predicates: dict[str, bool]

    def holds(self, name: str) -> bool:
        return self.predicates[name]


_spend_code = functools.cache(blocks.spend_code)


@functools.cache
def payability(role: Role) -> Any:
    """The careful path's read: the order with each payable predicate, true or false."""
    columns = [p.label(name) for name, p in blocks.payable_predicates(role).items()]
    return select(Order, *columns).where(blocks.the_order())


def payable_verdict(pay: OrderPayment, role: Role) -> Verdict | None:
    """The order and which payable predicates hold (None: no such order)."""
    row = db.session.execute(payability(role), pay.bind()).one_or_none()
    if row is None:
        return None
    predicates = dict(row._mapping)
    return Verdict(predicates.pop("Order"), predicates)


def insert_unless_present(model: type[Any], **values: Any) -> bool:
    """Insert a row unless one with its primary key exists: never a conflict error (whose
    message would show the key's value), and no commit (the row stands or falls with the
    caller's transaction). Whether the row was inserted."""
    insert = postgresql_insert if writes_in_one_statement() else sqlite_insert
    # RETURNING a constant, not the key: a logged result row must not show a hash either.
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(literal(1))
    return db.session.execute(statement).first() is not None


def statements_commit_themselves() -> None:
    """From here to the next commit, each statement commits by itself (PostgreSQL): no BEGIN
    and no COMMIT round trips. For a use case that reads, then writes with one statement:
    under READ COMMITTED its reads shared no snapshot anyway, and one statement is atomic.
    Call `back_to_transactions()` before a second write."""
    if not writes_in_one_statement() or transactions.is_guarded():
        return  # a guarded request's statements commit with its stored response
    if db.session().in_transaction():  # reads so far (a key lookup): nothing to keep
        db.session.commit()
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def back_to_transactions() -> None:
    """Leave statement-by-statement mode: the statements that follow share one transaction."""
    transactions.commit()
