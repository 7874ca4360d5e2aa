"""Testing with o2o: the pytest plugin (`plugin`, `fixtures`) over the client, `o2o.client`.

The client's names are re-exported here (`from o2o.testing import ServiceError`), loaded on
first use so that importing the plugin stays free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from o2o.client import (
        Clerk,
        Clock,
        Coupon,
        InProcess,
        Order,
        OverHttp,
        Payment,
        Service,
        ServiceError,
        Shopper,
        amount_off,
        exchange,
        percent_off,
    )

__all__ = [
    "Clerk",
    "Clock",
    "Coupon",
    "InProcess",
    "Order",
    "OverHttp",
    "Payment",
    "Service",
    "ServiceError",
    "Shopper",
    "amount_off",
    "exchange",
    "percent_off",
]


def __getattr__(name: str) -> Any:
    """The client's names, imported when first asked for."""
    if name in __all__:
        import o2o.client

        return getattr(o2o.client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
