"""Claiming coupons: limits, windows, channels and Idempotency-Key."""

from __future__ import annotations

from flask import Flask

from tests.builders import ADMIN_KEY, Api, error_code


def test_a_shopper_claims_a_coupon_that_records_its_channel(api: Api) -> None:
    campaign = api.campaign()
    shopper = api.shopper()
    coupon = api.claim(shopper, campaign["id"], channel="public_account")
    assert coupon["status"] == "available"
    assert coupon["claim_channel"] == "public_account"
    assert (coupon["campaign_id"], coupon["shopper_id"]) == (campaign["id"], shopper["id"])
    assert coupon["discount"] == campaign["discount"]
    assert api.get(f"/campaigns/{campaign['id']}", ADMIN_KEY).get_json()["claimed_count"] == 1


def test_a_claim_with_no_body_defaults_to_the_app_channel(api: Api) -> None:
    campaign = api.campaign()
    response = api.post(f"/campaigns/{campaign['id']}/claims", api.shopper()["api_key"])
    assert response.status_code == 201
    assert response.get_json()["claim_channel"] == "app"


def test_the_per_shopper_limit_is_enforced(api: Api) -> None:
    campaign = api.campaign(per_shopper_limit=2)
    shopper = api.shopper()
    api.claim(shopper, campaign["id"])
    api.claim(shopper, campaign["id"])
    response = api.post(f"/campaigns/{campaign['id']}/claims", shopper["api_key"])
    assert response.status_code == 409
    assert error_code(response) == "per_shopper_limit_reached"


def test_an_exhausted_campaign_hands_out_nothing_more(api: Api) -> None:
    campaign = api.campaign(total_quantity=1)
    api.claim(api.shopper(), campaign["id"])
    response = api.post(f"/campaigns/{campaign['id']}/claims", api.shopper()["api_key"])
    assert response.status_code == 409
    assert error_code(response) == "campaign_exhausted"


def test_paused_or_closed_campaigns_cannot_be_claimed(api: Api) -> None:
    shopper = api.shopper()
    for fields in ({"status": "paused"}, {"claim_ends_at": "2020-01-01T00:00:00Z"}):
        campaign = api.campaign(**fields)
        response = api.post(f"/campaigns/{campaign['id']}/claims", shopper["api_key"])
        assert response.status_code == 409
        assert error_code(response) == "campaign_not_active"


def test_a_relative_coupon_is_valid_for_its_days_after_the_wait(api: Api) -> None:
    now = api.clock(now="2026-12-01T00:00:00Z")
    campaign = api.campaign(valid_days_after_claim=7, wait_days_after_claim=1)
    coupon = api.claim(api.shopper(), campaign["id"])
    assert coupon["claimed_at"] == now
    assert coupon["valid_from"] == "2026-12-02T00:00:00Z"
    assert coupon["valid_until"] == "2026-12-09T00:00:00Z"


def test_claiming_needs_a_shopper_key_and_a_known_campaign(api: Api) -> None:
    campaign = api.campaign()
    assert api.post(f"/campaigns/{campaign['id']}/claims", ADMIN_KEY).status_code == 403
    assert api.post(f"/campaigns/{campaign['id']}/claims").status_code == 401
    response = api.post("/campaigns/cmp_nope/claims", api.shopper()["api_key"])
    assert response.status_code == 404


def test_a_claim_with_an_unknown_channel_is_a_validation_error(api: Api) -> None:
    campaign = api.campaign()
    response = api.post(
        f"/campaigns/{campaign['id']}/claims", api.shopper()["api_key"], json={"channel": "fax"}
    )
    assert response.status_code == 422
    assert "channel" in response.get_json()["error"]["details"]


