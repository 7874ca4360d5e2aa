"""Checkout: the clerk's dry-run scan, placing orders that reserve a coupon, cancelling them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from o2o import clock, events, store
from o2o.errors import O2OError, field_error
from o2o.extensions import db
from o2o.models import Coupon, Order, Payment, Store, table
from o2o.principal import Principal
from o2o.services.orders import expire_if_lapsed, load_order, read_order, release_coupon
from o2o.store import CouponMove, acted_by, row_of
from o2o.tokens import new_id, normalize_code, verify_qr_token
from o2o.vocabulary import (
    Channel,
    CouponEventType,
    CouponStatus,
    ErrorCode,
    EventType,
    OrderStatus,
    PaymentStatus,
    Reason,
    Role,
)

ORDERS = table(Order)
PAYMENTS = table(Payment)


@dataclass
class Quote:
    """What a coupon would do to an amount: whether it applies, why not, and the money."""

    coupon: Coupon | None
    amount: int
    reasons: list[Reason] = field(default_factory=list)
    discount_amount: int = 0

    @property
    def applicable(self) -> bool:
        return self.coupon is not None and not self.reasons

    @property
    def payable_amount(self) -> int:
        return self.amount - self.discount_amount


def _coupon_from_token(token: str, now: datetime) -> Coupon:
    code = verify_qr_token(current_app.config["O2O_SECRET_KEY"], token, now)
    coupon = db.session.get(Coupon, code)
    if coupon is None:  # a genuine token for a coupon that no longer exists
        raise O2OError(ErrorCode.NOT_FOUND, "No coupon has this code.")
    return coupon


def _release_if_lapsed(coupon: Coupon, now: datetime) -> None:
    """A reservation whose order lapsed is given back to whoever asks next."""
    if coupon.status == CouponStatus.RESERVED and coupon.order_id:
        store.back_to_transactions()  # the release and the new reservation are more than one write
        order = db.session.get(Order, coupon.order_id)
        if order is not None and expire_if_lapsed(order, now):
            db.session.refresh(coupon)


def _quote(coupon: Coupon, amount: int, store_id: str | None, channel: str, now: datetime) -> Quote:
    reasons = coupon.use_blockers(amount=amount, store_id=store_id, channel=channel, now=now)
    discount = 0 if reasons else coupon.campaign.discount_for(amount)
    return Quote(coupon, amount, reasons, discount)


def _own_store(principal: Principal, store_id: str | None) -> str:
    if store_id is not None and store_id != principal.store_id:
        raise O2OError(ErrorCode.FORBIDDEN, "Clerks act for their own store only.")
    assert principal.store_id is not None
    return principal.store_id


def scan(principal: Principal, token: str, amount: int, store_id: str | None = None) -> Quote:
    """Dry run at the till: would this QR's coupon apply to `amount` here? Changes nothing."""
    store_id = _own_store(principal, store_id)
    now = clock.now()
    coupon = _coupon_from_token(token, now)
    quote = _quote(coupon, amount, store_id, Channel.IN_STORE, now)
    store.rollback()  # a scan never writes
    return quote


def place_order(
    principal: Principal,
    amount: int,
    *,
    qr_token: str | None = None,
    coupon_code: str | None = None,
    store_id: str | None = None,
    expires_at: datetime | None = None,
) -> Order:
    """Check out: in store for a clerk (QR token), online for a shopper (coupon code). The
    order lapses O2O_ORDER_TTL from now, or at `expires_at` (a WeChat Pay `time_expire`)."""
    now = clock.now()
    # Reads, then one write (the order, with its coupon's reservation): no transaction needed.
    store.statements_commit_themselves()
    if principal.role == Role.CLERK:
        order, coupon = _in_store_order(principal, amount, qr_token, store_id, now)
    else:
        order, coupon = _online_order(principal, amount, coupon_code, store_id, now)
    if expires_at is not None:
        order.expires_at = expires_at
    if coupon is not None:
        _reserve_for(order, coupon, principal, now)  # inserts the order with the reservation
    else:
        store.insert_row(ORDERS, row_of(order))  # with its order.created event
    store.commit()
    return order


def _in_store_order(
    principal: Principal, amount: int, qr_token: str | None, store_id: str | None, now: datetime
) -> tuple[Order, Coupon | None]:
    """A clerk's order at their store, and the coupon whose QR the clerk scanned."""
    store_id = _own_store(principal, store_id)
    coupon = _coupon_from_token(qr_token, now) if qr_token else None
    shopper_id = coupon.shopper_id if coupon else None
    order = _new_order(
        principal,
        amount,
        channel=Channel.IN_STORE,
        store_id=store_id,
        shopper_id=shopper_id,
        now=now,
    )
    return order, coupon


def _online_order(
    principal: Principal, amount: int, coupon_code: str | None, store_id: str | None, now: datetime
) -> tuple[Order, Coupon | None]:
    """A shopper's online order (crediting a store, if named) and the coupon they chose."""
    if store_id is not None and db.session.get(Store, store_id) is None:
        raise field_error("store_id", "No store has this id.")
    coupon = _shoppers_coupon(principal, coupon_code) if coupon_code else None
    shopper_id = principal.shopper_id
    order = _new_order(
        principal, amount, channel=Channel.ONLINE, store_id=store_id, shopper_id=shopper_id, now=now
    )
    return order, coupon


def _new_order(
    principal: Principal,
    amount: int,
    *,
    channel: Channel,
    store_id: str | None,
    shopper_id: str | None,
    now: datetime,
) -> Order:
    """An order awaiting payment for the whole amount, until a coupon discounts it."""
    return Order(
        id=new_id("ord"),
        channel=channel,
        store_id=store_id,
        shopper_id=shopper_id,
        clerk_id=principal.clerk_id,
        amount=amount,
        discount_amount=0,
        payable_amount=amount,
        status=OrderStatus.AWAITING_PAYMENT,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["O2O_ORDER_TTL"]),
    )


