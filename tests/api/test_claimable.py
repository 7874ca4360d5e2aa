"""`GET /campaigns?claimable=true` lists exactly the campaigns a claim would succeed on."""

from __future__ import annotations

from typing import Any

from tests.builders import Api, error_code


def _claimable_ids(api: Api, shopper: dict[str, Any]) -> set[str]:
    response = api.get("/campaigns?claimable=true&limit=200", shopper["api_key"])
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_a_campaign_whose_wait_outlasts_its_validity_is_not_listed_as_claimable(
    api: Api,
) -> None:

    api.clock(now="2026-12-01T10:00:00Z")
    shopper = api.shopper()
    # Claimed now, a coupon would wait 3 days and so start after the campaign's end.
    outlasted = api.campaign(valid_until="2026-12-03T10:00:00Z", wait_days_after_claim=3)
    # A wait ending exactly at valid_until leaves an empty window too.
    exact = api.campaign(valid_until="2026-12-03T10:00:00Z", wait_days_after_claim=2)
    fits = api.campaign(valid_until="2026-12-03T10:00:00.000001Z", wait_days_after_claim=2)

    claimable = _claimable_ids(api, shopper)

    assert fits["id"] in claimable
    assert outlasted["id"] not in claimable
    assert exact["id"] not in claimable
    for campaign in (outlasted, exact):  # what the listing must agree with: the claim itself
        response = api.post(f"/campaigns/{campaign['id']}/claims", shopper["api_key"])
        assert response.status_code == 409
        assert error_code(response) == "campaign_not_active"
        assert response.get_json()["error"]["details"]["reasons"] == ["coupon_would_never_be_valid"]
    api.claim(shopper, fits["id"])


def test_a_campaign_becomes_claimable_again_only_when_nothing_blocks_it(api: Api) -> None:

    api.clock(now="2026-12-01T10:00:00Z")
    shopper = api.shopper()
    later = api.campaign(claim_starts_at="2026-12-01T10:00:01Z")
    open_now = api.campaign(claim_starts_at="2026-12-01T10:00:00Z")
    closed = api.campaign(claim_ends_at="2026-12-01T10:00:00Z")
    paused = api.campaign(status="paused")

    claimable = _claimable_ids(api, shopper)

    assert open_now["id"] in claimable
    assert not {later["id"], closed["id"], paused["id"]} & claimable
    api.clock(now="2026-12-01T10:00:01Z")
    assert later["id"] in _claimable_ids(api, shopper)
