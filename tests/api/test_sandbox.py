"""The sandbox clock: shared, admin-only, and absent outside sandbox mode."""

from __future__ import annotations

from tests.builders import ADMIN_KEY, Api, error_code
from tests.conftest import AppFactory


def test_the_clock_can_be_set_and_advanced(api: Api) -> None:
    assert api.clock(now="2026-12-01T08:00:00+08:00") == "2026-12-01T00:00:00Z"
    assert api.clock(advance_seconds=90) == "2026-12-01T00:01:30Z"
    assert api.get("/sandbox/clock", ADMIN_KEY).get_json() == {
        "now": "2026-12-01T00:01:30Z",
        "mode": "frozen",
    }


def test_the_clock_is_shared_by_every_app_on_the_database(app_factory: AppFactory) -> None:
    first = Api(app_factory().test_client())
    second = Api(app_factory().test_client())  # another worker, same database
    first.clock(now="2027-01-01T00:00:00Z")
    assert second.get("/sandbox/clock", ADMIN_KEY).get_json()["now"] == "2027-01-01T00:00:00Z"
    second.clock(advance_seconds=60)
    assert first.get("/sandbox/clock", ADMIN_KEY).get_json()["now"] == "2027-01-01T00:01:00Z"


def test_setting_the_clock_needs_exactly_one_of_now_or_advance(api: Api) -> None:
    for body in (
        {},
        {"now": "2026-12-01T00:00:00Z", "advance_seconds": 1},
        {"advance_seconds": -1},
    ):
        response = api.post("/sandbox/clock", ADMIN_KEY, json=body)
        assert response.status_code == 422
        assert error_code(response) == "validation_error"


def test_only_admins_touch_the_clock(api: Api) -> None:
    shopper = api.shopper()
    assert api.get("/sandbox/clock", shopper["api_key"]).status_code == 403
    assert api.post("/sandbox/clock", json={"advance_seconds": 1}).status_code == 401


def test_without_sandbox_mode_the_clock_routes_do_not_exist(app_factory: AppFactory) -> None:
    api = Api(app_factory(O2O_SANDBOX=False).test_client())
    response = api.get("/sandbox/clock", ADMIN_KEY)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_sandbox_routes_on_a_live_server_say_how_to_turn_the_sandbox_on(
    app_factory: AppFactory,
) -> None:
    live = Api(app_factory(O2O_SANDBOX=False).test_client())

    for response in (
        live.get("/sandbox/clock", ADMIN_KEY),
        live.post("/sandbox/clock", ADMIN_KEY, json={"advance_seconds": 60}),
    ):
        assert response.status_code == 404
        assert error_code(response) == "not_found"
        assert "O2O_SANDBOX=1" in response.get_json()["error"]["message"]


def test_a_frozen_sandbox_clock_goes_back_to_real_time_and_follows_it(api: Api) -> None:
    from datetime import UTC, datetime

    frozen = api.post("/sandbox/clock", ADMIN_KEY, json={"now": "2030-01-01T00:00:00Z"})
    assert frozen.get_json() == {"now": "2030-01-01T00:00:00Z", "mode": "frozen"}

    back = api.post("/sandbox/clock", ADMIN_KEY, json={"mode": "real"})

    assert back.status_code == 200
    assert back.get_json()["mode"] == "real"
    read = api.get("/sandbox/clock", ADMIN_KEY).get_json()
    assert read["mode"] == "real"
    drift = datetime.fromisoformat(read["now"]) - datetime.now(UTC)
    assert abs(drift.total_seconds()) < 60
    again = api.post("/sandbox/clock", ADMIN_KEY, json={"mode": "frozen"}).get_json()
    assert again["mode"] == "frozen"
    advanced = api.post("/sandbox/clock", ADMIN_KEY, json={"advance_seconds": 60}).get_json()
    moved = datetime.fromisoformat(advanced["now"]) - datetime.fromisoformat(again["now"])
    assert (moved.total_seconds(), advanced["mode"]) == (60, "frozen")


def test_mode_real_takes_no_time_to_move_to(api: Api) -> None:
    response = api.post("/sandbox/clock", ADMIN_KEY, json={"mode": "real", "advance_seconds": 5})

    assert response.status_code == 422
    assert "mode" in response.get_json()["error"]["details"]


def test_in_real_mode_a_user_paying_payment_settles_after_its_delay_of_real_time(
    app_factory: AppFactory,
) -> None:
    import time

    api = Api(app_factory(O2O_MOCK_PAYING_SECONDS=1).test_client())
    api.clock(now="2030-01-01T00:00:00Z")  # frozen by a test run, then given back
    assert api.post("/sandbox/clock", ADMIN_KEY, json={"mode": "real"}).status_code == 200
    sale = api.reserved_sale()
    payment = api.pay(sale["order"], sale["shopper"], sale["clerk"], outcome="user_paying")
    path = f"/payments/{payment.get_json()['id']}"
    assert api.get(path, ADMIN_KEY).get_json()["status"] == "pending"

    for _ in range(50):  # bounded: the delay is one second of real time
        time.sleep(0.1)
        if api.get(path, ADMIN_KEY).get_json()["status"] != "pending":
            break

    assert api.get(path, ADMIN_KEY).get_json()["status"] == "succeeded"
