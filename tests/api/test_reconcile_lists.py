"""Lists that reconcile: orders, payments and refunds within each caller's scope, their filters
and pagination; a campaign's coupons; a store, clerks and shoppers for the admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import ADMIN_KEY, ORDER_TTL, Api, error_code

LISTS = ("/orders", "/payments", "/refunds")


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """Two stores with a clerk each, two shoppers; a paid sale at each store, each partly
    refunded, and an online order of Bob's still awaiting payment."""
    clerk_a, clerk_b = api.clerk(), api.clerk()
    alice, bob = api.shopper(), api.shopper()
    code = api.coupon(alice)["code"]
    order_a = api.order(clerk_a, token=api.qr_token(alice, code))
    pay_a = api.pay(order_a, alice, clerk_a).get_json()
    refund_a = api.refund(pay_a["id"], clerk_a["api_key"], amount=100)
    order_b = api.order(clerk_b)  # no coupon: Bob is known once his payment code pays it
    pay_b = api.pay(order_b, bob, clerk_b).get_json()
    refund_b = api.refund(pay_b["id"], amount=200)
    online = api.online_order(bob)
    return {
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "alice": alice,
        "bob": bob,
        "orders": {"a": order_a["id"], "b": order_b["id"], "online": online["id"]},
        "payments": {"a": pay_a["id"], "b": pay_b["id"]},
        "refunds": {"a": refund_a["id"], "b": refund_b["id"]},
    }


def tick(api: Api) -> dict[str, Any]:
    """Move the (frozen) sandbox clock one second on, so the next row is newer."""
    return {"now": api.clock(advance_seconds=1)}


def ids(api: Api, path: str, key: str = ADMIN_KEY, **params: Any) -> list[str]:
    return [item["id"] for item in api.listed(path, key, **params)]


def seen(api: Api, key: str, **params: Any) -> dict[str, set[str]]:
    """What the caller finds in each of the three lists."""
    return {path: set(ids(api, path, key, **params)) for path in LISTS}


def of(world: dict[str, Any], *which: str) -> dict[str, set[str]]:
    """The ids of the world's orders, payments and refunds named by `which` (a, b, online)."""
    return {
        f"/{kind}": {world[kind][name] for name in which if name in world[kind]}
        for kind in ("orders", "payments", "refunds")
    }


# -- scope by role ------------------------------------------------------------------------------


def test_a_shopper_lists_only_their_own_orders_payments_and_refunds(
    api: Api, world: dict[str, Any]
) -> None:
    assert seen(api, world["alice"]["api_key"]) == of(world, "a")
    assert seen(api, world["bob"]["api_key"]) == of(world, "b", "online")
    assert seen(api, api.shopper()["api_key"]) == of(world)


def test_a_clerk_lists_only_their_stores_orders_payments_and_refunds(
    api: Api, world: dict[str, Any]
) -> None:
    assert seen(api, world["clerk_a"]["api_key"]) == of(world, "a")
    assert seen(api, world["clerk_b"]["api_key"]) == of(world, "b")
    assert seen(api, api.clerk()["api_key"]) == of(world)


def test_an_admin_lists_every_order_payment_and_refund(api: Api, world: dict[str, Any]) -> None:
    assert seen(api, ADMIN_KEY) == of(world, "a", "b", "online")


def test_a_filter_naming_another_shopper_or_store_finds_nothing_as_an_unknown_id_does(
    api: Api, world: dict[str, Any]
) -> None:
    alice, clerk_a = world["alice"]["api_key"], world["clerk_a"]["api_key"]
    store_b = api.get(f"/orders/{world['orders']['b']}", ADMIN_KEY).get_json()["store_id"]
    for path in LISTS:
        foreign = api.get(path, alice, query_string={"shopper_id": world["bob"]["id"]})
        unknown = api.get(path, alice, query_string={"shopper_id": "shp_nosuchshopper"})
        assert foreign.status_code == unknown.status_code == 200
        assert foreign.get_json() == unknown.get_json() == {"items": [], "next_cursor": None}
        foreign = api.get(path, clerk_a, query_string={"store_id": store_b})
        unknown = api.get(path, clerk_a, query_string={"store_id": "st_nosuchstore"})
        assert foreign.get_json() == unknown.get_json() == {"items": [], "next_cursor": None}
    assert seen(api, alice, shopper_id=world["alice"]["id"]) == of(world, "a")


# -- filters ------------------------------------------------------------------------------------


def test_the_store_and_shopper_filters_of_payments_and_refunds_go_through_the_order(
    api: Api, world: dict[str, Any]
) -> None:
    store_a = api.get(f"/orders/{world['orders']['a']}", ADMIN_KEY).get_json()["store_id"]
    assert seen(api, ADMIN_KEY, store_id=store_a) == of(world, "a")
    assert seen(api, ADMIN_KEY, shopper_id=world["bob"]["id"]) == of(world, "b", "online")
    assert seen(api, ADMIN_KEY, store_id=store_a, shopper_id=world["bob"]["id"]) == of(world)


