"""In process, the `o2o_webhooks` fixture gets each event right after the request that wrote it,
and each retry as soon as the sandbox clock reaches it: no worker, no sleeping (both databases)."""

from __future__ import annotations

from flask import Flask

from o2o.client import Service
from o2o.testing.fixtures import Webhooks
from tests.worker.support import campaign_created


def test_an_event_reaches_the_fixture_verified_as_soon_as_it_is_asked_for(
    app: Flask, o2o: Service, o2o_webhooks: Webhooks
) -> None:
    event_id = campaign_created(app, o2o.campaign().id)

    event = o2o_webhooks.wait_for("campaign.created")

    assert event["id"] == event_id
    assert [d.webhook_id for d in o2o_webhooks.deliveries()] == [event_id]


def test_an_event_written_by_a_request_is_delivered_when_that_request_returns(
    app: Flask, o2o: Service, o2o_webhooks: Webhooks
) -> None:
    event_id = campaign_created(app, o2o.campaign().id)
    o2o.store()  # any request: its end delivers what is due

    assert [event["id"] for event in o2o_webhooks.received()] == [event_id]


def test_a_failed_delivery_comes_again_with_the_same_id_and_body_five_sandbox_seconds_later(
    app: Flask, o2o: Service, o2o_webhooks: Webhooks
) -> None:
    o2o.clock.freeze("2026-12-01T10:00:00Z")
    o2o_webhooks.fail_next(1)
    campaign_created(app, o2o.campaign().id)
    first = o2o_webhooks.wait_for("campaign.created")

    o2o.clock.advance(seconds=4)
    assert len(o2o_webhooks.received("campaign.created")) == 1
    o2o.clock.advance(seconds=1)
    retry = o2o_webhooks.wait_for("campaign.created", count=2)

    first_try, second_try = o2o_webhooks.deliveries("campaign.created")
    assert (first_try.status, second_try.status) == (500, 200)
    assert first_try.webhook_id == second_try.webhook_id == first["id"] == retry["id"]
    assert first_try.body == second_try.body
