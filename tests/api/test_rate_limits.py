"""Rate limits: past its threshold each answers 429 rate_limited with Retry-After, for that caller
(or address) only, counting in memory and in Redis; none in sandbox mode unless configured."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.test import TestResponse

from o2o import qr
from tests.builders import ADMIN_KEY, Api
from tests.conftest import AppFactory
from tests.redis_server import redis_storage

Limited = Callable[..., Api]


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Where the counters live: this process's memory, or the Redis that instances share."""
    if request.param == "memory":
        yield {"O2O_RATE_LIMIT_STORAGE": "memory://"}
        return
    with redis_storage() as settings:
        yield settings


@pytest.fixture
def limited(app_factory: AppFactory, storage: dict[str, Any]) -> Limited:
    """An Api on an app with O2O_RATE_LIMITS set to `rates` (the others at their defaults)."""

    def make(rates: str, **config: Any) -> Api:
        return Api(app_factory(O2O_RATE_LIMITS=rates, **storage, **config).test_client())

    return make


def assert_rate_limited(response: TestResponse, limit: str) -> None:
    assert response.status_code == 429, response.get_json()
    error = response.get_json()["error"]
    assert (error["code"], error["details"]) == ("rate_limited", {"limit": limit})
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_an_address_that_fails_authentication_too_often_is_refused_even_with_a_good_key(
    limited: Limited,
) -> None:
    api = limited("auth_failures=2/minute")
    assert api.get("/stores", "guessed-key").status_code == 401
    assert api.get("/stores").status_code == 401  # no key at all fails too
    assert_rate_limited(api.get("/stores", "guessed-key"), "auth_failures")
    # A valid key from that address is refused too, or the 429 would tell a guesser nothing.
    assert_rate_limited(api.get("/stores", ADMIN_KEY), "auth_failures")
    assert_rate_limited(api.get("/me/payment-code", "guessed-key"), "auth_failures")
    elsewhere = from_address("198.51.100.7")
    assert api.get("/stores", "guessed-key", **elsewhere).status_code == 401
    assert api.get("/stores", ADMIN_KEY, **elsewhere).status_code == 200


def test_only_answers_of_401_count_as_failed_authentication(limited: Limited) -> None:
    api = limited("auth_failures=2/minute")
    shopper = api.shopper()
    for _ in range(3):
        assert api.get("/stores", ADMIN_KEY).status_code == 200
        assert api.get("/stores", shopper["api_key"]).status_code == 403
        assert api.get("/coupons/NOSUCHCODE", shopper["api_key"]).status_code == 404
    assert api.get("/stores", "guessed-key").status_code == 401


def test_the_lockout_ends_when_its_window_has_passed(limited: Limited) -> None:
    api = limited("auth_failures=1/second")
    assert api.get("/stores", "guessed-key").status_code == 401
    assert_rate_limited(api.get("/stores", ADMIN_KEY), "auth_failures")
    time.sleep(1.5)
    assert api.get("/stores", ADMIN_KEY).status_code == 200


def test_claims_are_limited_per_shopper(limited: Limited) -> None:
    api = limited("claims=2/minute")
    campaign = api.campaign(per_shopper_limit=1)
    shopper, other = api.shopper(), api.shopper()
    path = f"/campaigns/{campaign['id']}/claims"
    assert api.post(path, shopper["api_key"], json={}).status_code == 201
    assert api.post(path, shopper["api_key"], json={}).status_code == 409  # over-limit claims count
    assert_rate_limited(api.post(path, shopper["api_key"], json={}), "claims")
    assert api.post(path, other["api_key"], json={}).status_code == 201


