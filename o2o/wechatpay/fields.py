"""Reading a /v3/ request body the way WeChat Pay does: each field checked, the first problem
answered as PARAM_ERROR naming it."""

from __future__ import annotations

import re
from typing import Any

from o2o.wechatpay.errors import param_error

OUT_NO = re.compile(r"[0-9A-Za-z_\-|*@]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
URL = re.compile(r"https?://[^\s?#]+(\?[^\s#]*)?")


def obj(body: Any, name: str, *, required: bool = True) -> dict[str, Any]:
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        if required:
            raise param_error(name, "is required")
        return {}
    if not isinstance(value, dict):
        raise param_error(name, "must be an object")
    return value


def text(
    body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 128
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise param_error(name, "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise param_error(name, "must be a non-empty string")
    if len(value) > max_length:
        raise param_error(name, f"must be at most {max_length} characters")
    return value


def required_text(body: dict[str, Any], name: str, *, max_length: int = 128) -> str:
    value = text(body, name, max_length=max_length)
    assert value is not None
    return value


def pattern(body: dict[str, Any], name: str, rule: re.Pattern[str], shape: str) -> str:
    value = required_text(body, name, max_length=64)
    if not rule.fullmatch(value):
        raise param_error(name, f"must be {shape}")
    return value


def fen(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """A positive amount in fen (an integer: 1.0 and "1" are refused, as WeChat does)."""
    value = body.get(name)
    if value is None:
        if required:
            raise param_error(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**10:
        raise param_error(name, "must be a positive integer amount in fen")
    return value


def required_fen(body: dict[str, Any], name: str) -> int:
    value = fen(body, name)
    assert value is not None
    return value


def currency(amount: dict[str, Any]) -> None:
    if amount.get("currency", "CNY") != "CNY":
        raise param_error("amount.currency", "only CNY is supported")


def notify_url(body: dict[str, Any], *, required: bool) -> str | None:
    value = text(body, "notify_url", required=required, max_length=256)
    if value is not None and not URL.fullmatch(value):
        raise param_error("notify_url", "must be an http(s) URL")
    return value
