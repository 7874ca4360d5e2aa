"""Checkout views: the clerk's scan, placing, reading and cancelling orders."""

from __future__ import annotations

from typing import Any

from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint, accepts_upload
from o2o.api.idempotency import idempotent
from o2o.api.schemas import (
    EmptySchema,
    OrderCreateSchema,
    OrderSchema,
    ScanImageResultSchema,
    ScanImageSchema,
    ScanResultSchema,
    ScanSchema,
)
from o2o.errors import field_error
from o2o.services import checkout, scans
from o2o.vocabulary import Role

blp = Blueprint("checkout", __name__, description="Scans and orders")

_WRONG_ROLE_FIELD = {Role.CLERK: "coupon_code", Role.SHOPPER: "qr_token"}


@blp.route("/scans", methods=["POST"])
@blp.doc(operationId="scanCoupon")
@require(Role.CLERK)
@blp.arguments(ScanSchema)
@idempotent
@blp.response(200, ScanResultSchema)
def scan(data: dict[str, Any]) -> Any:
    """Dry run at the till: would this QR's coupon apply to this amount here? Changes nothing."""
    quote = checkout.scan(
        current_principal(), data["qr_token"], data["amount"], data.get("store_id")
    )
    return {
        "coupon": quote.coupon,
        "applicable": quote.applicable,
        "reasons": quote.reasons,
        "discount_amount": quote.discount_amount,
        "payable_amount": quote.payable_amount,
    }


@blp.route("/scans/image", methods=["POST"])
@blp.doc(operationId="scanImage")
@require(Role.CLERK, Role.SHOPPER)
@accepts_upload
@blp.arguments(ScanImageSchema, location="multipart")
@idempotent
@blp.response(200, ScanImageResultSchema)
def scan_image(data: dict[str, Any]) -> Any:
    """Read the QR code in a photo: a coupon's scan, a payment code's shape or a merchant QR."""
    image = data["image"].read()
    return scans.scan_image(current_principal(), image, data.get("amount"), data.get("store_id"))


@blp.route("/orders", methods=["POST"])
@blp.doc(operationId="createOrder")
@require(Role.CLERK, Role.SHOPPER)
@blp.arguments(OrderCreateSchema)
@idempotent
@blp.response(201, OrderSchema)
def place_order(data: dict[str, Any]) -> Any:
    """Check out: a clerk in store (with `qr_token`) or a shopper online (with `coupon_code`)."""
    principal = current_principal()
    wrong = _WRONG_ROLE_FIELD[principal.role]
    if wrong in data:
        raise field_error(wrong, f"A {principal.role} checks out without {wrong}.")
    return checkout.place_order(principal, **data)


@blp.route("/orders/<order_id>", methods=["GET"])
@blp.doc(operationId="getOrder")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.response(200, OrderSchema)
def get_order(order_id: str) -> Any:
    """Show an order (its shopper, its store's clerks, admins, a shopper paying it by QR)."""
    return checkout.get_order(current_principal(), order_id)


@blp.route("/orders/<order_id>/cancel", methods=["POST"])
@blp.doc(operationId="cancelOrder")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.arguments(EmptySchema, required=False)
@idempotent
@blp.response(200, OrderSchema)
def cancel_order(_: dict[str, Any], order_id: str) -> Any:
    """Cancel an unpaid order; its coupon becomes available again."""
    return checkout.cancel_order(current_principal(), order_id)
