"""Payment views: payment codes, the three mock flows, confirmation, refunds."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, current_app

from o2o import qr
from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import (
    EmptySchema,
    MockOutcomeSchema,
    PaymentCodeArgs,
    PaymentCodeSchema,
    PaymentCreateSchema,
    PaymentSchema,
    RefundCreateSchema,
    RefundOutcomeSchema,
    RefundSchema,
)
from o2o.api.urls import public_url
from o2o.services import payments, refunds
from o2o.vocabulary import PaymentFlow, PaymentMethod, Role

blp = Blueprint("payments", __name__, description="Payments and refunds (mock provider)")


@blp.route("/me/payment-code", methods=["GET"])
@blp.doc(operationId="getPaymentCode")
@require(Role.SHOPPER)
@blp.arguments(PaymentCodeArgs, location="query")
@blp.response(200, PaymentCodeSchema)
def payment_code(args: dict[str, Any]) -> Any:
    """A one-time 18-digit payment code to show at the till (valid 60 s)."""
    code = payments.issue_payment_code(current_principal())
    # the QR in the same answer: a second call would mint another code
    png = qr.render_png(code.code) if args.get("qr") == "png" else None
    image = None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()
    return {"auth_code": code.code, "expires_at": code.expires_at, "qr": image}


@blp.route("/orders/<order_id>/payments", methods=["POST"])
@blp.doc(operationId="createPayment")
@require(Role.CLERK, Role.SHOPPER)
@blp.arguments(PaymentCreateSchema)
@blp.arguments(MockOutcomeSchema, location="headers")
@idempotent
@blp.response(201, PaymentSchema)
def create_payment(data: dict[str, Any], mock: dict[str, Any], order_id: str) -> Any:
    """Pay an order: `clerk_scan` and `shopper_scan` (clerk) or `online` (shopper)."""
    return payments.create_payment(
        current_principal(),
        order_id,
        method=PaymentMethod(data["method"]),
        flow=PaymentFlow(data["flow"]),
        outcome=mock["outcome"],
        auth_code=data.get("auth_code"),
    )


@blp.route("/payments/<payment_id>", methods=["GET"])
@blp.doc(operationId="getPayment")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.response(200, PaymentSchema)
def get_payment(payment_id: str) -> Any:
    """Show a payment; a pending mock payment settles here once its delay has passed."""
    return payments.get_payment(current_principal(), payment_id)


@blp.route("/payments/<payment_id>/confirm", methods=["POST"])
@blp.doc(operationId="confirmPayment")
@require(Role.SHOPPER)
@blp.arguments(EmptySchema, required=False)
@blp.arguments(MockOutcomeSchema, location="headers")
@idempotent
@blp.response(200, PaymentSchema)
def confirm_payment(_: dict[str, Any], mock: dict[str, Any], payment_id: str) -> Any:
    """The shopper pays a `shopper_scan` payment (after scanning the merchant's QR)."""
    return payments.confirm_payment(current_principal(), payment_id, mock["outcome"])


@blp.route("/payments/<payment_id>/qr", methods=["GET"])
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.doc(
    operationId="getPaymentQr",
    responses={
        "200": {
            "description": "A PNG QR of the wallet's link: <O2O_PUBLIC_URL>/wallet/pay/<id>.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def payment_qr(payment_id: str) -> Response:
    """The merchant's QR for a `shopper_scan` payment: it encodes the wallet's link to pay it."""
    payment = payments.get_payment(current_principal(), payment_id)
    # A phone's camera opens a page, not an authenticated POST: the wallet's confirm screen.
    link = public_url("web.wallet_pay", payment_id=payment.id)
    return current_app.response_class(qr.render_png(link), mimetype="image/png")


@blp.route("/payments/<payment_id>/refunds", methods=["POST"])
@blp.doc(operationId="createRefund")
@require(Role.ADMIN, Role.CLERK)
@blp.arguments(RefundCreateSchema, required=False)
@blp.arguments(RefundOutcomeSchema, location="headers")
@idempotent
@blp.response(201, RefundSchema)
def refund(data: dict[str, Any], mock: dict[str, Any], payment_id: str) -> Any:
    """Refund part or all of what is left of a payment (default: all of it)."""
    return refunds.refund_payment(
        current_principal(),
        payment_id,
        data.get("amount"),
        data.get("reason"),
        outcome=mock["outcome"],
    )
