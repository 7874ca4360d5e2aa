"""Campaign views: publish and manage (admin), browse and claim (shopper)."""

from __future__ import annotations

from typing import Any

from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import (
    CampaignCreateSchema,
    CampaignListArgs,
    CampaignSchema,
    CampaignStatsSchema,
    CampaignUpdateSchema,
    ClaimSchema,
    CouponSchema,
    page_of,
)
from o2o.services import campaigns, claims, stats
from o2o.vocabulary import ClaimChannel, Role

blp = Blueprint("campaigns", __name__, description="Coupon campaigns and claims")


@blp.route("/campaigns", methods=["POST"])
@blp.doc(operationId="createCampaign")
@require(Role.ADMIN)
@blp.arguments(CampaignCreateSchema)
@idempotent
@blp.response(201, CampaignSchema)
def create_campaign(data: dict[str, Any]) -> Any:
    """Publish a coupon campaign."""
    return campaigns.create_campaign(data)


@blp.route("/campaigns", methods=["GET"])
@blp.doc(operationId="listCampaigns")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.arguments(CampaignListArgs, location="query")
@blp.response(200, page_of(CampaignSchema))
def list_campaigns(args: dict[str, Any]) -> Any:
    """List campaigns; `claimable=true` keeps those the calling shopper can claim now."""
    return campaigns.list_campaigns(
        current_principal(),
        claimable=args["claimable"],
        status=args.get("status"),
        limit=args["limit"],
        cursor=args.get("cursor"),
    )


@blp.route("/campaigns/<campaign_id>", methods=["GET"])
@blp.doc(operationId="getCampaign")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.response(200, CampaignSchema)
def get_campaign(campaign_id: str) -> Any:
    """Show one campaign."""
    return campaigns.get_campaign(current_principal(), campaign_id)


@blp.route("/campaigns/<campaign_id>", methods=["PATCH"])
@blp.doc(operationId="updateCampaign")
@require(Role.ADMIN)
@blp.arguments(CampaignUpdateSchema)
@blp.response(200, CampaignSchema)
def update_campaign(changes: dict[str, Any], campaign_id: str) -> Any:
    """Rename a campaign, change its status, or grow its total quantity."""
    return campaigns.update_campaign(campaign_id, changes)


@blp.route("/campaigns/<campaign_id>/claims", methods=["POST"])
@blp.doc(operationId="claimCoupon")
@require(Role.SHOPPER)
@blp.arguments(ClaimSchema, required=False)
@idempotent
@blp.response(201, CouponSchema)
def claim(data: dict[str, Any], campaign_id: str) -> Any:
    """Claim a coupon of this campaign."""
    return claims.claim_coupon(current_principal(), campaign_id, ClaimChannel(data["channel"]))


@blp.route("/campaigns/<campaign_id>/stats", methods=["GET"])
@blp.doc(operationId="getCampaignStats")
@require(Role.ADMIN)
@blp.response(200, CampaignStatsSchema)
def campaign_stats(campaign_id: str) -> Any:
    """The campaign's funnel, discount and GMV (net of refunds), by channel and by store."""
    return stats.campaign_stats(campaign_id)