def test_a_replayed_claim_returns_the_same_coupon_and_says_so(api: Api) -> None:
    campaign = api.campaign(per_shopper_limit=3)
    shopper = api.shopper()
    path = f"/campaigns/{campaign['id']}/claims"
    headers = {"Idempotency-Key": "claim-1"}
    first = api.post(path, shopper["api_key"], json={}, headers=headers)
    again = api.post(path, shopper["api_key"], json={}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.get(f"/campaigns/{campaign['id']}", ADMIN_KEY).get_json()["claimed_count"] == 1


def test_a_reused_key_with_another_body_is_rejected(api: Api) -> None:
    campaign = api.campaign(per_shopper_limit=3)
    shopper = api.shopper()
    path = f"/campaigns/{campaign['id']}/claims"
    headers = {"Idempotency-Key": "claim-1"}
    api.post(path, shopper["api_key"], json={"channel": "app"}, headers=headers)
    response = api.post(path, shopper["api_key"], json={"channel": "in_store"}, headers=headers)
    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"


def test_idempotency_keys_are_scoped_to_the_api_key(api: Api) -> None:
    campaign = api.campaign()
    path = f"/campaigns/{campaign['id']}/claims"
    headers = {"Idempotency-Key": "same"}
    one = api.post(path, api.shopper()["api_key"], headers=headers)
    two = api.post(path, api.shopper()["api_key"], headers=headers)
    assert one.status_code == two.status_code == 201
    assert one.get_json()["code"] != two.get_json()["code"]


def test_a_conflict_is_replayed_too_but_a_validation_failure_stores_nothing(api: Api) -> None:
    campaign = api.campaign(total_quantity=1)
    api.claim(api.shopper(), campaign["id"])
    shopper = api.shopper()
    path = f"/campaigns/{campaign['id']}/claims"
    bad = api.post(
        path, shopper["api_key"], json={"channel": "fax"}, headers={"Idempotency-Key": "k"}
    )
    assert bad.status_code == 422
    first = api.post(path, shopper["api_key"], json={}, headers={"Idempotency-Key": "k"})
    assert error_code(first) == "campaign_exhausted"
    api.patch(f"/campaigns/{campaign['id']}", ADMIN_KEY, json={"total_quantity": 2})
    again = api.post(path, shopper["api_key"], json={}, headers={"Idempotency-Key": "k"})
    assert (again.status_code, error_code(again)) == (409, "campaign_exhausted")
    assert again.headers["Idempotent-Replayed"] == "true"


def test_an_overlong_idempotency_key_is_a_validation_error(api: Api) -> None:
    campaign = api.campaign()
    response = api.post(
        f"/campaigns/{campaign['id']}/claims",
        api.shopper()["api_key"],
        headers={"Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["details"]


def leave_key_in_flight(app: Flask) -> None:
    """Make the one idempotency record look like one an earlier version of the service
    committed as 'in progress' before its request died (this version never commits one)."""
    from o2o.extensions import db
    from o2o.models import IdempotencyRecord

    with app.app_context():
        record = db.session.query(IdempotencyRecord).one()
        record.response_status = None
        record.response_body = None
        db.session.commit()


def test_a_record_left_in_progress_by_a_dead_request_does_not_hold_its_key(
    api: Api, app: Flask
) -> None:
    shopper = api.shopper()
    campaign = api.campaign(per_shopper_limit=2)
    path = f"/campaigns/{campaign['id']}/claims"
    api.post(path, shopper["api_key"], headers={"Idempotency-Key": "k"})
    leave_key_in_flight(app)

    response = api.post(path, shopper["api_key"], headers={"Idempotency-Key": "k"})

    assert response.status_code == 201
    assert response.headers.get("Idempotent-Replayed") is None


def test_every_post_view_is_idempotent(app: Flask) -> None:
    """The mechanism is generic: each POST view carries the one idempotency decorator."""
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith("/api/v1")
    ]
    assert len(posts) >= 10  # the check below must have views to look at
    for rule in posts:
        assert getattr(app.view_functions[rule.endpoint], "o2o_idempotent", False), rule.rule


def test_a_validation_error_found_by_a_service_stores_no_idempotent_response(api: Api) -> None:
    headers = {"Idempotency-Key": "hire-1"}
    bad = api.post("/clerks", ADMIN_KEY, json={"name": "C", "store_id": "st_nope"}, headers=headers)
    assert bad.status_code == 422
    store = api.store()
    fixed = api.post(
        "/clerks", ADMIN_KEY, json={"name": "C", "store_id": store["id"]}, headers=headers
    )
    assert fixed.status_code == 201


def test_a_wait_past_the_campaigns_end_refuses_the_claim(api: Api) -> None:
    campaign = api.campaign(
        valid_days_after_claim=None, valid_until="2099-01-01T00:00:00Z", wait_days_after_claim=3650
    )
    api.clock(now="2095-01-01T00:00:00Z")
    response = api.post(f"/campaigns/{campaign['id']}/claims", api.shopper()["api_key"])
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["reasons"] == ["coupon_would_never_be_valid"]
