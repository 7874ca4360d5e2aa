"""Reading coupons, their history, and minting their QR tokens; voiding one; using one, and
giving it back, outside any order (a WeChat Pay merchant coupon at the merchant's own till)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, select, update

from o2o import clock, events, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent
from o2o.principal import Principal
from o2o.services.orders import expire_if_lapsed
from o2o.services.pagination import Page, paginate
from o2o.store import acted_by
from o2o.tokens import normalize_code, sign_qr_token
from o2o.vocabulary import (
    COUPON_MOVES,
    COUPON_MOVES_OUTSIDE_ORDERS,
    CampaignStatus,
    Channel,
    CouponEventType,
    CouponStatus,
    ErrorCode,
    EventType,
    Reason,
    Role,
)

SHOWABLE = (CouponStatus.AVAILABLE, CouponStatus.RESERVED)


def find_coupon(principal: Principal, raw_code: str) -> Coupon:
    """The coupon with this code if the caller may see it; 404 alike for unknown and foreign."""
    coupon = db.session.get(Coupon, normalize_code(raw_code))
    if coupon is None or (
        principal.role == Role.SHOPPER and coupon.shopper_id != principal.shopper_id
    ):
        raise O2OError(ErrorCode.NOT_FOUND, "No coupon has this code.")
    return coupon


def list_shopper_coupons(
    principal: Principal, status: str | None, limit: int, cursor: str | None
) -> Page[Coupon]:
    """The shopper's own coupons, newest first, optionally by (effective) status."""
    stmt = select(Coupon).where(Coupon.shopper_id == principal.shopper_id)
    if status:
        stmt = stmt.where(Coupon.effective_status_sql(clock.now()) == status)
    return paginate(stmt, Coupon.claimed_at, Coupon.code, limit, cursor)


