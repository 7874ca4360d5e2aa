"""Payments: payment codes, the three mock flows, confirmation and delayed settlement."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, Row, Select, bindparam, func, insert, or_, select, update

from o2o import clock, gateway
from o2o.errors import O2OError, field_error
from o2o.extensions import db, writes_in_one_statement
from o2o.models import Coupon, Order, Payment, PaymentCode, column_values, table
from o2o.services.accounts import Principal
from o2o.services.coupon_moves import held_coupon_move, move_coupon, move_params
from o2o.services.orders import check_access, expire_if_lapsed, load_order
from o2o.tokens import new_id, new_payment_code
from o2o.vocabulary import (
    Channel,
    CouponEventType,
    CouponStatus,
    ErrorCode,
    OrderStatus,
    PaymentFlow,
    PaymentMethod,
    PaymentStatus,
    Role,
)

FLOW_ROLES = {
    PaymentFlow.CLERK_SCAN: Role.CLERK,
    PaymentFlow.SHOPPER_SCAN: Role.CLERK,
    PaymentFlow.ONLINE: Role.SHOPPER,
}
FLOW_CHANNELS = {
    PaymentFlow.CLERK_SCAN: Channel.IN_STORE,
    PaymentFlow.SHOPPER_SCAN: Channel.IN_STORE,
    PaymentFlow.ONLINE: Channel.ONLINE,
}


def issue_payment_code(principal: Principal) -> PaymentCode:
    """A fresh one-time 18-digit code for the shopper to show at the till."""
    now = clock.now()
    code = PaymentCode(
        code=new_payment_code(),
        shopper_id=principal.shopper_id,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["O2O_PAYMENT_CODE_TTL"]),
    )
    db.session.add(code)
    db.session.commit()
    return code


CODES, ORDERS, PAYMENTS, COUPONS = table(PaymentCode), table(Order), table(Payment), table(Coupon)
# The hot path's statements, built once with bound parameters (SQLAlchemy caches their SQL).
# No parameter is named like a column of a table they write (coupons and payments have an
# order_id): inside a statement that writes it, SQLAlchemy would take the key as a column.
CODE_USABLE = (
    CODES.c.code == bindparam("auth_code"),
    CODES.c.used_at.is_(None),
    CODES.c.expires_at > bindparam("now"),
)
SPEND_CODE = (
    update(CODES).where(*CODE_USABLE).values(used_at=bindparam("now")).returning(CODES.c.shopper_id)
)
PAY_ORDER = (
    update(ORDERS)
    .where(
        ORDERS.c.id == bindparam("paying_order"),
        ORDERS.c.status == OrderStatus.AWAITING_PAYMENT,
        ORDERS.c.expires_at > bindparam("now"),
    )
    .values(
        status=OrderStatus.PAID,
        paid_at=bindparam("now"),
        shopper_id=func.coalesce(ORDERS.c.shopper_id, bindparam("payer_id")),
    )
)
# The same UPDATE when nothing was read first: it also tests that this caller may pay the order
# through this channel (a clerk of its store, its own shopper), and returns what the payment needs.
PAY_ORDER_UNREAD = {
    role: PAY_ORDER.where(
        ORDERS.c.channel == bindparam("caller_channel"),
        ORDERS.c.store_id == bindparam("caller_store")
        if role == Role.CLERK
        else ORDERS.c.shopper_id == bindparam("caller_shopper"),
    ).returning(ORDERS.c.store_id, ORDERS.c.coupon_code, ORDERS.c.payable_amount)
    for role in (Role.CLERK, Role.SHOPPER)
}
INSERT_PAYMENT = insert(PAYMENTS)


def _till_statement() -> Select[Any]:
    """PostgreSQL, the whole clerk_scan payment as one statement: lock the payment code, pay the
    order (if this clerk may, and its coupon reservation stands), spend the code, redeem the
    coupon with its history row and counter, insert the payment. Every write after the order's
    UPDATE selects from its result, so none happens unless the order was paid."""
    owner = select(CODES.c.shopper_id).where(*CODE_USABLE).with_for_update().cte("code_owner")
    payer = select(owner.c.shopper_id).scalar_subquery()
    reservation_stands = or_(
        ORDERS.c.coupon_code.is_(None),
        select(COUPONS.c.code)
        .where(
            COUPONS.c.code == ORDERS.c.coupon_code,
            COUPONS.c.status == CouponStatus.RESERVED,
            COUPONS.c.order_id == ORDERS.c.id,
        )
        .exists(),
    )
    paid = (
        PAY_ORDER_UNREAD[Role.CLERK]
        .where(select(owner).exists(), reservation_stands)
        .values(shopper_id=func.coalesce(ORDERS.c.shopper_id, payer))
        .returning(payer.label("payer_id"))
        .cte("paid")
    )
    spent = SPEND_CODE.where(select(paid).exists())  # the locked code, spent once paid
    redeemed, history = held_coupon_move(CouponEventType.REDEEMED, REDEEMED_COLUMNS, after=paid)
    columns = [c.key for c in PAYMENTS.columns]
    values: dict[str, Any] = {c: bindparam(f"pay_{c}", type_=PAYMENTS.c[c].type) for c in columns}
    values.update(amount=paid.c.payable_amount, payer_id=paid.c.payer_id)
    added = insert(PAYMENTS).from_select(columns, select(*values.values()).select_from(paid))
    campaign = select(redeemed.c.campaign_id).scalar_subquery().label("campaign_id")
    return select(paid.c.coupon_code, paid.c.payable_amount, paid.c.payer_id, campaign).add_cte(
        spent.cte("spent"), *history, added.cte("added")
    )


REDEEMED_COLUMNS = ("redeemed_at", "store_id", "redeemed_by", "redeemed_flow")
PAY_AT_THE_TILL = _till_statement()


def _spend_code(auth_code: str | None, now: datetime) -> str | None:
    """Use up a payment code (once, before it expires): whose it was, or None."""
    spent = db.session.execute(SPEND_CODE, {"auth_code": auth_code, "now": now})
    payer = spent.scalar_one_or_none()
    return None if payer is None else str(payer)


def _spend_payment_code(auth_code: str, now: datetime) -> str:
    """Use up a payment code and return whose it was; 422 when it cannot be used."""
    payer = _spend_code(auth_code, now)
    if payer is None:
        raise O2OError(ErrorCode.INVALID_PAYMENT_CODE)
    return payer


def _payable_order(principal: Principal, order_id: str, flow: PaymentFlow, now: datetime) -> Order:
    order = load_order(principal, order_id)
    if FLOW_CHANNELS[flow] != order.channel:
        raise field_error("flow", f"A {order.channel} order cannot be paid with {flow}.")
    if expire_if_lapsed(order, now):
        db.session.commit()
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE, f"This order is {order.status}.")
    return order


def create_payment(
    principal: Principal,
    order_id: str,
    method: PaymentMethod,
    flow: PaymentFlow,
    outcome: str,
    auth_code: str | None,
) -> Payment:
    """Take a payment for an order through one of the three flows."""
    now = clock.now()
    if FLOW_ROLES[flow] != principal.role:
        raise O2OError(ErrorCode.FORBIDDEN, f"The {flow} flow is for a {FLOW_ROLES[flow]} key.")
    answer = None if flow == PaymentFlow.SHOPPER_SCAN else gateway.charge(outcome)
    if answer is not None and answer.status == PaymentStatus.SUCCEEDED:
        paid = _pay_without_reading(principal, order_id, method, flow, auth_code, now)
        if paid is not None:
            return paid
    order = _payable_order(principal, order_id, flow, now)
    payment = _new_payment(principal, order.id, method, flow, order.payable_amount, now)
    payment.order = order
    if flow == PaymentFlow.CLERK_SCAN:
        assert auth_code is not None
        payment.payer_id = _spend_payment_code(auth_code, now)
    elif flow == PaymentFlow.ONLINE:
        payment.payer_id = principal.shopper_id
    if answer is not None:
        _apply(payment, answer, now)
    # shopper_scan stays pending until the shopper confirms it. The row is inserted last, once,
    # with its outcome, rather than inserted pending and then updated.
    db.session.execute(INSERT_PAYMENT, column_values(payment))
    db.session.commit()
    return payment


def _new_payment(
    principal: Principal,
    order_id: str,
    method: PaymentMethod,
    flow: PaymentFlow,
    amount: int,
    now: datetime,
) -> Payment:
    return Payment(
        id=new_id("pay"),
        order_id=order_id,
        method=method,
        flow=flow,
        amount=amount,
        clerk_id=principal.clerk_id,
        created_at=now,
        refunded_amount=0,
        status=PaymentStatus.PENDING,
    )


def _pay_without_reading(
    principal: Principal,
    order_id: str,
    method: PaymentMethod,
    flow: PaymentFlow,
    auth_code: str | None,
    now: datetime,
) -> Payment | None:
    """The common case, a successful charge of an order this caller may pay, as conditional
    writes with no read first (the hot path of every checkout).

    Returns None, having rolled everything back, when any condition fails: the careful path
    then reads the order and reports exactly what is wrong, in the usual order of checks.
    """
    params = {"paying_order": order_id, "now": now, "caller_channel": FLOW_CHANNELS[flow]}
    params.update(caller_store=principal.store_id, caller_shopper=principal.shopper_id)
    if flow == PaymentFlow.CLERK_SCAN and writes_in_one_statement():
        return _pay_at_the_till(principal, order_id, method, auth_code, now)
    order, payer = _spend_and_pay_order(principal, flow, auth_code, params)
    if order is None:
        db.session.rollback()
        return None
    payment = _new_payment(principal, order_id, method, flow, order.payable_amount, now)
    payment.payer_id = payer
    payment.status, payment.succeeded_at = PaymentStatus.SUCCEEDED, now
    if order.coupon_code:  # the payment is inserted with the redemption
        _redeem(payment, order.store_id, order.coupon_code, now, inserting=True)
    else:
        db.session.execute(INSERT_PAYMENT, column_values(payment))
    db.session.commit()
    return payment


def _pay_at_the_till(
    principal: Principal,
    order_id: str,
    method: PaymentMethod,
    auth_code: str | None,
    now: datetime,
) -> Payment | None:
    """PostgreSQL: a successful clerk_scan payment as one statement (`_till_statement`)."""
    store_id = principal.store_id
    payment = _new_payment(principal, order_id, method, PaymentFlow.CLERK_SCAN, 0, now)
    payment.status, payment.succeeded_at = PaymentStatus.SUCCEEDED, now
    values = {"redeemed_at": now, "store_id": store_id, "redeemed_by": principal.clerk_id}
    values["redeemed_flow"] = PaymentFlow.CLERK_SCAN
    params = move_params(
        None, CouponEventType.REDEEMED, now, None, order_id, store_id, order_id, values, 1
    )
    params.update({f"pay_{c.key}": getattr(payment, c.key) for c in PAYMENTS.columns})
    params.update(paying_order=order_id, now=now, auth_code=auth_code)
    params.update(caller_store=store_id, caller_channel=Channel.IN_STORE)
    row = db.session.execute(PAY_AT_THE_TILL, params).one_or_none()
    if row is None:
        db.session.rollback()
        return None
    if row.coupon_code is not None and row.campaign_id is None:  # see `reservation_stands`
        db.session.rollback()
        raise RuntimeError(f"order {order_id} lost its coupon reservation")
    payment.amount, payment.payer_id = row.payable_amount, row.payer_id
    db.session.commit()
    return payment


def _spend_and_pay_order(
    principal: Principal, flow: PaymentFlow, auth_code: str | None, params: dict[str, Any]
) -> tuple[Row[Any] | None, str | None]:
    """Spend the payment code (clerk_scan) and pay the order: the order's row and the payer,
    or (None, None) when the code or the order does not qualify."""
    if flow == PaymentFlow.CLERK_SCAN:
        payer = _spend_code(auth_code, params["now"])
    else:
        payer = principal.shopper_id
    if payer is None:
        return None, None
    order = db.session.execute(
        PAY_ORDER_UNREAD[principal.role], {**params, "payer_id": payer}
    ).one_or_none()
    return order, payer


def _apply(payment: Payment, answer: gateway.Answer, now: datetime) -> None:
    """Record the provider's answer; a success pays the order and redeems its coupon."""
    if answer.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.PENDING
        payment.pending_outcome = answer.later
        payment.settles_at = now + timedelta(seconds=current_app.config["O2O_MOCK_PAYING_SECONDS"])
    elif answer.status == PaymentStatus.FAILED:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = answer.failure_code
    else:
        _succeed(payment, now)


