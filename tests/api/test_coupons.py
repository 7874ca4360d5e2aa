"""The shopper's coupons: listing, detail, QR tokens and images, history."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from o2o import clock
from o2o.tokens import verify_qr_token
from tests.builders import ADMIN_KEY, SECRET, Api, error_code


def test_my_coupons_lists_only_my_own(api: Api) -> None:
    me, other = api.shopper(), api.shopper()
    mine = api.coupon(me)
    api.coupon(other)
    listed = api.get("/me/coupons", me["api_key"]).get_json()["items"]
    assert [c["code"] for c in listed] == [mine["code"]]


def test_my_coupons_filter_by_status_including_lapsed_ones_as_expired(api: Api) -> None:
    me = api.shopper()
    api.clock(now="2026-12-01T00:00:00Z")
    short = api.coupon(me, valid_days_after_claim=1)
    api.clock(advance_seconds=2 * 86400)
    fresh = api.coupon(me, valid_days_after_claim=10)

    def codes(status: str) -> list[str]:
        response = api.get("/me/coupons", me["api_key"], query_string={"status": status})
        return [c["code"] for c in response.get_json()["items"]]

    assert codes("expired") == [short["code"]]
    assert codes("available") == [fresh["code"]]
    assert codes("redeemed") == []
    assert api.get(f"/coupons/{short['code']}", me["api_key"]).get_json()["status"] == "expired"


def test_my_coupons_rejects_an_unknown_status_and_non_shoppers(api: Api) -> None:
    me = api.shopper()
    assert api.get("/me/coupons", me["api_key"], query_string={"status": "lost"}).status_code == 422
    assert api.get("/me/coupons", ADMIN_KEY).status_code == 403
    assert api.get("/me/coupons").status_code == 401


def test_a_coupon_is_found_by_its_code_in_any_case_with_stray_dashes(api: Api) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    typed = f" {code[:4].lower()}-{code[4:8]}-{code[8:].lower()}"
    response = api.get(f"/coupons/{typed}", me["api_key"])
    assert response.status_code == 200
    assert response.get_json()["code"] == code


def test_another_shoppers_coupon_is_not_found_and_admins_see_all(api: Api) -> None:
    code = api.coupon()["code"]
    response = api.get(f"/coupons/{code}", api.shopper()["api_key"])
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert api.get(f"/coupons/{code}", ADMIN_KEY).status_code == 200
    assert api.get("/coupons/NOSUCHCODE22", ADMIN_KEY).status_code == 404


def test_clerks_cannot_read_coupons_directly(api: Api) -> None:
    code = api.coupon()["code"]
    assert api.get(f"/coupons/{code}", api.clerk()["api_key"]).status_code == 403


def test_a_qr_token_is_signed_short_lived_and_names_the_coupon(api: Api, app: Flask) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    body = api.get(f"/coupons/{code}/qr-token", me["api_key"]).get_json()
    with app.app_context():
        now = clock.now()
    assert verify_qr_token(SECRET, body["token"], now) == code
    assert body["expires_at"].endswith("Z")


def test_another_shopper_cannot_mint_a_token_for_my_coupon(api: Api) -> None:
    code = api.coupon()["code"]
    assert api.get(f"/coupons/{code}/qr-token", api.shopper()["api_key"]).status_code == 404


def decode_qr(png: bytes) -> str:
    """Read a QR image the way a clerk's scanner would: an independent decoder."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return str(results[0].text)


def test_the_png_qr_decodes_to_exactly_a_valid_token(api: Api, app: Flask) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    response = api.get(f"/coupons/{code}/qr", me["api_key"])
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    token = decode_qr(response.data)
    with app.app_context():
        assert verify_qr_token(SECRET, token, clock.now()) == code


def test_the_svg_qr_is_served_as_svg_and_renders_the_same_token(api: Api) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    response = api.get(f"/coupons/{code}/qr", me["api_key"], query_string={"format": "svg"})
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<?xml")
    assert b"<svg" in response.data


def test_an_unknown_qr_format_is_a_validation_error(api: Api) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    response = api.get(f"/coupons/{code}/qr", me["api_key"], query_string={"format": "gif"})
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/qr-token", "/qr"])
def test_no_qr_for_a_coupon_that_can_no_longer_be_used(api: Api, path: str) -> None:
    me = api.shopper()
    api.clock(now="2026-12-01T00:00:00Z")
    code = api.coupon(me, valid_days_after_claim=1)["code"]
    api.clock(advance_seconds=86400)
    response = api.get(f"/coupons/{code}{path}", me["api_key"])
    assert response.status_code == 409
    assert error_code(response) == "coupon_not_available"


def test_a_coupon_history_starts_with_its_claim(api: Api) -> None:
    me = api.shopper()
    code = api.coupon(me)["code"]
    events = api.get(f"/coupons/{code}/events", me["api_key"]).get_json()["items"]
    assert [e["type"] for e in events] == ["claimed"]
    assert (events[0]["actor_role"], events[0]["actor_id"]) == ("shopper", me["id"])
    assert api.get(f"/coupons/{code}/events", api.shopper()["api_key"]).status_code == 404
    assert api.get(f"/coupons/{code}/events", ADMIN_KEY).status_code == 200


def test_time_passing_writes_the_expiry_into_the_history_dated_when_it_lapsed(api: Api) -> None:
    api.clock(now="2026-12-01T00:00:00Z")
    me = api.shopper()
    code = api.coupon(me, valid_days_after_claim=2)["code"]
    api.clock(advance_seconds=3 * 86400)
    events = api.get(f"/coupons/{code}/events", me["api_key"]).get_json()["items"]
    assert [(e["type"], e["at"], e["actor_role"]) for e in events][1:] == [
        ("expired", "2026-12-03T00:00:00Z", "system")
    ]
    assert api.get(f"/coupons/{code}", me["api_key"]).get_json()["status"] == "expired"


def test_the_expire_command_records_lapsed_coupons(api: Api, app: Flask) -> None:
    api.clock(now="2026-12-01T00:00:00Z")
    code = api.coupon(valid_days_after_claim=1)["code"]
    with app.app_context():
        from o2o.extensions import db
        from o2o.models import SandboxClock

        row = db.session.get(SandboxClock, 1)
        assert row is not None  # api.clock(now=...) above wrote it
        row.now = row.now.replace(day=5)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["expire-coupons"])
    assert "Recorded 1 release(s) and expiries." in result.output
    assert api.events(code) == ["claimed", "expired"]
