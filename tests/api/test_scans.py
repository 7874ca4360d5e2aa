"""The clerk's scan: a dry run naming every reason a coupon does not apply."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import QR_TOKEN_TTL, Api, error_code


@pytest.fixture
def till(api: Api) -> dict[str, Any]:
    """A store's clerk and a shopper with a fresh QR token for a ¥50-off-¥300 coupon."""
    store = api.store()
    clerk = api.clerk(store["id"])
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    return {"clerk": clerk, "shopper": shopper, "code": code, "token": api.qr_token(shopper, code)}


def scan(api: Api, till: dict[str, Any], amount: int = 39900, **extra: Any) -> Any:
    body = {"qr_token": till["token"], "amount": amount, **extra}
    return api.post("/scans", till["clerk"]["api_key"], json=body)


def test_a_scan_quotes_the_discount_and_changes_nothing(api: Api, till: dict[str, Any]) -> None:
    response = scan(api, till)
    assert response.status_code == 200
    body = response.get_json()
    assert body["applicable"] is True
    assert body["reasons"] == []
    assert (body["discount_amount"], body["payable_amount"]) == (5000, 34900)
    assert body["coupon"]["code"] == till["code"]
    assert api.coupon_status(till["code"]) == "available"
    assert api.events(till["code"]) == ["claimed"]


def test_a_scan_below_min_spend_says_so(api: Api, till: dict[str, Any]) -> None:
    body = scan(api, till, amount=29999).get_json()
    assert body["applicable"] is False
    assert body["reasons"] == ["min_spend_not_met"]
    assert (body["discount_amount"], body["payable_amount"]) == (0, 29999)


@pytest.mark.parametrize(
    ("campaign", "reason"),
    [
        ({"store_ids": "OTHER"}, "store_not_eligible"),
        ({"channels": ["online"]}, "channel_not_eligible"),
        ({"wait_days_after_claim": 1}, "coupon_not_yet_valid"),
    ],
)
def test_a_scan_names_the_rule_that_fails(api: Api, campaign: dict[str, Any], reason: str) -> None:
    clerk = api.clerk()
    fields = dict(campaign)  # the parameter is shared by every database's run: never mutate it
    if fields.get("store_ids") == "OTHER":
        fields["store_ids"] = [api.store()["id"]]
    shopper = api.shopper()
    code = api.coupon(shopper, **fields)["code"]
    body = api.post(
        "/scans", clerk["api_key"], json={"qr_token": api.qr_token(shopper, code), "amount": 39900}
    ).get_json()
    assert body["applicable"] is False
    assert body["reasons"] == [reason]


def test_a_scan_of_a_reserved_coupon_says_not_available(api: Api, till: dict[str, Any]) -> None:
    api.order(till["clerk"], token=till["token"])
    assert scan(api, till).get_json()["reasons"] == ["coupon_not_available"]


def test_a_scan_of_a_paused_campaign_says_not_active(api: Api) -> None:
    from tests.builders import ADMIN_KEY

    clerk, shopper = api.clerk(), api.shopper()
    coupon = api.coupon(shopper)
    token = api.qr_token(shopper, coupon["code"])
    api.patch(f"/campaigns/{coupon['campaign_id']}", ADMIN_KEY, json={"status": "paused"})
    body = api.post("/scans", clerk["api_key"], json={"qr_token": token, "amount": 39900})
    assert body.get_json()["reasons"] == ["campaign_not_active"]


def test_a_coupon_that_lapses_while_its_token_is_fresh_scans_as_expired(api: Api) -> None:
    api.clock(now="2026-12-01T00:00:00Z")
    clerk, shopper = api.clerk(), api.shopper()
    code = api.coupon(shopper, valid_days_after_claim=1)["code"]
    api.clock(advance_seconds=86400 - 100)
    token = api.qr_token(shopper, code)  # valid for QR_TOKEN_TTL s more, the coupon for 100 s
    assert QR_TOKEN_TTL > 101
    api.clock(advance_seconds=101)
    body = api.post("/scans", clerk["api_key"], json={"qr_token": token, "amount": 39900})
    assert body.status_code == 200
    assert body.get_json()["reasons"] == ["coupon_expired"]
    assert body.get_json()["coupon"]["status"] == "expired"


def test_a_tampered_token_is_invalid(api: Api, till: dict[str, Any]) -> None:
    token = till["token"]
    for i in (0, 5, len(token) // 2, len(token) - 1):
        forged = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        response = api.post(
            "/scans", till["clerk"]["api_key"], json={"qr_token": forged, "amount": 39900}
        )
        assert response.status_code == 400
        assert error_code(response) == "invalid_qr_token"


def test_an_expired_token_is_refused_with_its_own_code(api: Api, till: dict[str, Any]) -> None:
    api.clock(advance_seconds=QR_TOKEN_TTL + 1)
    response = scan(api, till)
    assert response.status_code == 400
    assert error_code(response) == "qr_token_expired"


def test_only_clerks_scan_and_only_for_their_own_store(api: Api, till: dict[str, Any]) -> None:
    body = {"qr_token": till["token"], "amount": 39900}
    assert api.post("/scans", till["shopper"]["api_key"], json=body).status_code == 403
    assert api.post("/scans", json=body).status_code == 401
    other = api.store()["id"]
    response = scan(api, till, store_id=other)
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


@pytest.mark.parametrize("amount", [-1, 0, 1.5, "39900", None])
def test_a_scan_needs_a_positive_integer_amount(
    api: Api, till: dict[str, Any], amount: Any
) -> None:
    response = scan(api, till, amount=amount)
    assert response.status_code == 422
    assert "amount" in response.get_json()["error"]["details"]


def test_a_token_with_non_ascii_characters_is_invalid_not_an_error(
    api: Api, till: dict[str, Any]
) -> None:
    forged = till["token"][:-1] + "é"
    response = api.post("/scans", till["clerk"]["api_key"], json={"qr_token": forged, "amount": 1})
    assert response.status_code == 400
    assert error_code(response) == "invalid_qr_token"
