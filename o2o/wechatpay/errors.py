"""WeChat Pay's error answers: `{"code", "message"}` with the status WeChat uses for each code.
Merchant code branches on both (the SDK returns them as they are), so they are the contract;
docs/wechatpay.md lists them."""

from __future__ import annotations

from typing import Any

from o2o.errors import O2OError
from o2o.vocabulary import ErrorCode

STATUSES = {
    "PARAM_ERROR": 400,
    "INVALID_REQUEST": 400,
    "APPID_MCHID_NOT_MATCH": 400,
    "OUT_TRADE_NO_USED": 400,
    "ORDERPAID": 400,
    "ORDER_CLOSED": 400,
    "PAYERROR": 400,
    "AUTH_CODE_INVALID": 400,
    "NOT_SUPPORTED": 400,
    "SIGN_ERROR": 401,
    "NOTENOUGH": 403,
    "NOT_ENOUGH": 403,
    "NO_AUTH": 403,
    "ORDER_NOT_EXIST": 404,
    "RESOURCE_NOT_EXISTS": 404,
    "USERPAYING": 202,
    "FREQUENCY_LIMITED": 429,
    "SYSTEM_ERROR": 500,
}

# This service's own errors, as the WeChat code a merchant's SDK code expects in their place.
FROM_SERVICE = {
    ErrorCode.NOT_FOUND: "ORDER_NOT_EXIST",
    ErrorCode.FORBIDDEN: "NO_AUTH",
    ErrorCode.ORDER_NOT_PAYABLE: "ORDER_CLOSED",
    ErrorCode.ORDER_NOT_CANCELABLE: "ORDERPAID",
    ErrorCode.PAYMENT_NOT_REFUNDABLE: "INVALID_REQUEST",
    ErrorCode.REFUND_EXCEEDS_PAYMENT: "NOT_ENOUGH",
    ErrorCode.INVALID_PAYMENT_CODE: "AUTH_CODE_INVALID",
    ErrorCode.COUPON_NOT_AVAILABLE: "INVALID_REQUEST",
    ErrorCode.COUPON_NOT_APPLICABLE: "INVALID_REQUEST",
    ErrorCode.VALIDATION_ERROR: "PARAM_ERROR",
    ErrorCode.BAD_REQUEST: "PARAM_ERROR",
}


class WechatError(Exception):
    """An error answered the way WeChat Pay answers it."""

    def __init__(self, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail

    @property
    def status(self) -> int:
        return STATUSES[self.code]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body

    @classmethod
    def from_service(cls, error: O2OError) -> WechatError:
        """A use case's error in WeChat's words (its message kept; the details as `detail`)."""
        code = FROM_SERVICE.get(
            error.error, "SYSTEM_ERROR" if error.status >= 500 else "INVALID_REQUEST"
        )
        return cls(code, error.message, error.details or None)


def param_error(field: str, message: str) -> WechatError:
    """A missing or malformed field, named the way WeChat names it (`detail.field`)."""
    return WechatError("PARAM_ERROR", f"{field}: {message}", {"field": field})
