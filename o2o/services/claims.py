"""Claiming coupons: exact under contention, by conditional update and a unique constraint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent
from o2o.principal import Principal
from o2o.tokens import new_coupon_code
from o2o.vocabulary import (
    CampaignStatus,
    ClaimChannel,
    CouponStatus,
    ErrorCode,
    Reason,
)

_RETRIES = 8


def claim_coupon(principal: Principal, campaign_id: str, channel: ClaimChannel) -> Coupon:
    """Give the shopper one coupon of the campaign, within budget and per-shopper limit."""
    for _ in range(_RETRIES):
        try:
            return _claim_once(principal, campaign_id, channel)
        except IntegrityError:
            # Lost a race on (campaign, shopper, claim_seq) or on a code: look again.
            store.rollback()
    raise O2OError(ErrorCode.CLAIM_CONTENTION)


def _claim_once(principal: Principal, campaign_id: str, channel: ClaimChannel) -> Coupon:
    now = clock.now()
    campaign = _claimable_campaign(campaign_id, now)
    _spend_budget(campaign_id)
    held = _held_within_limit(principal, campaign)
    valid_from, valid_until = campaign.coupon_window(now)
    coupon = Coupon(
        code=new_coupon_code(),
        campaign_id=campaign_id,
        shopper_id=principal.shopper_id,
        claim_seq=held + 1,
        status=CouponStatus.AVAILABLE,
        claim_channel=channel,
        claimed_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    db.session.add(coupon)
    db.session.add(CouponEvent.of_claim(coupon, principal))
    store.commit()
    return coupon


def _claimable_campaign(campaign_id: str, now: datetime) -> Campaign:
    """The campaign, if it may be claimed now (its budget is checked by `_spend_budget`)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise O2OError(ErrorCode.NOT_FOUND, "No campaign has this id.")
    blockers = [r for r in campaign.claim_blockers(now) if r != Reason.CAMPAIGN_EXHAUSTED]
    if blockers:
        raise O2OError(ErrorCode.CAMPAIGN_NOT_ACTIVE, details={"reasons": blockers})
    return campaign


def _spend_budget(campaign_id: str) -> None:
    """Take one coupon from the budget by one conditional UPDATE; its row count decides."""
    spent: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.ACTIVE,
            Campaign.claimed_count < Campaign.total_quantity,
        )
        .values(claimed_count=Campaign.claimed_count + 1)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        store.rollback()
        raise O2OError(ErrorCode.CAMPAIGN_EXHAUSTED)


def _held_within_limit(principal: Principal, campaign: Campaign) -> int:
    """How many coupons of the campaign the shopper holds, if fewer than the limit. Counted
    after the budget's UPDATE: the campaign row is locked by this transaction by then."""
    held = db.session.scalar(
        select(func.count()).where(
            Coupon.campaign_id == campaign.id, Coupon.shopper_id == principal.shopper_id
        )
    )
    if (held or 0) >= campaign.per_shopper_limit:
        store.rollback()
        raise O2OError(
            ErrorCode.PER_SHOPPER_LIMIT_REACHED,
            f"You already hold {held} coupon(s) of this campaign, the most allowed.",
        )
    return held or 0
