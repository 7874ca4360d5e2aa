"""The one typed client of the o2o public API (standard library only; Flask only in process).

Service(transport, admin_key) is the merchant; it makes stores, clerks (Clerk), shoppers
(Shopper) and campaigns, and moves the sandbox Clock. A transport is InProcess (a Flask test
client) or OverHttp (a base URL), or anything with Transport's `request` method.
"""

from o2o.client.flow import (
    Caller,
    Campaign,
    Clerk,
    Clock,
    Coupon,
    Order,
    Payment,
    Refund,
    Resource,
    Scan,
    Service,
    Shopper,
    Store,
    amount_off,
    exchange,
    percent_off,
)
from o2o.client.transport import PREFIX, InProcess, OverHttp, Reply, ServiceError, Transport

__all__ = [
    "PREFIX",
    "Caller",
    "Campaign",
    "Clerk",
    "Clock",
    "Coupon",
    "InProcess",
    "Order",
    "OverHttp",
    "Payment",
    "Refund",
    "Reply",
    "Resource",
    "Scan",
    "Service",
    "ServiceError",
    "Shopper",
    "Store",
    "Transport",
    "amount_off",
    "exchange",
    "percent_off",
]
