"""Orders as objects to read and guard: access rules and lazy expiry of lapsed reservations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from o2o import events, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Order, Payment, sql_moment, table
from o2o.principal import Principal
from o2o.store import CouponMove, acted_by
from o2o.vocabulary import CouponEventType, ErrorCode, EventType, OrderStatus, PaymentFlow, Role

ORDERS = table(Order)


def check_access(principal: Principal, order: Order) -> None:
    """Shoppers see their own orders (404 otherwise), clerks their store's (403 otherwise)."""
    if principal.role == Role.SHOPPER and order.shopper_id != principal.shopper_id:
        raise O2OError(ErrorCode.NOT_FOUND, "No order has this id.")
    if principal.role == Role.CLERK and order.store_id != principal.store_id:
        raise O2OError(ErrorCode.FORBIDDEN, "This order belongs to another store.")


def load_order(principal: Principal, order_id: str) -> Order:
    """An order the caller may act on (check_access)."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No order has this id.")
    check_access(principal, order)
    return order


def read_order(principal: Principal, order_id: str) -> Order:
    """An order the caller may see: one they may act on, or, for a shopper, one whose
    shopper_scan payment they may see (Payment.seen_by_shopper), such as a walk-in's order
    that a merchant QR asks them to pay. Seeing it lets them do nothing more with it."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No order has this id.")
    foreign = principal.role == Role.SHOPPER and order.shopper_id != principal.shopper_id
    if not foreign or not _seen_through_a_payment(order, principal.shopper_id):
        check_access(principal, order)
    return order


def _seen_through_a_payment(order: Order, shopper_id: str | None) -> bool:
    """Whether the shopper may see one of the order's shopper_scan payments."""
    payments = db.session.scalars(
        select(Payment).where(
            Payment.order_id == order.id, Payment.flow == PaymentFlow.SHOPPER_SCAN
        )
    )
    return any(payment.seen_by_shopper(shopper_id) for payment in payments)


def expire_if_lapsed(order: Order, now: datetime) -> bool:
    """Persist the expiry of an unpaid order past its lifetime and give its coupon back.

    Safe under races: only the transaction whose conditional UPDATE wins does the release.
    """
    if order.status != OrderStatus.AWAITING_PAYMENT or now < order.expires_at:
        return False
    expired = db.session.execute(
        update(ORDERS)
        .where(
            ORDERS.c.id == order.id,
            ORDERS.c.status == OrderStatus.AWAITING_PAYMENT,
            ORDERS.c.expires_at <= sql_moment(now),
        )
        .values(status=OrderStatus.EXPIRED)
        .returning(*ORDERS.c)
    ).first()
    if expired is None:
        return False
    events.record_columns(EventType.ORDER_EXPIRED, events.columns_in(ORDERS, expired), now)
    set_committed_value(order, "status", OrderStatus.EXPIRED)
    release_coupon(order, now, None)
    return True


def release_coupon(order: Order, now: datetime, actor: Principal | None) -> None:
    """The order closed unpaid (canceled, expired): its coupon, if it still holds one, is free."""
    if order.coupon_code:
        released = CouponEventType.RELEASED
        store.move_coupon(CouponMove(released, now, order.id, order.store_id, **acted_by(actor)))
