"""The README's purchases, written as an integrator writes them against the client that
openapi-python-client generates from this service's spec (package `o2o_api_client`).

Not imported by the suite directly: tests/contract/test_generated_client.py generates the
package into a temporary directory, copies this file beside it, runs `mypy --strict` on it and
then runs its flows against the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from o2o_api_client import AuthenticatedClient
from o2o_api_client.api.campaigns import claim_coupon, create_campaign
from o2o_api_client.api.checkout import create_order, get_order, scan_coupon
from o2o_api_client.api.coupons import (
    create_qr_token,
    get_coupon,
    get_coupon_qr,
    list_coupon_events,
)
from o2o_api_client.api.payments import create_payment, create_refund, get_payment_code
from o2o_api_client.api.people import create_clerk, create_shopper, create_store
from o2o_api_client.models import (
    AmountOffDiscountCreate,
    AmountOffDiscountCreateType,
    CampaignCreate,
    Claim,
    ClaimChannel,
    ClerkCreate,
    ErrorEnvelope,
    OrderCreate,
    PaymentCreate,
    PaymentCreateFlow,
    PaymentCreateMethod,
    RefundCreate,
    Scan,
    ShopperCreate,
    StoreCreate,
)

Connect = Callable[[str], AuthenticatedClient]
T = TypeVar("T")


class ApiError(Exception):
    """The API refused a call; the message is its error envelope's code and sentence."""


def ok(answer: T | ErrorEnvelope | None) -> T:
    """The resource of a successful call, or ApiError with the API's own words."""
    if answer is None:
        raise ApiError("no answer the spec describes")
    if isinstance(answer, ErrorEnvelope):
        raise ApiError(f"{answer.error.code}: {answer.error.message}")
    return answer


@dataclass(frozen=True)
class InStoreReceipt:
    order_status: str
    coupon_status: str
    paid_amount: int
    history: list[str]
    qr_png: bytes


@dataclass(frozen=True)
class RefundReceipt:
    order_status: str
    coupon_status: str
    paid_amount: int
    refund_status: str
    refunded_amount: int


def _fifty_off_three_hundred(admin: AuthenticatedClient) -> str:
    discount = AmountOffDiscountCreate(
        type_=AmountOffDiscountCreateType.AMOUNT_OFF, amount_off=5000, min_spend=30000
    )
    body = CampaignCreate(
        name="¥50 off ¥300", discount=discount, total_quantity=100, valid_days_after_claim=30
    )
    return ok(create_campaign.sync(client=admin, body=body)).id


def in_store_purchase(connect: Connect, admin_key: str) -> InStoreReceipt:
    """Claimed in the public account, scanned at West Lake, paid by WeChat Pay at the till."""
    admin = connect(admin_key)
    store = ok(create_store.sync(client=admin, body=StoreCreate(name="西湖店", city="杭州")))
    clerk_key = ok(
        create_clerk.sync(client=admin, body=ClerkCreate(name="Li Na", store_id=store.id))
    ).api_key
    shopper_key = ok(
        create_shopper.sync(client=admin, body=ShopperCreate(name="Xiao Ming"))
    ).api_key
    campaign_id = _fifty_off_three_hundred(admin)
    shopper, clerk = connect(shopper_key), connect(clerk_key)

    claim = Claim(channel=ClaimChannel.PUBLIC_ACCOUNT)
    code = ok(claim_coupon.sync(campaign_id, client=shopper, body=claim)).code
    qr = ok(get_coupon_qr.sync(code, client=shopper))
    token = ok(create_qr_token.sync(code, client=shopper)).token

    scan = ok(scan_coupon.sync(client=clerk, body=Scan(qr_token=token, amount=39900)))
    if not scan.applicable:
        raise ApiError(f"the coupon does not apply: {scan.reasons}")
    order = ok(create_order.sync(client=clerk, body=OrderCreate(qr_token=token, amount=39900)))

    auth_code = ok(get_payment_code.sync(client=shopper)).auth_code
    wechat = PaymentCreate(
        method=PaymentCreateMethod.WECHAT_PAY,
        flow=PaymentCreateFlow.CLERK_SCAN,
        auth_code=auth_code,
    )
    payment = ok(
        create_payment.sync(
            order.id, client=clerk, body=wechat, idempotency_key=f"xihu-till-1-{order.id}"
        )
    )
    history = ok(list_coupon_events.sync(code, client=shopper)).items
    return InStoreReceipt(
        order_status=ok(get_order.sync(order.id, client=shopper)).status,
        coupon_status=ok(get_coupon.sync(code, client=shopper)).status,
        paid_amount=payment.amount,
        history=[event.type_ for event in history],
        qr_png=qr.payload.read(),
    )


def online_purchase_refunded(connect: Connect, admin_key: str) -> RefundReceipt:
    """Claimed in the app, paid online with the coupon's code, then refunded in full."""
    admin = connect(admin_key)
    shopper = connect(
        ok(create_shopper.sync(client=admin, body=ShopperCreate(name="Xiao Hong"))).api_key
    )
    campaign_id = _fifty_off_three_hundred(admin)
    code = ok(claim_coupon.sync(campaign_id, client=shopper)).code

    order = ok(create_order.sync(client=shopper, body=OrderCreate(coupon_code=code, amount=39900)))
    online = PaymentCreate(method=PaymentCreateMethod.ALIPAY, flow=PaymentCreateFlow.ONLINE)
    payment = ok(create_payment.sync(order.id, client=shopper, body=online))
    refund = ok(
        create_refund.sync(payment.id, client=admin, body=RefundCreate(reason="wrong size"))
    )
    return RefundReceipt(
        order_status=ok(get_order.sync(order.id, client=shopper)).status,
        coupon_status=ok(get_coupon.sync(code, client=shopper)).status,
        paid_amount=payment.amount,
        refund_status=refund.status,
        refunded_amount=refund.amount,
    )