def test_scans_are_limited_per_clerk(limited: Limited) -> None:
    api = limited("scans=2/minute")
    shopper = api.shopper()
    token = api.qr_token(shopper, api.coupon(shopper)["code"])
    store_id = api.store()["id"]
    clerk, other = api.clerk(store_id), api.clerk(store_id)
    scan = {"qr_token": token, "amount": 39900}
    assert api.post("/scans", clerk["api_key"], json=scan).status_code == 200
    forged = {**scan, "qr_token": token[:-2] + "xx"}
    assert api.post("/scans", clerk["api_key"], json=forged).status_code == 400  # guesses count
    assert_rate_limited(api.post("/scans", clerk["api_key"], json=scan), "scans")
    assert api.post("/scans", other["api_key"], json=scan).status_code == 200


def test_photo_scans_share_the_scans_limit_per_caller(limited: Limited) -> None:
    api = limited("scans=2/minute")
    shopper = api.shopper()
    token = api.qr_token(shopper, api.coupon(shopper)["code"])
    store_id = api.store()["id"]
    clerk, other = api.clerk(store_id), api.clerk(store_id)

    def photo_scan(key: str) -> TestResponse:
        data = {"image": (io.BytesIO(qr.render_png(token)), "qr.png"), "amount": "39900"}
        return api.post("/scans/image", key, data=data, content_type="multipart/form-data")

    assert photo_scan(clerk["api_key"]).status_code == 200
    assert (
        api.post("/scans", clerk["api_key"], json={"qr_token": token, "amount": 1}).status_code
        == 200
    )
    assert_rate_limited(photo_scan(clerk["api_key"]), "scans")
    assert photo_scan(other["api_key"]).status_code == 200


def test_orders_are_limited_per_clerk_and_per_shopper(limited: Limited) -> None:
    api = limited("orders=2/minute")
    store_id = api.store()["id"]
    pairs = [(api.clerk(store_id), api.clerk(store_id)), (api.shopper(), api.shopper())]
    for caller, other in pairs:
        for _ in range(2):
            assert api.post("/orders", caller["api_key"], json={"amount": 1000}).status_code == 201
        assert_rate_limited(api.post("/orders", caller["api_key"], json={"amount": 1000}), "orders")
        assert api.post("/orders", other["api_key"], json={"amount": 1000}).status_code == 201


def test_payments_are_limited_per_caller_so_payment_codes_cannot_be_guessed_at_speed(
    limited: Limited,
) -> None:
    api = limited("payments=2/minute")
    clerk = api.clerk()
    order = api.order(clerk)
    path = f"/orders/{order['id']}/payments"
    guess = {"method": "wechat_pay", "flow": "clerk_scan", "auth_code": "134567890123456789"}
    for _ in range(2):
        assert api.post(path, clerk["api_key"], json=guess).status_code == 422
    assert_rate_limited(api.post(path, clerk["api_key"], json=guess), "payments")
    shopper, other = api.shopper(), api.shopper()
    mine = api.online_order(shopper)
    for _ in range(2):
        assert api.pay(mine, shopper, outcome="declined").status_code == 201
    assert_rate_limited(api.pay(mine, shopper), "payments")
    assert api.pay(api.online_order(other), other).get_json()["status"] == "succeeded"


def test_payment_codes_are_limited_per_shopper(limited: Limited) -> None:
    api = limited("payment_codes=2/minute")
    shopper, other = api.shopper(), api.shopper()
    for _ in range(2):
        assert api.get("/me/payment-code", shopper["api_key"]).status_code == 200
    assert_rate_limited(api.get("/me/payment-code", shopper["api_key"]), "payment_codes")
    assert api.get("/me/payment-code", other["api_key"]).status_code == 200


def test_coupon_lookups_share_one_budget_per_caller(limited: Limited) -> None:
    api = limited("coupon_lookups=3/minute")
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    key = shopper["api_key"]
    assert api.get(f"/coupons/{code}", key).status_code == 200
    assert api.get(f"/coupons/{code}/qr-token", key).status_code == 200
    assert api.get("/coupons/GUESSED/events", key).status_code == 404
    assert_rate_limited(api.get(f"/coupons/{code}/qr", key), "coupon_lookups")
    assert_rate_limited(api.get(f"/coupons/{code}", key), "coupon_lookups")
    assert api.get(f"/coupons/{code}", ADMIN_KEY).status_code == 200
    assert api.get(f"/coupons/{code}", api.shopper()["api_key"]).status_code == 404


