"""Reading a /v3/ request body the way WeChat Pay does: each field checked, the first problem
answered as PARAM_ERROR naming it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from o2o.api.base import UNSTORABLE, unstorable_text
from o2o.wechatpay import protocol
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
    if unstorable_text(value):
        raise param_error(name, "must not contain NUL or a lone surrogate")
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
    if UNSTORABLE.search(value):
        raise param_error(name, "must not contain NUL or a lone surrogate")
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


REQUEST_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,128}")


def request_no(body: dict[str, Any], name: str) -> str:
    """A merchant's request number (out_request_no, use_request_no, …): 1 to 128 characters."""
    return pattern(body, name, REQUEST_NO, "1 to 128 of 0-9 A-Z a-z _ - | * @")


def count(
    body: dict[str, Any], name: str, low: int, high: int, *, required: bool = True
) -> int | None:
    """An integer from `low` to `high` (a bool, a float or a string is refused)."""
    value = body.get(name)
    if value is None:
        if required:
            raise param_error(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise param_error(name, f"must be an integer from {low} to {high}")
    return value


def required_count(body: dict[str, Any], name: str, low: int, high: int) -> int:
    value = count(body, name, low, high)
    assert value is not None
    return value


def choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = required_text(body, name, max_length=64)
    if value not in allowed:
        raise param_error(name, f"must be one of {', '.join(allowed)}")
    return value


def moment(body: dict[str, Any], name: str) -> datetime:
    """A required RFC 3339 time (`2026-12-04T10:00:00+08:00`), as an aware UTC datetime."""
    try:
        return protocol.parse_rfc3339(required_text(body, name, max_length=64))
    except protocol.ProtocolError as error:
        raise param_error(name, "must be an RFC 3339 time such as 2026-12-04T10:00:00+08:00") from (
            error
        )


def flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise param_error(name, "must be true or false")
    return value
