"""The sandbox clock: shared, admin-only, and absent outside sandbox mode."""

from __future__ import annotations

from tests.builders import ADMIN_KEY, Api, error_code
from tests.conftest import AppFactory


def test_the_clock_can_be_set_and_advanced(api: Api) -> None:
    assert api.clock(now="2026-12-01T08:00:00+08:00") == "2026-12-01T00:00:00Z"
    assert api.clock(advance_seconds=90) == "2026-12-01T00:01:30Z"
    assert api.get("/sandbox/clock", ADMIN_KEY).get_json() == {"now": "2026-12-01T00:01:30Z"}


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
