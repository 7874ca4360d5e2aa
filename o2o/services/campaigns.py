"""Campaigns: publish, change, read and list them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, func, select, update

from o2o import clock, events, store
from o2o.errors import O2OError, field_error, validation_failed
from o2o.extensions import db
from o2o.models import Campaign, Coupon, Store
from o2o.principal import Principal
from o2o.services.pagination import Page, paginate
from o2o.tokens import new_id
from o2o.vocabulary import CAMPAIGN_TRANSITIONS, CampaignStatus, ErrorCode, EventType, Role

_PLAIN_FIELDS = (
    "name",
    "total_quantity",
    "per_shopper_limit",
    "claim_starts_at",
    "claim_ends_at",
    "valid_from",
    "valid_until",
    "valid_days_after_claim",
    "wait_days_after_claim",
    "channels",
    "restore_on_refund",
    "status",
)


def _check_stores_exist(store_ids: list[str] | None) -> None:
    if not store_ids:
        return
    found = set(db.session.scalars(select(Store.id).where(Store.id.in_(store_ids))))
    missing = sorted(set(store_ids) - found)
    if missing:
        raise field_error("store_ids", f"Unknown store ids: {', '.join(missing)}.")


def build_campaign(data: dict[str, Any], campaign_id: str | None = None) -> Campaign:
    """A new Campaign from validated fields (not yet added to the session)."""
    _check_stores_exist(data.get("store_ids"))
    campaign = Campaign(
        id=campaign_id or new_id("cmp"),
        claimed_count=0,
        redeemed_count=0,
        created_at=clock.now(),
        store_ids=sorted(set(data["store_ids"])) if data.get("store_ids") else None,
    )
    campaign.set_discount(data["discount"])
    for field in _PLAIN_FIELDS:
        if field in data:
            setattr(campaign, field, data[field])
    return campaign


def create_campaign(data: dict[str, Any]) -> Campaign:
    """Publish a campaign."""
    campaign = add_campaign(build_campaign(data))
    store.commit()
    return campaign


def add_campaign(campaign: Campaign) -> Campaign:
    """Add a new campaign to the session with its `campaign.created` event (no commit)."""
    db.session.add(campaign)
    db.session.flush()  # the row as inserted (its defaults), for its event
    events.record(EventType.CAMPAIGN_CREATED, campaign, campaign.created_at)
    return campaign


def get_campaign(principal: Principal, campaign_id: str) -> Campaign:
    """One campaign; drafts are visible to admins only."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or (
        campaign.status == CampaignStatus.DRAFT and principal.role != Role.ADMIN
    ):
        raise O2OError(ErrorCode.NOT_FOUND, "No campaign has this id.")
    return campaign


def update_campaign(campaign_id: str, changes: dict[str, Any]) -> Campaign:
    """Rename, change status, or grow the budget of a campaign."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No campaign has this id.")
    errors: dict[str, list[str]] = {}
    status = CampaignStatus(changes["status"]) if changes.get("status") else None
    if status and not campaign.can_become(status):
        errors["status"] = [f"A campaign that is {campaign.status} cannot become {status}."]
    quantity = changes.get("total_quantity")
    if quantity is not None and quantity < campaign.total_quantity:
        errors["total_quantity"] = [f"May only grow (now {campaign.total_quantity})."]
    if errors:
        raise validation_failed(errors)
    before = _described(campaign)
    if quantity is not None:
        # Conditional: a concurrent PATCH can never shrink the budget under live claims.
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.total_quantity <= quantity)
            .values(total_quantity=quantity)
        )
    if "name" in changes:
        campaign.name = changes["name"]
    if status and status != campaign.status:
        _change_status(campaign, status)
    db.session.flush()
    db.session.refresh(campaign)  # total_quantity and status moved by conditional UPDATEs
    if _described(campaign) != before:  # a PATCH that changes nothing writes no event
        events.record(EventType.CAMPAIGN_UPDATED, campaign)
    store.commit()
    return campaign


COUNTERS = ("claimed_count", "redeemed_count")


def _described(campaign: Campaign) -> dict[str, Any]:
    """The campaign's columns but its counters: claims and redemptions move those, and a
    counter moving is not a `campaign.updated` (claims and redemptions have their events)."""
    return {k: v for k, v in events.columns_of(campaign).items() if k not in COUNTERS}


def _change_status(campaign: Campaign, status: CampaignStatus) -> None:
    """Conditional on the status read: a concurrent PATCH to `ended` is never undone."""
    allowed_from = [old for old, new in CAMPAIGN_TRANSITIONS.items() if status in new]
    changed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status.in_(allowed_from))
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        store.rollback()
        raise field_error("status", "The campaign's status changed meanwhile; read it again.")


def list_campaigns(
    principal: Principal, *, claimable: bool, status: str | None, limit: int, cursor: str | None
) -> Page[Campaign]:
    """Campaigns newest first; `claimable` keeps those the calling shopper can claim now."""
    stmt = select(Campaign)
    if principal.role != Role.ADMIN:
        stmt = stmt.where(Campaign.status != CampaignStatus.DRAFT)
    if status:
        stmt = stmt.where(Campaign.status == status)
    if claimable:
        if principal.role != Role.SHOPPER:
            raise O2OError(
                ErrorCode.FORBIDDEN, "Only shoppers can ask which campaigns they can claim."
            )
        now = clock.now()
        held = (
            select(func.count())
            .where(Coupon.campaign_id == Campaign.id, Coupon.shopper_id == principal.shopper_id)
            .scalar_subquery()
        )
        # The claim rules are Campaign.claimable_sql's; the per-shopper limit is the claim's.
        stmt = stmt.where(Campaign.claimable_sql(now), held < Campaign.per_shopper_limit)
    return paginate(stmt, Campaign.created_at, Campaign.id, limit, cursor)
