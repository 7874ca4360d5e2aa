"""In process, the `o2o_webhooks` fixture gets each event right after the request that wrote it,
and each retry as soon as the sandbox clock reaches it: no worker, no sleeping (both databases)."""

from __future__ import annotations

import pytest

from o2o.client import Service
from o2o.testing.fixtures import Webhooks
from o2o.testing.webhooks import hmac_verify, library_verify
from tests.worker.support import campaign_event


def test_an_event_reaches_the_fixture_verified_when_the_request_that_wrote_it_returns(
    o2o: Service, o2o_webhooks: Webhooks
) -> None:
    o2o.campaign()

    assert [event["type"] for event in o2o_webhooks.received()] == ["campaign.created"]


def test_wait_for_answers_at_once_in_process_with_the_event_asked_for(
    o2o: Service, o2o_webhooks: Webhooks
) -> None:
    event_id = campaign_event(o2o)

    event = o2o_webhooks.wait_for("campaign.created", timeout=0)

    assert event["id"] == event_id
    assert [d.webhook_id for d in o2o_webhooks.deliveries()] == [event_id]


def test_wait_for_fails_at_once_naming_what_came_instead(
    o2o: Service, o2o_webhooks: Webhooks
) -> None:
    o2o.campaign()

    with pytest.raises(AssertionError, match=r"'order.paid'.*\['campaign.created'\]"):
        o2o_webhooks.wait_for("order.paid", timeout=60)


def test_a_whole_purchase_arrives_in_order_every_signature_verified(
    o2o: Service, o2o_webhooks: Webhooks
) -> None:
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    coupon = shopper.claim(o2o.campaign())
    order = clerk.checkout(39900, qr=shopper.show_qr(coupon))
    clerk.take_payment(order, shopper.payment_code())

    types = [event["type"] for event in o2o_webhooks.received()]
    assert types[0] == "campaign.created"
    assert "payment.succeeded" in types
    assert types.index("coupon.claimed") < types.index("order.created") < types.index("order.paid")
    assert o2o_webhooks.receiver.rejected() == []
    for delivery in o2o_webhooks.deliveries():  # the library and the receiver's own check agree
        assert library_verify(o2o_webhooks.secret, delivery.body, delivery.headers)
        assert hmac_verify(o2o_webhooks.secret, delivery.body, delivery.headers)


def test_a_failed_delivery_comes_again_with_the_same_id_and_body_five_sandbox_seconds_later(
    o2o: Service, o2o_webhooks: Webhooks
) -> None:
    o2o.clock.freeze("2026-12-01T10:00:00Z")
    o2o_webhooks.fail_next(1)
    o2o.campaign()
    first = o2o_webhooks.wait_for("campaign.created")

    o2o.clock.advance(seconds=4)
    assert len(o2o_webhooks.received("campaign.created")) == 1
    o2o.clock.advance(seconds=1)
    retry = o2o_webhooks.wait_for("campaign.created", count=2)

    first_try, second_try = o2o_webhooks.deliveries("campaign.created")
    assert (first_try.status, second_try.status) == (500, 200)
    assert first_try.webhook_id == second_try.webhook_id == first["id"] == retry["id"]
    assert first_try.body == second_try.body