def list_campaign_coupons(
    campaign_id: str, status: str | None, limit: int, cursor: str | None
) -> Page[Coupon]:
    """A campaign's coupons (admin), newest claim first, optionally by their status now; 404
    for an unknown campaign."""
    if db.session.get(Campaign, campaign_id) is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No campaign has this id.")
    stmt = select(Coupon).where(Coupon.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(Coupon.effective_status_sql(clock.now()) == status)
    return paginate(stmt, Coupon.claimed_at, Coupon.code, limit, cursor)


def mint_qr_token(principal: Principal, raw_code: str) -> tuple[str, datetime]:
    """A fresh signed token naming the coupon, valid O2O_QR_TOKEN_TTL seconds."""
    coupon = find_coupon(principal, raw_code)
    now = clock.now()
    status = coupon.effective_status(now)
    if status not in SHOWABLE:
        raise O2OError(ErrorCode.COUPON_NOT_AVAILABLE, f"This coupon is {status}.")
    expires_at = now + timedelta(seconds=current_app.config["O2O_QR_TOKEN_TTL"])
    token = sign_qr_token(current_app.config["O2O_SECRET_KEY"], coupon.code, expires_at)
    return token, expires_at.replace(microsecond=0)


def coupon_events(principal: Principal, raw_code: str) -> list[CouponEvent]:
    """The coupon's history, oldest first."""
    coupon = find_coupon(principal, raw_code)
    return list(
        db.session.scalars(
            select(CouponEvent)
            .where(CouponEvent.coupon_code == coupon.code)
            .order_by(CouponEvent.id)
        )
    )


def void_coupon(principal: Principal, raw_code: str, reason: str | None = None) -> Coupon:
    """Take an unused coupon out of circulation (admin), writing its `voided` history row;
    409 unless it reads `available` now; `reason` is kept as its `void_reason`."""
    coupon = find_coupon(principal, raw_code)
    now = clock.now()
    status = coupon.effective_status(now)
    if status != CouponStatus.AVAILABLE:
        raise O2OError(
            ErrorCode.COUPON_NOT_AVAILABLE, _NOT_VOIDABLE.get(status, f"This coupon is {status}.")
        )
    _release_if_lapsed(coupon, now)
    if not _void(coupon.code, now, reason):  # reserved by a concurrent order since it was read
        store.rollback()
        raise O2OError(ErrorCode.COUPON_NOT_AVAILABLE, "This coupon was just moved: read it again.")
    voided = CouponEvent(
        coupon_code=coupon.code, type=CouponEventType.VOIDED, at=now, **acted_by(principal)
    )
    db.session.add(voided)
    db.session.refresh(coupon)
    events.record(EventType.COUPON_VOIDED, coupon, at=now)
    store.commit()
    return coupon


_NOT_VOIDABLE = {
    CouponStatus.RESERVED: "This coupon is reserved by an order awaiting payment: cancel the "
    "order first.",
}


def _void(code: str, now: datetime, reason: str | None) -> bool:
    """available → voided (COUPON_MOVES) by one conditional UPDATE, only while it is still
    available and inside its window."""
    voided: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Coupon)
        .where(
            Coupon.code == code,
            Coupon.status.in_(COUPON_MOVES[CouponEventType.VOIDED][0]),
            Coupon.valid_until > now,
        )
        .values(status=CouponStatus.VOIDED, void_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return voided.rowcount == 1


# What a use outside an order checks: the coupon's own rules. A store, a channel and a minimum
# spend are an order's, and there is none.
_OWN_RULES = (
    Reason.COUPON_EXPIRED,
    Reason.COUPON_NOT_AVAILABLE,
    Reason.COUPON_NOT_YET_VALID,
    Reason.CAMPAIGN_NOT_ACTIVE,
)
_REDEMPTION = ("redeemed_at", "store_id", "redeemed_by", "redeemed_flow")


def _release_if_lapsed(coupon: Coupon, now: datetime) -> None:
    """A coupon still reserved by an order that lapsed reads available: release it first (a
    move of its own), so that what follows finds it available."""
    if coupon.status == CouponStatus.RESERVED and coupon.holding_order is not None:
        expire_if_lapsed(coupon.holding_order, now)


def redeem_outside_order(principal: Principal, raw_code: str) -> Coupon:
    """Use an available coupon with no order of this service (WeChat Pay's coupons/use): its
    `redeemed` history row and event, and its campaign's redeemed_count, as at a checkout; 409
    coupon_not_available, with the reasons, when its own rules forbid it now."""
    coupon = find_coupon(principal, raw_code)
    now = clock.now()
    blockers = coupon.use_blockers(
        amount=coupon.campaign.min_spend, store_id=None, channel=Channel.IN_STORE, now=now
    )
    reasons = [reason for reason in blockers if reason in _OWN_RULES]
    if reasons:
        raise O2OError(ErrorCode.COUPON_NOT_AVAILABLE, details={"reasons": reasons})
    _release_if_lapsed(coupon, now)
    used = {"redeemed_at": now, "redeemed_by": principal.actor_id}
    return _move_outside_order(principal, coupon, CouponEventType.REDEEMED, now, used)


def restore_outside_order(principal: Principal, raw_code: str) -> Coupon:
    """Give back a coupon used outside an order (WeChat Pay's coupons/return): `restored`, as a
    full refund restores one; a coupon an order spent comes back by refunding the order."""
    coupon = find_coupon(principal, raw_code)
    if coupon.status != CouponStatus.REDEEMED or coupon.order_id is not None:
        raise O2OError(
            ErrorCode.COUPON_NOT_AVAILABLE,
            "Only a coupon used outside an order can be given back: refund its order instead."
            if coupon.order_id is not None
            else f"This coupon is {coupon.effective_status(clock.now())}, not used.",
        )
    cleared = dict.fromkeys(_REDEMPTION)
    return _move_outside_order(principal, coupon, CouponEventType.RESTORED, clock.now(), cleared)


def _move_outside_order(
    principal: Principal, coupon: Coupon, event: CouponEventType, now: datetime, values: Any
) -> Coupon:
    """The move (COUPON_MOVES_OUTSIDE_ORDERS) by one conditional UPDATE of the coupon with no
    order, with its history row, its campaign's counter and its event; then commit."""
    starts, ends = COUPON_MOVES_OUTSIDE_ORDERS[event]
    where = [Coupon.code == coupon.code, Coupon.status.in_(starts), Coupon.order_id.is_(None)]
    if event == CouponEventType.REDEEMED:  # still valid, its campaign still running: now
        active = select(Campaign.id).where(Campaign.status == CampaignStatus.ACTIVE)
        where += [Coupon.valid_until > now, Coupon.campaign_id.in_(active)]
    moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Coupon)
        .where(*where)
        .values(status=ends, **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # moved by a concurrent request since it was read
        store.rollback()
        raise O2OError(ErrorCode.COUPON_NOT_AVAILABLE, "This coupon was just moved: read it again.")
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == coupon.campaign_id)
        .values(
            redeemed_count=Campaign.redeemed_count + (1 if ends == CouponStatus.REDEEMED else -1)
        )
        .execution_options(synchronize_session=False)
    )
    db.session.add(CouponEvent(coupon_code=coupon.code, type=event, at=now, **acted_by(principal)))
    db.session.refresh(coupon)
    db.session.refresh(coupon.campaign)
    events.record(EventType(f"coupon.{event}"), coupon, at=now)
    store.commit()
    return coupon
