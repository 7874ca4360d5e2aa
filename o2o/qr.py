"""Render a token as a QR image (the only module importing qrcode)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(token: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(token)
    code.make(fit=True)
    return code


def render_png(token: str) -> bytes:
    buffer = io.BytesIO()
    _qr(token).make_image().save(buffer)
    return buffer.getvalue()


def render_svg(token: str) -> bytes:
    buffer = io.BytesIO()
    _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