def test_the_status_filter_keeps_the_status_each_list_shows(
    api: Api, world: dict[str, Any]
) -> None:
    assert set(ids(api, "/orders", status="partially_refunded")) == {
        world["orders"]["a"],
        world["orders"]["b"],
    }
    assert ids(api, "/orders", status="awaiting_payment") == [world["orders"]["online"]]
    assert set(ids(api, "/payments", status="succeeded")) == set(world["payments"].values())
    assert ids(api, "/payments", status="failed") == []
    assert set(ids(api, "/refunds", status="succeeded")) == set(world["refunds"].values())
    bob = world["bob"]["api_key"]
    assert ids(api, "/orders", bob, status="awaiting_payment") == [world["orders"]["online"]]


def test_an_unpaid_order_past_its_lifetime_is_listed_as_expired(api: Api) -> None:
    shopper = api.shopper()
    order = api.online_order(shopper)
    api.clock(advance_seconds=ORDER_TTL)
    assert ids(api, "/orders", status="awaiting_payment") == []
    listed = api.listed("/orders", ADMIN_KEY, status="expired")
    assert [(o["id"], o["status"]) for o in listed] == [(order["id"], "expired")]


def test_created_after_and_created_before_are_exclusive_bounds(api: Api) -> None:
    api.clock(now="2026-12-01T08:00:00+08:00")
    shopper = api.shopper()
    made = []
    for _ in range(3):
        order = api.online_order(shopper)
        made.append(order)
        api.pay(order, shopper)
        api.clock(advance_seconds=10)
    first, middle, last = (order["created_at"] for order in made)
    assert first == "2026-12-01T00:00:00Z"
    ids_of = [order["id"] for order in made]
    assert ids(api, "/orders", created_after=first) == ids_of[:0:-1]
    assert ids(api, "/orders", created_before=last) == ids_of[1::-1]
    assert ids(api, "/orders", created_after=first, created_before=last) == [ids_of[1]]
    assert ids(api, "/orders", created_after=middle, created_before=middle) == []
    # An offset is honoured: 08:00:10+08:00 is the middle order's time.
    assert len(ids(api, "/payments", created_after="2026-12-01T08:00:10+08:00")) == 1
    assert len(ids(api, "/payments", created_before="2026-12-01T08:00:10+08:00")) == 1


def test_filters_combine(api: Api, world: dict[str, Any]) -> None:
    store_b = api.get(f"/orders/{world['orders']['b']}", ADMIN_KEY).get_json()["store_id"]
    bob = world["bob"]["id"]
    later = "2999-01-01T00:00:00+08:00"
    assert ids(api, "/orders", store_id=store_b, shopper_id=bob, status="partially_refunded") == [
        world["orders"]["b"]
    ]
    assert ids(api, "/orders", store_id=store_b, status="awaiting_payment") == []
    assert ids(api, "/refunds", store_id=store_b, created_before=later) == [world["refunds"]["b"]]


# -- pagination ---------------------------------------------------------------------------------


def test_pages_walk_every_item_once_newest_first_even_when_times_are_equal(api: Api) -> None:
    api.clock(now="2026-12-01T00:00:00Z")  # frozen: every row below has the same created_at
    shopper = api.shopper()
    orders = [api.online_order(shopper) for _ in range(7)]
    payments = [api.pay(order, shopper).get_json() for order in orders]
    refunds = [api.refund(payment["id"], amount=1) for payment in payments]
    for path, made in (("/orders", orders), ("/payments", payments), ("/refunds", refunds)):
        assert {row["created_at"] for row in made} == {"2026-12-01T00:00:00Z"}
        walked = ids(api, path, limit=2)
        assert sorted(walked) == sorted(row["id"] for row in made), path  # once each
        whole = api.page(path, limit=7)
        assert whole["next_cursor"] is None
        assert walked == [row["id"] for row in whole["items"]], path  # the database's order


def test_a_cursor_keeps_its_place_while_new_rows_arrive(api: Api) -> None:
    shopper = api.shopper()
    older = []
    for _ in range(3):
        older.append(api.online_order(shopper)["id"])
        tick(api)
    page = api.page("/orders", ADMIN_KEY, limit=2)
    api.online_order(shopper)  # newer than the cursor: not on the next page
    rest = api.page("/orders", ADMIN_KEY, limit=2, cursor=page["next_cursor"])
    assert [o["id"] for o in page["items"] + rest["items"]] == older[::-1]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cursor", "not-a-cursor"),
        ("cursor", "WyIyMDI2LTEyLTAxVDAwOjAwOjAwIiwgIngiXQ"),  # a naive time inside
        ("created_after", "yesterday"),
        ("created_after", "2026-12-01T00:00:00"),  # no offset
        ("created_before", "2026-13-01T00:00:00Z"),
        ("status", "lost"),
        ("limit", "0"),
        ("limit", "201"),
        ("store_id", ""),
    ],
)
def test_a_bad_filter_or_cursor_is_a_422_naming_it(
    api: Api, path: str, name: str, value: str
) -> None:
    response = api.get(path, ADMIN_KEY, query_string={name: value})
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "validation_error"
    assert name in response.get_json()["error"]["details"]


