"""Admin endpoints for stores, clerks and shoppers."""

from __future__ import annotations

from flask import Flask

from tests.builders import ADMIN_KEY, Api, error_code


def test_an_admin_opens_a_store_and_sees_it_listed(api: Api) -> None:
    store = api.store(name="West Lake", city="Hangzhou", address="Hubin Road 28")
    assert store["id"].startswith("st_")
    assert store["created_at"].endswith("Z")
    listed = api.get("/stores", ADMIN_KEY).get_json()
    assert [s["id"] for s in listed["items"]] == [store["id"]]
    assert listed["next_cursor"] is None


def test_store_lists_page_with_a_cursor_without_repeats(api: Api) -> None:
    made = {api.store(name=f"S{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/stores", ADMIN_KEY, query_string=query).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_a_forged_cursor_is_a_validation_error(api: Api) -> None:
    response = api.get("/stores", ADMIN_KEY, query_string={"cursor": "garbage!"})
    assert response.status_code == 422
    assert "cursor" in response.get_json()["error"]["details"]


def test_a_limit_above_200_is_a_validation_error(api: Api) -> None:
    response = api.get("/stores", ADMIN_KEY, query_string={"limit": 201})
    assert response.status_code == 422


def test_a_clerk_is_bound_to_a_store_and_their_key_works_once_shown(api: Api) -> None:
    clerk = api.clerk()
    assert clerk["api_key"].startswith("o2o_clerk_")
    # The key authenticates (a clerk may read campaigns) but is not an admin key.
    assert api.get("/campaigns", clerk["api_key"]).status_code == 200
    assert api.get("/stores", clerk["api_key"]).status_code == 403


def test_a_clerk_for_an_unknown_store_is_a_validation_error(api: Api) -> None:
    response = api.post("/clerks", ADMIN_KEY, json={"name": "X", "store_id": "st_nope"})
    assert response.status_code == 422
    assert "store_id" in response.get_json()["error"]["details"]


def test_a_shopper_gets_a_key_that_is_stored_only_as_a_hash(api: Api, app: Flask) -> None:
    from o2o.extensions import db
    from o2o.models import ApiKey
    from o2o.tokens import hash_api_key

    shopper = api.shopper(name="Zhang Wei", phone="13800000000")
    with app.app_context():
        hashes = [k.key_hash for k in db.session.query(ApiKey).all()]
    assert hashes == [hash_api_key(shopper["api_key"])]
    assert shopper["api_key"] not in hashes


def test_only_admins_manage_stores_clerks_and_shoppers(api: Api) -> None:
    shopper = api.shopper()
    for path, body in (("/stores", {"name": "A", "city": "B"}), ("/shoppers", {"name": "A"})):
        response = api.post(path, shopper["api_key"], json=body)
        assert response.status_code == 403
        assert error_code(response) == "forbidden"
    assert api.post("/clerks", None, json={}).status_code == 401


def test_missing_required_fields_are_named(api: Api) -> None:
    for path, field in (("/stores", "city"), ("/clerks", "store_id"), ("/shoppers", "name")):
        response = api.post(path, ADMIN_KEY, json={})
        assert response.status_code == 422
        assert field in response.get_json()["error"]["details"]


def test_chinese_names_come_back_as_utf8_not_escaped(api: Api) -> None:
    response = api.post("/stores", api.admin_key, json={"name": "西湖店", "city": "杭州"})

    assert response.status_code == 201
    assert "西湖店".encode() in response.data
    assert b"\\u" not in response.data
    assert response.content_type == "application/json"
    listed = api.get("/stores", api.admin_key)
    assert "杭州".encode() in listed.data
