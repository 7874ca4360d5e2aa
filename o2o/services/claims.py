"""Claiming coupons: exact under contention, by conditional update and a unique constraint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from o2o import clock, events, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, CouponEvent, table
from o2o.principal import Principal
from o2o.tokens import new_coupon_code
from o2o.vocabulary import (
    CampaignStatus,
    ClaimChannel,
    CouponStatus,
    ErrorCode,
    EventType,
    Reason,
)

CAMPAIGNS = table(Campaign)

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
    spent = _spend_budget(campaign_id)
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
    db.session.flush()  # the coupon's row as inserted (its defaults), for its event
    events.record(EventType.COUPON_CLAIMED, coupon, now)
    if spent["claimed_count"] >= spent["total_quantity"]:  # this claim took the last coupon
        events.record_columns(EventType.CAMPAIGN_EXHAUSTED, spent, now)
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


def _spend_budget(campaign_id: str) -> dict[str, Any]:
    """Take one coupon from the budget by one conditional UPDATE, which decides; the
    campaign's row after it (the event of an exhaustion shows it)."""
    spent = db.session.execute(
        update(CAMPAIGNS)
        .where(
            CAMPAIGNS.c.id == campaign_id,
            CAMPAIGNS.c.status == CampaignStatus.ACTIVE,
            CAMPAIGNS.c.claimed_count < CAMPAIGNS.c.total_quantity,
        )
        .values(claimed_count=CAMPAIGNS.c.claimed_count + 1)
        .returning(*CAMPAIGNS.c)
    ).first()
    if spent is None:
        store.rollback()
        raise O2OError(ErrorCode.CAMPAIGN_EXHAUSTED)
    return events.columns_in(CAMPAIGNS, spent)


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