def test_the_lists_need_a_key(api: Api) -> None:
    for path in LISTS:
        assert api.get(path).status_code == 401


# -- a campaign's coupons -----------------------------------------------------------------------


def test_an_admin_lists_a_campaigns_coupons_by_their_status_now(api: Api) -> None:
    campaign = api.campaign(per_shopper_limit=1, valid_days_after_claim=1)
    alice, bob = api.shopper(), api.shopper()
    held = api.claim(alice, campaign["id"])["code"]
    tick(api)
    free = api.claim(bob, campaign["id"])["code"]
    api.coupon(bob)  # another campaign's: not listed
    api.online_order(alice, code=held)

    def codes(**params: Any) -> list[str]:
        path = f"/campaigns/{campaign['id']}/coupons"
        return [c["code"] for c in api.listed(path, ADMIN_KEY, **params)]

    assert codes() == [free, held]
    assert codes(status="reserved") == [held]
    assert codes(status="available", limit=1) == [free]
    api.clock(advance_seconds=ORDER_TTL)  # the order lapses: its coupon reads available
    assert codes(status="available") == [free, held]
    api.clock(advance_seconds=86400)
    assert codes(status="expired") == [free, held]
    assert codes(status="available") == []


def test_a_campaigns_coupons_are_for_admins_and_an_unknown_campaign_is_a_404(api: Api) -> None:
    campaign = api.campaign()
    response = api.get("/campaigns/cmp_nosuchcampaign/coupons", ADMIN_KEY)
    assert (response.status_code, error_code(response)) == (404, "not_found")
    for key in (api.shopper()["api_key"], api.clerk()["api_key"]):
        assert api.get(f"/campaigns/{campaign['id']}/coupons", key).status_code == 403
    assert api.get(f"/campaigns/{campaign['id']}/coupons").status_code == 401


# -- stores, clerks and shoppers ----------------------------------------------------------------


def test_an_admin_lists_clerks_and_shoppers_without_their_api_keys(api: Api) -> None:
    store = api.store()
    clerks = [api.clerk(store["id"]), tick(api), api.clerk(store["id"]), tick(api), api.clerk()]
    clerks = clerks[::2]
    shoppers = [api.shopper(phone="13800000000"), tick(api), api.shopper()][::2]
    listed_clerks = api.listed("/clerks", ADMIN_KEY, limit=2)
    assert [c["id"] for c in listed_clerks] == [c["id"] for c in clerks[::-1]]
    assert set(listed_clerks[0]) == {"id", "name", "store_id", "created_at"}
    by_store = ids(api, "/clerks", store_id=store["id"])
    assert by_store == [clerks[1]["id"], clerks[0]["id"]]
    listed_shoppers = api.listed("/shoppers", ADMIN_KEY)
    assert [s["id"] for s in listed_shoppers] == [s["id"] for s in shoppers[::-1]]
    assert set(listed_shoppers[0]) == {"id", "name", "phone", "created_at"}
    assert listed_shoppers[1]["phone"] == "13800000000"


def test_clerks_and_shoppers_are_listed_for_admins_only(api: Api) -> None:
    for key in (api.clerk()["api_key"], api.shopper()["api_key"]):
        for path in ("/clerks", "/shoppers"):
            response = api.get(path, key)
            assert (response.status_code, error_code(response)) == (403, "forbidden")
    assert api.get("/clerks").status_code == api.get("/shoppers").status_code == 401


def test_a_store_reads_for_admins_and_its_own_clerks_only(api: Api) -> None:
    store = api.store(name="West Lake", address="1 Lake Rd")
    own, other = api.clerk(store["id"])["api_key"], api.clerk()["api_key"]
    assert api.get(f"/stores/{store['id']}", ADMIN_KEY).get_json() == store
    assert api.get(f"/stores/{store['id']}", own).get_json() == store
    foreign = api.get(f"/stores/{store['id']}", other)
    unknown = api.get("/stores/st_nosuchstore", other)
    assert foreign.status_code == unknown.status_code == 403  # says nothing of existence
    assert foreign.get_json() == unknown.get_json()
    assert api.get(f"/stores/{store['id']}", api.shopper()["api_key"]).status_code == 403
    assert api.get(f"/stores/{store['id']}").status_code == 401
    missing = api.get("/stores/st_nosuchstore", ADMIN_KEY)
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
