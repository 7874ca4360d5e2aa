"""Publishing and managing campaigns (admin), browsing them (shoppers, clerks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import ADMIN_KEY, Api, campaign_fields, error_code


@pytest.mark.parametrize(
    "discount",
    [
        {"type": "amount_off", "amount_off": 5000, "min_spend": 30000},
        {"type": "percent_off", "percent_off": 20, "max_discount": 10000, "min_spend": 0},
        {"type": "exchange", "exchange_price": 100, "item": "Canvas tote", "min_spend": 0},
    ],
)
def test_each_discount_type_is_published_and_shown_back(api: Api, discount: dict[str, Any]) -> None:
    campaign = api.campaign(discount=discount)
    assert campaign["discount"] == discount
    assert campaign["status"] == "active"
    assert campaign["claimed_count"] == 0
    assert campaign["redeemed_count"] == 0
    assert campaign["channels"] == ["in_store", "online"]
    assert campaign["per_shopper_limit"] == 1
    assert campaign["restore_on_refund"] is True


def test_scope_and_absolute_window_are_kept(api: Api) -> None:
    store = api.store()
    campaign = api.campaign(
        store_ids=[store["id"]],
        channels=["in_store"],
        valid_from="2026-12-01T08:00:00+08:00",
        valid_until="2026-12-31T23:59:59+08:00",
        valid_days_after_claim=None,
    )
    assert campaign["store_ids"] == [store["id"]]
    assert campaign["valid_from"] == "2026-12-01T00:00:00Z"
    assert campaign["valid_until"] == "2026-12-31T15:59:59Z"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"discount": {"type": "amount_off"}}, "discount"),
        ({"discount": {"type": "percent_off", "percent_off": 101}}, "discount"),
        ({"discount": {"type": "amount_off", "amount_off": 50.5}}, "discount"),
        ({"discount": {"type": "amount_off", "amount_off": 5, "item": "x"}}, "discount"),
        ({"discount": {"type": "bogo"}}, "discount"),
        ({"discount": {"type": ["amount_off"], "amount_off": 5}}, "discount"),
        ({"discount": {"amount_off": 5}}, "discount"),
        ({"discount": "amount_off"}, "discount"),
        ({"total_quantity": 0}, "total_quantity"),
        ({"total_quantity": "100"}, "total_quantity"),
        ({"valid_days_after_claim": None}, "valid_until"),
        (
            {"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"},
            "valid_until",
        ),
        ({"valid_until": "2026-12-01T00:00:00"}, "valid_until"),  # no offset
        ({"channels": ["moon"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"store_ids": ["st_unknown"]}, "store_ids"),
        ({"status": "live"}, "status"),
    ],
)
def test_invalid_campaigns_are_rejected_with_the_field_named(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = api.post("/campaigns", ADMIN_KEY, json=campaign_fields(**overrides))
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert field in response.get_json()["error"]["details"]


def test_only_admins_publish_campaigns(api: Api) -> None:
    response = api.post("/campaigns", api.shopper()["api_key"], json=campaign_fields())
    assert response.status_code == 403
    assert api.post("/campaigns", json=campaign_fields()).status_code == 401


def test_patch_renames_pauses_and_grows_the_budget(api: Api) -> None:
    campaign = api.campaign(total_quantity=10)
    response = api.patch(
        f"/campaigns/{campaign['id']}",
        ADMIN_KEY,
        json={"name": "Renamed", "status": "paused", "total_quantity": 20},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["status"], body["total_quantity"]) == ("Renamed", "paused", 20)


def test_total_quantity_may_only_grow(api: Api) -> None:
    campaign = api.campaign(total_quantity=10)
    response = api.patch(f"/campaigns/{campaign['id']}", ADMIN_KEY, json={"total_quantity": 9})
    assert response.status_code == 422
    assert "total_quantity" in response.get_json()["error"]["details"]
    assert api.get(f"/campaigns/{campaign['id']}", ADMIN_KEY).get_json()["total_quantity"] == 10


def test_an_ended_campaign_cannot_be_reactivated(api: Api) -> None:
    campaign = api.campaign(status="ended")
    response = api.patch(f"/campaigns/{campaign['id']}", ADMIN_KEY, json={"status": "active"})
    assert response.status_code == 422
    assert "status" in response.get_json()["error"]["details"]


def test_patching_needs_an_admin_and_an_existing_campaign(api: Api) -> None:
    campaign = api.campaign()
    shopper = api.shopper()
    assert api.patch(f"/campaigns/{campaign['id']}", shopper["api_key"], json={}).status_code == 403
    assert api.patch("/campaigns/cmp_nope", ADMIN_KEY, json={"name": "x"}).status_code == 404
    assert api.patch(f"/campaigns/{campaign['id']}", ADMIN_KEY, json={"x": 1}).status_code == 422


def test_drafts_are_hidden_from_shoppers(api: Api) -> None:
    draft = api.campaign(status="draft")
    published = api.campaign()
    shopper = api.shopper()
    assert api.get(f"/campaigns/{draft['id']}", shopper["api_key"]).status_code == 404
    assert api.get(f"/campaigns/{draft['id']}", ADMIN_KEY).status_code == 200
    listed = api.get("/campaigns", shopper["api_key"]).get_json()["items"]
    assert [c["id"] for c in listed] == [published["id"]]  # the list works; the draft is not in it


def test_claimable_lists_only_what_this_shopper_can_still_claim(api: Api) -> None:
    open_one = api.campaign(name="open")
    taken = api.campaign(name="taken")
    api.campaign(name="paused", status="paused")
    api.campaign(name="not yet", claim_starts_at="2099-01-01T00:00:00Z")
    shopper = api.shopper()
    api.claim(shopper, taken["id"])
    response = api.get("/campaigns", shopper["api_key"], query_string={"claimable": "true"})
    assert response.status_code == 200
    assert [c["id"] for c in response.get_json()["items"]] == [open_one["id"]]


def test_claimable_is_a_shopper_question(api: Api) -> None:
    response = api.get("/campaigns", ADMIN_KEY, query_string={"claimable": "true"})
    assert response.status_code == 403


def test_an_unknown_campaign_is_not_found(api: Api) -> None:
    response = api.get("/campaigns/cmp_nope", ADMIN_KEY)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"]
)
def test_times_out_of_range_are_validation_errors(api: Api, moment: str) -> None:
    response = api.post("/campaigns", ADMIN_KEY, json=campaign_fields(valid_until=moment))
    assert response.status_code == 422
    assert "valid_until" in response.get_json()["error"]["details"]
