"""The delivery log shows each delivery's attempts; redeliver queues a fresh delivery of the same
event, with the same webhook-id and body."""

from __future__ import annotations

from flask import Flask

from tests.builders import (
    ADMIN_KEY,
    Api,
    deliver,
    deliveries,
    error_code,
    recorded_event,
    webhook_endpoint,
)
from tests.webhooks.receiver import Answer, receiving


def test_the_delivery_log_shows_each_delivery_newest_first_with_its_attempts(
    app: Flask, api: Api
) -> None:
    with receiving() as receiver:
        receiver.script = [Answer(418, b"I'm a teapot")]
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        first = recorded_event(app, api)
        deliver(app)
        api.clock(advance_seconds=3)  # the retry waits 5 s
        second = recorded_event(app, api)
        deliver(app)

    logged = deliveries(api, endpoint["id"])
    assert [d["event_id"] for d in logged] == [second, first]
    newest, oldest = logged
    assert newest["status"] == "succeeded"
    assert oldest["status"] == "pending"
    assert oldest["event_type"] == "campaign.exhausted"
    assert oldest["endpoint_id"] == endpoint["id"]
    [attempt] = oldest["attempts"]
    assert attempt["status_code"] == 418
    assert attempt["response_body"] == "I'm a teapot"
    assert attempt["error"] is None
    assert attempt["duration_ms"] >= 0
    assert oldest["next_attempt_at"] > attempt["attempted_at"]
    assert newest["next_attempt_at"] is None
    assert [d["event_id"] for d in deliveries(api, endpoint["id"], status="pending")] == [first]
    page = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries?limit=1", ADMIN_KEY)
    assert page.get_json()["next_cursor"] is not None


def test_redelivering_an_event_sends_it_again_with_the_same_id_and_body(
    app: Flask, api: Api
) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        event_id = recorded_event(app, api)
        deliver(app)

        response = api.post(f"/events/{event_id}/redeliver", ADMIN_KEY)
        deliver(app)

    assert response.status_code == 202
    [queued] = response.get_json()["items"]
    assert (queued["event_id"], queued["status"], queued["attempts"]) == (event_id, "pending", [])
    assert receiver.ids() == [event_id, event_id]
    assert receiver.received[0].body == receiver.received[1].body
    assert len(deliveries(api, endpoint["id"], status="succeeded")) == 2


def test_redelivering_to_one_endpoint_reaches_only_that_one_even_if_it_came_later(
    app: Flask, api: Api
) -> None:
    with receiving() as early, receiving() as late:
        webhook_endpoint(api, early.url, ["campaign.exhausted"])
        event_id = recorded_event(app, api)
        deliver(app)
        chosen = webhook_endpoint(api, late.url, ["order.*"])

        response = api.post(
            f"/events/{event_id}/redeliver", ADMIN_KEY, json={"endpoint_id": chosen["id"]}
        )
        deliver(app)

    assert response.status_code == 202
    assert early.ids() == [event_id]
    assert late.ids() == [event_id]


def test_redelivering_an_unknown_event_or_to_an_unknown_endpoint_is_not_found(
    app: Flask, api: Api
) -> None:
    event_id = recorded_event(app, api)

    unknown_event = api.post("/events/evt_nope/redeliver", ADMIN_KEY)
    unknown_endpoint = api.post(
        f"/events/{event_id}/redeliver", ADMIN_KEY, json={"endpoint_id": "we_nope"}
    )

    assert (unknown_event.status_code, error_code(unknown_event)) == (404, "not_found")
    assert (unknown_endpoint.status_code, error_code(unknown_endpoint)) == (404, "not_found")


def test_removing_an_endpoint_stops_its_pending_retries(app: Flask, api: Api) -> None:
    with receiving() as receiver:
        receiver.default = Answer(500)
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        recorded_event(app, api)
        deliver(app)
        assert (
            api.call("DELETE", f"/webhook-endpoints/{endpoint['id']}", ADMIN_KEY).status_code == 204
        )
        api.clock(advance_seconds=3600)
        deliver(app)

    assert len(receiver.received) == 1
