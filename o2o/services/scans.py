"""Scanning a photo: decode its QR, then answer as the till or the wallet needs (a coupon's
scan, a payment code's shape, a merchant QR's payment)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from o2o import store
from o2o.errors import O2OError, field_error
from o2o.principal import Principal
from o2o.qr_reader import read_qr
from o2o.services.checkout import scan
from o2o.tokens import QR_TOKEN_VERSION, payment_code_shaped
from o2o.vocabulary import DecodedKind, ErrorCode, Role

# The paths a merchant QR's link may have after O2O_PUBLIC_URL: the API's confirm URL (what the
# QR encoded first) and the wallet's payment page (what it encodes since the wallet exists).
_MERCHANT_PATH = re.compile(
    r"/(?:api/v1/payments/(?P<api>pay_[a-z0-9]{1,64})/confirm|wallet/pay/(?P<wallet>pay_[a-z0-9]{1,64}))"
)
_QUOTED_TEXT = 512


def scan_image(
    principal: Principal, image: bytes, amount: int | None, store_id: str | None
) -> dict[str, Any]:
    """Decode the photo's QR and answer what it holds: for a coupon (clerks) what POST /scans
    answers, for digits their payment-code shape, for a merchant QR its payment and wallet link."""
    text = read_qr(image, current_app.config["O2O_SCAN_IMAGE_MAX_PIXELS"])
    if text.startswith(f"{QR_TOKEN_VERSION}."):
        return _coupon_scan(principal, text, amount, store_id)
    store.rollback()  # a scan never writes
    if text.isascii() and text.isdigit():
        return _answer(DecodedKind.PAYMENT_CODE, text, valid_shape=payment_code_shaped(text))
    if (payment_id := merchant_payment_id(text)) is not None:
        wallet_url = f"{current_app.config['O2O_PUBLIC_URL']}/wallet/pay/{payment_id}"
        return _answer(DecodedKind.MERCHANT, text, payment_id=payment_id, wallet_url=wallet_url)
    raise O2OError(ErrorCode.UNRECOGNIZED_CODE, details={"text": text[:_QUOTED_TEXT]})


def merchant_payment_id(text: str) -> str | None:
    """The payment a merchant QR of this service is for, or None if `text` is no such link."""
    base = current_app.config["O2O_PUBLIC_URL"]
    if not text.startswith(base):
        return None
    match = _MERCHANT_PATH.fullmatch(text[len(base) :])
    return (match["api"] or match["wallet"]) if match else None


def _coupon_scan(
    principal: Principal, token: str, amount: int | None, store_id: str | None
) -> dict[str, Any]:
    if principal.role != Role.CLERK:
        raise O2OError(ErrorCode.FORBIDDEN, "Only a store's clerk scans a coupon's QR.")
    if amount is None:
        raise field_error("amount", "Required when the image is a coupon's QR.")
    quote = scan(principal, token, amount, store_id)
    return {
        "decoded": _decoded(DecodedKind.COUPON, token),
        "coupon": quote.coupon,
        "applicable": quote.applicable,
        "reasons": quote.reasons,
        "discount_amount": quote.discount_amount,
        "payable_amount": quote.payable_amount,
    }


def _decoded(kind: DecodedKind, text: str, **found: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "valid_shape": None,
        "payment_id": None,
        "wallet_url": None,
        **found,
    }


def _answer(kind: DecodedKind, text: str, **found: Any) -> dict[str, Any]:
    """A decoded code that is no coupon: the scan's own fields are all null."""
    return {
        "decoded": _decoded(kind, text, **found),
        "coupon": None,
        "applicable": None,
        "reasons": None,
        "discount_amount": None,
        "payable_amount": None,
    }
