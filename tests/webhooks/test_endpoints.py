"""Webhook endpoints: registered, listed, changed and removed by admins; the secret shown once;
patterns and URLs checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from o2o.config import build_config
from tests.builders import ADMIN_KEY, Api, error_code, webhook_endpoint
from tests.conftest import build_app

URL = "http://127.0.0.1:9/hooks"  # loopback: sandbox mode (the test apps') allows it


def test_an_admin_registers_an_endpoint_and_sees_its_secret_only_once(api: Api) -> None:
    created = webhook_endpoint(api, URL, ["payment.succeeded", "coupon.*"], description="Till")

    shown = api.get(f"/webhook-endpoints/{created['id']}", ADMIN_KEY).get_json()
    listed = api.get("/webhook-endpoints", ADMIN_KEY).get_json()["items"]

    assert created["secret"].startswith("whsec_")
    assert created["status"] == "enabled"
    assert created["events"] == ["payment.succeeded", "coupon.*"]
    assert "secret" not in shown
    assert all("secret" not in item for item in listed)
    assert shown == {key: value for key, value in created.items() if key != "secret"}
    assert [item["id"] for item in listed] == [created["id"]]


def test_endpoints_are_listed_newest_first_a_page_at_a_time(api: Api) -> None:
    ids = [webhook_endpoint(api, URL)["id"] for _ in range(3)]

    first = api.get("/webhook-endpoints?limit=2", ADMIN_KEY).get_json()
    second = api.get(f"/webhook-endpoints?limit=2&cursor={first['next_cursor']}", ADMIN_KEY)

    seen = [item["id"] for item in first["items"] + second.get_json()["items"]]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 3
    assert second.get_json()["next_cursor"] is None


def test_an_endpoint_is_changed_disabled_and_removed(api: Api) -> None:
    endpoint = webhook_endpoint(api, URL)
    path = f"/webhook-endpoints/{endpoint['id']}"

    changed = api.patch(
        path,
        ADMIN_KEY,
        json={"url": "https://127.0.0.1:8443/x", "events": ["order.*"], "status": "disabled"},
    )
    removed = api.call("DELETE", path, ADMIN_KEY)

    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["url"], body["events"], body["status"]) == (
        "https://127.0.0.1:8443/x",
        ["order.*"],
        "disabled",
    )
    assert removed.status_code == 204
    assert api.get(path, ADMIN_KEY).status_code == 404
    assert api.get("/webhook-endpoints", ADMIN_KEY).get_json()["items"] == []


@pytest.mark.parametrize(
    "patterns",
    [[], ["coupon"], ["coupons.*"], ["coupon.stolen"], ["*.*"], ["payment.succeeded", "x"]],
)
def test_event_patterns_must_be_types_object_families_or_everything(
    api: Api, patterns: list[str]
) -> None:
    response = api.post("/webhook-endpoints", ADMIN_KEY, json={"url": URL, "events": patterns})

    assert response.status_code == 422
    assert "events" in response.get_json()["error"]["details"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hooks",
        "javascript:alert(1)",
        "http:///no-host",
        "http://user:pw@127.0.0.1/hooks",
        "http://127.0.0.1:99999/hooks",
        "http://127.0.0.1/" + "x" * 2048,
        " http://127.0.0.1/hooks",
    ],
)
def test_only_http_and_https_urls_with_a_host_and_no_user_are_accepted(api: Api, url: str) -> None:
    response = api.post("/webhook-endpoints", ADMIN_KEY, json={"url": url, "events": ["*"]})

    assert response.status_code == 422, url
    assert "url" in response.get_json()["error"]["details"]


def test_a_bad_change_is_refused_and_leaves_the_endpoint_as_it_was(api: Api) -> None:
    endpoint = webhook_endpoint(api, URL)
    path = f"/webhook-endpoints/{endpoint['id']}"

    response = api.patch(path, ADMIN_KEY, json={"events": ["order.*"], "url": "gopher://x"})

    assert response.status_code == 422
    assert api.get(path, ADMIN_KEY).get_json()["events"] == ["*"]


def test_clerks_and_shoppers_cannot_see_or_manage_webhooks(api: Api) -> None:
    endpoint = webhook_endpoint(api, URL)
    for key in (api.clerk()["api_key"], api.shopper()["api_key"]):
        for method, path in (
            ("GET", "/webhook-endpoints"),
            ("POST", "/webhook-endpoints"),
            ("GET", f"/webhook-endpoints/{endpoint['id']}/deliveries"),
            ("POST", f"/webhook-endpoints/{endpoint['id']}/rotate-secret"),
        ):
            response = api.call(method, path, key, json={"url": URL, "events": ["*"]})
            assert response.status_code == 403, (method, path)
            assert error_code(response) == "forbidden"
    assert api.get("/webhook-endpoints").status_code == 401


def test_an_unknown_endpoint_is_not_found(api: Api) -> None:
    for method, path in (
        ("GET", "/webhook-endpoints/we_nope"),
        ("PATCH", "/webhook-endpoints/we_nope"),
        ("DELETE", "/webhook-endpoints/we_nope"),
        ("POST", "/webhook-endpoints/we_nope/rotate-secret"),
        ("GET", "/webhook-endpoints/we_nope/deliveries"),
    ):
        response = api.call(method, path, ADMIN_KEY, json={})
        assert response.status_code == 404, (method, path)
        assert error_code(response) == "not_found"


def test_a_replayed_registration_answers_the_same_secret_and_registers_once(api: Api) -> None:
    body = {"url": URL, "events": ["*"]}
    headers = {"Idempotency-Key": "hook-1"}

    first = api.post("/webhook-endpoints", ADMIN_KEY, json=body, headers=headers)
    again = api.post("/webhook-endpoints", ADMIN_KEY, json=body, headers=headers)

    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(api.get("/webhook-endpoints", ADMIN_KEY).get_json()["items"]) == 1


def test_rotating_the_secret_shows_a_new_one_and_when_the_old_one_stops(api: Api) -> None:
    endpoint = webhook_endpoint(api, URL)

    rotated = api.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret", ADMIN_KEY)

    assert rotated.status_code == 200
    body = rotated.get_json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"] is not None
    assert endpoint["previous_secret_expires_at"] is None


def test_the_retry_schedule_and_the_lease_are_checked_at_startup() -> None:
    with pytest.raises(ValueError, match="O2O_WEBHOOK_RETRY_SCHEDULE: '5 parsecs'"):
        build_app("sqlite://", O2O_WEBHOOK_RETRY_SCHEDULE="5s,5 parsecs")
    with pytest.raises(ValueError, match="O2O_WEBHOOK_LEASE_SECONDS"):
        build_app("sqlite://", O2O_WEBHOOK_TIMEOUT=90, O2O_WEBHOOK_LEASE_SECONDS=60)
    app: Flask = build_app("sqlite://", O2O_WEBHOOK_RETRY_SCHEDULE="5s, 2m,1h,1d")
    assert app.config["O2O_WEBHOOK_RETRY_SCHEDULE"] == (5, 120, 3600, 86400)


def test_wechat_pay_notifications_retry_on_wechats_schedule_unless_the_environment_says_otherwise(
    tmp_path: Path,
) -> None:
    default = build_config(str(tmp_path), {"O2O_SECRET_KEY": "k"}, environ={})
    chosen = build_config(
        str(tmp_path), {"O2O_SECRET_KEY": "k"}, {"O2O_WECHATPAY_NOTIFY_SCHEDULE": "15s, 1m,6h"}
    )

    assert default["O2O_WECHATPAY_NOTIFY_SCHEDULE"] == (
        *(15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600),
        *(10800, 10800, 10800, 21600, 21600),
    )
    assert sum(default["O2O_WECHATPAY_NOTIFY_SCHEDULE"]) == 24 * 3600 + 4 * 60
    assert chosen["O2O_WECHATPAY_NOTIFY_SCHEDULE"] == (15, 60, 21600)
    with pytest.raises(ValueError, match="O2O_WECHATPAY_NOTIFY_SCHEDULE: '3 fortnights'"):
        build_config(str(tmp_path), {}, {"O2O_WECHATPAY_NOTIFY_SCHEDULE": "15s,3 fortnights"})
