"""GET /events and GET /events/{id}: admin only, filtered by type and time, a page at a time."""

from __future__ import annotations

import pytest

from tests.builders import ADMIN_KEY, Api, error_code

FROZEN_AT = "2026-03-01T10:00:00+00:00"


def test_events_list_newest_first_with_each_event_readable_by_its_id(api: Api) -> None:
    sale = api.checkout()

    events = api.all_events()
    one = api.get(f"/events/{events[0]['id']}", ADMIN_KEY)

    assert one.status_code == 200
    assert one.get_json() == events[0]
    times = [event["created_at"] for event in events]
    assert times == sorted(times, reverse=True)
    assert {"order.paid", "coupon.redeemed", "payment.succeeded"} <= {e["type"] for e in events}
    (paid,) = [e for e in events if e["type"] == "payment.succeeded"]
    assert paid["data"]["object"] == sale["payment"]


def test_type_filters_by_repeated_and_comma_separated_exact_types(api: Api) -> None:
    api.checkout()

    repeated = api.all_events(type=["order.paid", "payment.succeeded"])
    listed = api.all_events(type="order.paid,payment.succeeded")
    coupon_only = api.all_events(type="coupon.claimed")

    assert sorted(e["type"] for e in repeated) == ["order.paid", "payment.succeeded"]
    assert listed == repeated
    assert [e["type"] for e in coupon_only] == ["coupon.claimed"]


def test_created_after_and_before_are_exclusive_bounds_in_service_time(api: Api) -> None:
    api.clock(now=FROZEN_AT)
    api.campaign()
    api.clock(advance_seconds=60)
    later = api.campaign()

    after = api.all_events(created_after=FROZEN_AT)
    before = api.all_events(created_before="2026-03-01T10:01:00Z")
    between = api.all_events(created_after=FROZEN_AT, created_before="2026-03-01T10:01:00Z")

    assert [e["data"]["object"]["id"] for e in after] == [later["id"]]
    assert [e["created_at"] for e in before] == ["2026-03-01T10:00:00Z"]
    assert between == []


def test_pages_under_a_frozen_clock_list_every_event_once(api: Api) -> None:
    api.clock(now=FROZEN_AT)
    made = {api.campaign()["id"] for _ in range(7)}

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/events", ADMIN_KEY, query_string=query).get_json()
        seen += [e["data"]["object"]["id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(made)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "coupon.teleported"}, "type"),
        ({"type": "order.paid,coupon.*"}, "type"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"created_after": "2026-03-01T10:00:00"}, "created_after"),
        ({"created_before": "yesterday"}, "created_before"),
        ({"limit": 0}, "limit"),
    ],
)
def test_a_bad_filter_is_a_validation_error_on_its_field(
    api: Api, query: dict[str, object], field: str
) -> None:
    response = api.get("/events", ADMIN_KEY, query_string=query)

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert field in response.get_json()["error"]["details"]


def test_only_admins_read_events(api: Api) -> None:
    api.campaign()
    event_id = api.all_events()[0]["id"]
    clerk, shopper = api.clerk()["api_key"], api.shopper()["api_key"]

    for path in ("/events", f"/events/{event_id}"):
        assert api.get(path).status_code == 401
        assert api.get(path, clerk).status_code == 403
        assert api.get(path, shopper).status_code == 403


def test_an_unknown_event_id_is_not_found(api: Api) -> None:
    response = api.get("/events/evt_nosuchevent", ADMIN_KEY)

    assert response.status_code == 404
    assert error_code(response) == "not_found"
