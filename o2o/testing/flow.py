"""Moved to `o2o.client.flow`; this alias keeps old imports working."""

from o2o.client.flow import (
    Campaign,
    Clerk,
    Clock,
    Coupon,
    Order,
    Payment,
    Resource,
    Service,
    Shopper,
    Store,
    amount_off,
    exchange,
    percent_off,
)

__all__ = [
    "Campaign",
    "Clerk",
    "Clock",
    "Coupon",
    "Order",
    "Payment",
    "Resource",
    "Service",
    "Shopper",
    "Store",
    "amount_off",
    "exchange",
    "percent_off",
]
