"""Reading coupons, their history, and minting their QR tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from o2o import clock
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent
from o2o.principal import Principal
from o2o.services.pagination import Page, paginate
from o2o.tokens import normalize_code, sign_qr_token
from o2o.vocabulary import CouponStatus, ErrorCode, Role

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
