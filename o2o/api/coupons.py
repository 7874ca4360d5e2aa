"""Coupon views: the shopper's wallet, coupon detail, QR tokens and images, history, voiding."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from o2o import qr
from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import (
    CouponEventListSchema,
    CouponListArgs,
    CouponSchema,
    CouponVoidSchema,
    QrFormatArgs,
    QrTokenSchema,
    page_of,
)
from o2o.services import coupons
from o2o.vocabulary import Role

blp = Blueprint("coupons", __name__, description="Coupons, QR codes and history")
CouponPage = page_of(CouponSchema)  # one class for both lists: one schema in the spec

_IMAGE_DOC = {
    "responses": {
        "200": {
            "description": "The QR image; it encodes exactly a fresh QR token.",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


@blp.route("/me/coupons", methods=["GET"])
@blp.doc(operationId="listMyCoupons")
@require(Role.SHOPPER)
@blp.arguments(CouponListArgs, location="query")
@blp.response(200, CouponPage)
def my_coupons(args: dict[str, Any]) -> Any:
    """List the calling shopper's coupons, newest first."""
    return coupons.list_shopper_coupons(
        current_principal(), args.get("status"), args["limit"], args.get("cursor")
    )


@blp.route("/campaigns/<campaign_id>/coupons", methods=["GET"])
@blp.doc(operationId="listCampaignCoupons")
@require(Role.ADMIN)
@blp.arguments(CouponListArgs, location="query")
@blp.response(200, CouponPage)
def campaign_coupons(args: dict[str, Any], campaign_id: str) -> Any:
    """List a campaign's coupons, newest claim first."""
    return coupons.list_campaign_coupons(
        campaign_id, args.get("status"), args["limit"], args.get("cursor")
    )


@blp.route("/coupons/<code>", methods=["GET"])
@blp.doc(operationId="getCoupon")
@require(Role.ADMIN, Role.SHOPPER)
@blp.response(200, CouponSchema)
def get_coupon(code: str) -> Any:
    """Show a coupon (its owner or an admin)."""
    return coupons.find_coupon(current_principal(), code)


@blp.route("/coupons/<code>/qr-token", methods=["GET"])
@blp.doc(operationId="createQrToken")
@require(Role.ADMIN, Role.SHOPPER)
@blp.response(200, QrTokenSchema)
def qr_token(code: str) -> Any:
    """Mint a short-lived signed token that names this coupon."""
    token, expires_at = coupons.mint_qr_token(current_principal(), code)
    return {"token": token, "expires_at": expires_at}


@blp.route("/coupons/<code>/qr", methods=["GET"])
@require(Role.ADMIN, Role.SHOPPER)
@blp.arguments(QrFormatArgs, location="query")
@blp.doc(operationId="getCouponQr", **_IMAGE_DOC)
def qr_image(args: dict[str, Any], code: str) -> Response:
    """The coupon's QR code as PNG (default) or SVG; it encodes a fresh QR token."""
    token, _ = coupons.mint_qr_token(current_principal(), code)
    if args["format"] == "svg":
        return current_app.response_class(qr.render_svg(token), mimetype="image/svg+xml")
    return current_app.response_class(qr.render_png(token), mimetype="image/png")


@blp.route("/coupons/<code>/events", methods=["GET"])
@blp.doc(operationId="listCouponEvents")
@require(Role.ADMIN, Role.SHOPPER)
@blp.response(200, CouponEventListSchema)
def coupon_events(code: str) -> Any:
    """The coupon's append-only history, oldest first."""
    return {"items": coupons.coupon_events(current_principal(), code)}


@blp.route("/coupons/<code>/void", methods=["POST"])
@blp.doc(operationId="voidCoupon")
@require(Role.ADMIN)
@blp.arguments(CouponVoidSchema, required=False)
@idempotent
@blp.response(200, CouponSchema)
def void_coupon(data: dict[str, Any], code: str) -> Any:
    """Void an available coupon, so that it can never be used."""
    return coupons.void_coupon(current_principal(), code, data.get("reason"))
