"""Testing with o2o: the flow API (shoppers, clerks, a merchant) and the pytest plugin."""

from o2o.testing.flow import (
    Clerk,
    Clock,
    Coupon,
    Order,
    Payment,
    Service,
    Shopper,
    amount_off,
    exchange,
    percent_off,
)
from o2o.testing.transport import InProcess, OverHttp, ServiceError

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