def test_naming_a_limit_off_drops_only_that_limit(limited: Limited) -> None:
    api = limited("auth_failures=off;payment_codes=1/minute")
    for _ in range(5):
        assert api.get("/stores", "guessed-key").status_code == 401
    shopper = api.shopper()
    assert api.get("/me/payment-code", shopper["api_key"]).status_code == 200
    assert_rate_limited(api.get("/me/payment-code", shopper["api_key"]), "payment_codes")


def test_behind_a_trusted_proxy_limits_count_the_forwarded_client_address(
    limited: Limited,
) -> None:
    api = limited("auth_failures=2/minute", O2O_PROXY_FIX=1)

    def guess(client: str) -> TestResponse:
        return api.get("/stores", "guessed-key", headers={"X-Forwarded-For": client})

    assert [guess("203.0.113.9").status_code for _ in range(2)] == [401, 401]
    assert_rate_limited(guess("203.0.113.9"), "auth_failures")
    assert guess("198.51.100.4").status_code == 401  # another shopper behind the same proxy


def test_without_proxy_fix_a_forged_forwarded_for_escapes_no_limit(limited: Limited) -> None:
    api = limited("auth_failures=2/minute")
    for client in ("203.0.113.1", "203.0.113.2"):
        assert api.get("/stores", "k", headers={"X-Forwarded-For": client}).status_code == 401
    forged = api.get("/stores", "k", headers={"X-Forwarded-For": "203.0.113.3"})
    assert_rate_limited(forged, "auth_failures")


def test_instances_counting_in_one_redis_share_their_counters(app_factory: AppFactory) -> None:
    with redis_storage() as settings:
        first, second = (
            Api(app_factory(O2O_RATE_LIMITS="auth_failures=2/minute", **settings).test_client())
            for _ in range(2)
        )
        assert first.get("/stores", "guessed-key").status_code == 401
        assert second.get("/stores", "guessed-key").status_code == 401
        assert_rate_limited(first.get("/stores", ADMIN_KEY), "auth_failures")
        assert_rate_limited(second.get("/stores", ADMIN_KEY), "auth_failures")


def test_sandbox_mode_without_a_setting_has_no_limits(app_factory: AppFactory) -> None:
    api = Api(app_factory(O2O_SANDBOX=True, O2O_RATE_LIMITS=None).test_client())
    assert {api.get("/stores", "guessed-key").status_code for _ in range(25)} == {401}
    shopper = api.shopper()
    codes = {api.get("/me/payment-code", shopper["api_key"]).status_code for _ in range(35)}
    assert codes == {200}


def test_a_production_app_has_the_default_limits(app_factory: AppFactory) -> None:
    api = Api(app_factory(O2O_SANDBOX=False, O2O_RATE_LIMITS=None).test_client())
    assert [api.get("/stores", "guessed-key").status_code for _ in range(21)] == [401] * 20 + [429]
    shop = from_address("198.51.100.20")
    created = api.post("/shoppers", ADMIN_KEY, json={"name": "Mei"}, **shop).get_json()
    codes = [api.get("/me/payment-code", created["api_key"], **shop).status_code for _ in range(31)]
    assert codes == [200] * 30 + [429]


@pytest.mark.parametrize("setting", ["", "off", " OFF "])
def test_an_empty_or_off_setting_turns_every_limit_off(
    app_factory: AppFactory, setting: str
) -> None:
    api = Api(app_factory(O2O_SANDBOX=False, O2O_RATE_LIMITS=setting).test_client())
    assert {api.get("/stores", "guessed-key").status_code for _ in range(25)} == {401}