def _succeed(payment: Payment, now: datetime) -> None:
    """Pay the order and redeem its coupon, in the caller's transaction, exactly once."""
    order = payment.order
    paid: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        PAY_ORDER, {"paying_order": order.id, "now": now, "payer_id": payment.payer_id}
    )
    if paid.rowcount != 1:
        db.session.rollback()
        raise O2OError(ErrorCode.ORDER_NOT_PAYABLE)
    if order.coupon_code:
        _redeem(payment, order.store_id, order.coupon_code, now)
    payment.status, payment.succeeded_at = PaymentStatus.SUCCEEDED, now


def _redeem(
    payment: Payment, store_id: str | None, coupon_code: str, now: datetime, inserting: bool = False
) -> None:
    """The order is paid: redeem its coupon for this payment (inserting the payment with it)."""
    redeemed = move_coupon(
        coupon_code,
        CouponEventType.REDEEMED,
        now,
        None,
        order_id=payment.order_id,
        store_id=store_id,
        held_by=payment.order_id,
        values={
            "redeemed_at": now,
            "store_id": store_id,
            "redeemed_by": payment.clerk_id,
            "redeemed_flow": payment.flow,
        },
        redeemed=1,
        with_row=(PAYMENTS, column_values(payment)) if inserting else None,
    )
    if not redeemed:  # the reservation must still stand while the order is payable
        db.session.rollback()
        raise RuntimeError(f"order {payment.order_id} lost its coupon reservation")


