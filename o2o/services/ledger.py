"""Lists that reconcile: orders, payments and refunds, each caller within their own scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, contains_eager

from o2o import clock
from o2o.models import Order, Payment, Refund
from o2o.principal import Principal
from o2o.services.pagination import Page, paginate
from o2o.vocabulary import Role


@dataclass(frozen=True)
class Filters:
    """What a list asks for; every field None means "any". Bounds on created_at are exclusive."""

    status: str | None = None
    store_id: str | None = None
    shopper_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    @classmethod
    def of(cls, args: dict[str, Any]) -> Filters:
        """The filters among a list's query arguments (limit and cursor aside)."""
        return cls(**{name: args.get(name) for name in cls.__dataclass_fields__})

    def window(self, at: InstrumentedAttribute[datetime]) -> list[ColumnElement[bool]]:
        """`created_after < at < created_before`, for the bounds given."""
        bounds = []
        if self.created_after is not None:
            bounds.append(at > self.created_after)
        if self.created_before is not None:
            bounds.append(at < self.created_before)
        return bounds


Whose = Callable[[str | None], ColumnElement[bool]]


def _whose_order(shopper_id: str | None) -> ColumnElement[bool]:
    """A shopper's orders."""
    return Order.shopper_id == shopper_id


def _whose_payment(shopper_id: str | None) -> ColumnElement[bool]:
    """A shopper's payments, as getPayment has it: those they paid, or that paid their orders."""
    return or_(Order.shopper_id == shopper_id, Payment.payer_id == shopper_id)


def _scoped(
    principal: Principal, filters: Filters, whose: Whose = _whose_order
) -> list[ColumnElement[bool]]:
    """The caller's scope, then the filters: a filter naming another shopper or store than the
    caller's own finds nothing, exactly as an unknown id does (nothing is looked up)."""
    where: list[ColumnElement[bool]] = []
    # `column == None` would be IS NULL: a principal without its id sees nothing, not the rest.
    if principal.role == Role.SHOPPER:
        where.append(whose(principal.shopper_id) if principal.shopper_id else false())
    elif principal.role == Role.CLERK:
        where.append(Order.store_id == principal.store_id if principal.store_id else false())
    if filters.store_id is not None:
        where.append(Order.store_id == filters.store_id)
    if filters.shopper_id is not None:
        where.append(whose(filters.shopper_id))
    return where or [true()]


def list_orders(
    principal: Principal, filters: Filters, limit: int, cursor: str | None
) -> Page[Order]:
    """Orders newest first: a shopper's own, a clerk's store's, every one for an admin."""
    stmt = select(Order).where(*_scoped(principal, filters), *filters.window(Order.created_at))
    if filters.status is not None:
        stmt = stmt.where(Order.effective_status_sql(clock.now()) == filters.status)
    return paginate(stmt, Order.created_at, Order.id, limit, cursor)


def list_payments(
    principal: Principal, filters: Filters, limit: int, cursor: str | None
) -> Page[Payment]:
    """Payments newest first, scoped and filtered through their order (and who paid them)."""
    stmt = _payments().where(
        *_scoped(principal, filters, _whose_payment), *filters.window(Payment.created_at)
    )
    if filters.status is not None:
        stmt = stmt.where(Payment.status == filters.status)
    return paginate(stmt, Payment.created_at, Payment.id, limit, cursor)


def list_refunds(
    principal: Principal, filters: Filters, limit: int, cursor: str | None
) -> Page[Refund]:
    """Refunds newest first, scoped and filtered through their payment's order."""
    stmt = (
        select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Order, Order.id == Payment.order_id)
        .where(*_scoped(principal, filters, _whose_payment), *filters.window(Refund.created_at))
    )
    if filters.status is not None:
        stmt = stmt.where(Refund.status == filters.status)
    return paginate(stmt, Refund.created_at, Refund.id, limit, cursor)


def _payments() -> Select[Any]:
    """Payments joined to their order once: for the filters, and as the loaded `order`."""
    return select(Payment).join(Payment.order).options(contains_eager(Payment.order))
