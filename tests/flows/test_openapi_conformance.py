"""The purchase flows, end to end, as the OpenAPI spec describes them: each request the server
takes and each response it gives is checked by openapi-core (the `app` fixture of conftest)."""

from __future__ import annotations

from o2o.client import Service
from o2o.vocabulary import MockOutcome, PaymentMethod
from tests.contract.exchanges import Contract


def test_every_exchange_of_the_purchase_flows_matches_the_spec(
    o2o: Service, contract: Contract
) -> None:
    store = o2o.store()
    clerk, shopper = o2o.clerk(store), o2o.shopper()
    campaigns = [
        o2o.campaign(),
        o2o.campaign(discount={"type": "percent_off", "percent_off": 20, "max_discount": None}),
        o2o.campaign(discount={"type": "exchange", "exchange_price": 100, "item": "Tote"}),
    ]
    in_store, online, remote = (shopper.claim(campaign) for campaign in campaigns)
    shopper.claimable()
    shopper.qr_image(in_store)
    shopper.qr_image(in_store, "svg")

    # in store: scan, order, the shopper's payment code, then a partial and a full refund
    qr = shopper.show_qr(in_store)
    assert clerk.scan(qr, 39900).applicable
    order = clerk.checkout(39900, qr)
    payment = clerk.take_payment(order, shopper.payment_code(), method=PaymentMethod.ALIPAY)
    clerk.refund(payment, 1000, reason="a missing button")
    clerk.refund(payment)

    # in store, the merchant's QR: pending, then the shopper confirms
    pending = clerk.show_payment_qr(clerk.checkout(20000, shopper.show_qr(online)))
    assert pending.qr_url
    shopper.confirm(pending)

    # online: declined, still payable, then paid; a second order canceled
    order = shopper.checkout(20000, remote, store)
    assert shopper.pay(order, outcome=MockOutcome.DECLINED).failure_code == "declined"
    paying = shopper.pay(order, outcome=MockOutcome.USER_PAYING)
    o2o.clock.advance(seconds=10)
    assert shopper.payment(paying).status == "succeeded"
    assert shopper.order(order).status == "paid"
    shopper.cancel(shopper.checkout(5000))
    o2o.stats(campaigns[0])
    shopper.coupons()
    o2o.get(f"/coupons/{in_store.code}/events")
    o2o.get(f"/campaigns/{campaigns[1].id}")
    o2o.get("/stores")

    print(f"openapi-core validated {contract.validated} exchanges")  # noqa: T201 - the count
    assert contract.validated > 20
    assert contract.mismatches == []