def _settle_if_due(payment: Payment, now: datetime) -> None:
    """A pending mock payment resolves once its delay has passed on the service clock.

    One that can no longer pay its order (paid by another payment, canceled, expired) is
    called off instead.
    """
    if payment.status != PaymentStatus.PENDING:
        return
    order_open = payment.order.is_payable(now)
    due = payment.settles_at is not None and now >= payment.settles_at
    if order_open and not due:
        return
    if order_open and payment.pending_outcome:
        try:
            _apply(payment, gateway.settle(payment.pending_outcome), now)
            db.session.commit()
            return
        except O2OError as error:
            if error.error is not ErrorCode.ORDER_NOT_PAYABLE:
                raise
            # _succeed rolled back: the order closed a moment ago
    _call_off(payment.id)
    expire_if_lapsed(payment.order, now)
    db.session.commit()
    db.session.refresh(payment)


def _call_off(payment_id: str) -> None:
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING)
        .values(
            status=PaymentStatus.CANCELED,
            failure_code=ErrorCode.ORDER_NOT_PAYABLE.code,
            settles_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def get_payment(principal: Principal, payment_id: str) -> Payment:
    """A payment; reading a pending mock payment past its delay settles it."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this id.")
    if not (principal.role == Role.SHOPPER and payment.payer_id == principal.shopper_id):
        check_access(principal, payment.order)
    _settle_if_due(payment, clock.now())
    return payment


def confirm_payment(principal: Principal, payment_id: str, outcome: str) -> Payment:
    """The shopper pays a shopper_scan payment from the merchant's QR."""
    now = clock.now()
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.order.shopper_id not in (None, principal.shopper_id):
        raise O2OError(ErrorCode.NOT_FOUND, "No payment has this id.")
    claimed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.flow == PaymentFlow.SHOPPER_SCAN,
            Payment.status == PaymentStatus.PENDING,
            Payment.payer_id.is_(None),
        )
        .values(payer_id=principal.shopper_id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise O2OError(ErrorCode.PAYMENT_NOT_PENDING)
    db.session.refresh(payment)
    _apply(payment, gateway.charge(outcome), now)
    db.session.commit()
    return payment