def _shoppers_coupon(principal: Principal, raw_code: str) -> Coupon:
    coupon = db.session.get(Coupon, normalize_code(raw_code))
    if coupon is None or coupon.shopper_id != principal.shopper_id:
        raise O2OError(ErrorCode.NOT_FOUND, "No coupon has this code.")
    return coupon


def _applicable(order: Order, coupon: Coupon, now: datetime) -> Quote:
    """The coupon's quote on this order, or the error saying why it cannot be used on it."""
    _release_if_lapsed(coupon, now)
    quote = _quote(coupon, order.amount, order.store_id, order.channel, now)
    if Reason.COUPON_NOT_AVAILABLE in quote.reasons:
        raise O2OError(ErrorCode.COUPON_NOT_AVAILABLE, f"This coupon is {coupon.status}.")
    if quote.reasons:
        raise O2OError(ErrorCode.COUPON_NOT_APPLICABLE, details={"reasons": quote.reasons})
    return quote


def _reservation(order: Order, coupon: Coupon, principal: Principal, now: datetime) -> CouponMove:
    return CouponMove(
        CouponEventType.RESERVED, now, order.id, order.store_id, coupon.code, **acted_by(principal)
    )


def _taken() -> O2OError:
    store.rollback()
    return O2OError(ErrorCode.COUPON_NOT_AVAILABLE, "This coupon was just taken by another order.")


def _reserve_for(order: Order, coupon: Coupon, principal: Principal, now: datetime) -> None:
    quote = _applicable(order, coupon, now)
    order.coupon_code = coupon.code
    order.discount_amount = quote.discount_amount
    order.payable_amount = quote.payable_amount
    reserved = store.move_coupon(
        _reservation(order, coupon, principal, now), row=(ORDERS, row_of(order))
    )
    if not reserved:  # someone else reserved it between our read and our UPDATE
        raise _taken()


def apply_coupon(principal: Principal, order_id: str, coupon_code: str) -> Order:
    """The shopper uses one of their coupons on an unpaid order that has none yet — as WeChat's
    cashier offers the shopper's coupons while they pay a merchant's QR. The order becomes
    theirs, and its payment waiting for a shopper asks for the new amount."""
    now = clock.now()
    store.back_to_transactions()
    order = _open_without_coupon(principal, order_id, now)
    coupon = _shoppers_coupon(principal, coupon_code)
    quote = _applicable(order, coupon, now)
    if not store.move_coupon(_reservation(order, coupon, principal, now)):
        raise _taken()
    changed = db.session.execute(
        update(ORDERS)
        .where(
            ORDERS.c.id == order.id,
            ORDERS.c.status == OrderStatus.AWAITING_PAYMENT,
            ORDERS.c.coupon_code.is_(None),
        )
        .values(
            coupon_code=coupon.code,
            discount_amount=quote.discount_amount,
            payable_amount=quote.payable_amount,
            shopper_id=principal.shopper_id,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]  # paid or closed meanwhile
        store.rollback()
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE)
    _reprice_waiting_payments(order.id, quote.payable_amount)
    store.commit()
    db.session.expire_all()
    return order


def _open_without_coupon(principal: Principal, order_id: str, now: datetime) -> Order:
    """The unpaid, coupon-less order the shopper may use a coupon on (theirs, or nobody's)."""
    order = db.session.get(Order, order_id)
    if order is None or order.shopper_id not in (None, principal.shopper_id):
        raise O2OError(ErrorCode.NOT_FOUND, "No order has this id.")
    if expire_if_lapsed(order, now) or order.status != OrderStatus.AWAITING_PAYMENT:
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE, f"This order is {order.status}.")
    if order.coupon_code is not None:
        raise O2OError(ErrorCode.COUPON_NOT_APPLICABLE, "This order has a coupon already.")
    return order


def _reprice_waiting_payments(order_id: str, amount: int) -> None:
    """A payment still waiting for its shopper asks for the order's new amount."""
    db.session.execute(
        update(PAYMENTS)
        .where(
            PAYMENTS.c.order_id == order_id,
            PAYMENTS.c.status == PaymentStatus.PENDING,
            PAYMENTS.c.payer_id.is_(None),
        )
        .values(amount=amount)
    )


def get_order(principal: Principal, order_id: str) -> Order:
    """One order, as its shopper, its store's clerks or an admin may see it, and a shopper a
    merchant QR asks to pay it (orders.read_order)."""
    return read_order(principal, order_id)


def cancel_order(principal: Principal, order_id: str) -> Order:
    """Cancel an unpaid order; its coupon becomes available again."""
    now = clock.now()
    order = load_order(principal, order_id)
    if expire_if_lapsed(order, now) or order.status != OrderStatus.AWAITING_PAYMENT:
        store.commit()
        raise O2OError(
            ErrorCode.ORDER_NOT_CANCELABLE, f"This order is {order.effective_status(now)}."
        )
    canceled = db.session.execute(
        update(ORDERS)
        .where(ORDERS.c.id == order.id, ORDERS.c.status == OrderStatus.AWAITING_PAYMENT)
        .values(status=OrderStatus.CANCELED)
        .returning(*ORDERS.c)
    ).first()
    if canceled is None:  # paid a moment ago by a concurrent payment
        raise O2OError(ErrorCode.ORDER_NOT_CANCELABLE)
    events.record_columns(EventType.ORDER_CANCELED, events.columns_in(ORDERS, canceled), now)
    release_coupon(order, now, principal)
    store.commit()
    db.session.refresh(order)
    return order
