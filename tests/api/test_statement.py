"""GET /stores/{id}/statement: a store's local day of settled money, whose totals add up."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.hostile import assert_envelope
from tests.builders import ADMIN_KEY, Api, error_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "2026-03-10"
# 23:58 on the 9th in Hangzhou; 00:01 on the 10th (still the 9th in UTC); 10:00 on the 10th
LATE_ON_THE_9TH = "2026-03-09T15:58:00Z"
JUST_AFTER_MIDNIGHT = "2026-03-09T16:01:00Z"
MORNING = "2026-03-10T02:00:00Z"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_day(text: str) -> date:
    return moment(text).astimezone(SHANGHAI).date()


def paid(api: Api, response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def shopper_scan(api: Api, clerk: dict[str, Any], shopper: dict[str, Any]) -> dict[str, Any]:
    order = api.order(clerk, 25000)
    pending = paid(
        api,
        api.post(
            f"/orders/{order['id']}/payments",
            clerk["api_key"],
            json={"method": "alipay", "flow": "shopper_scan"},
        ),
    )
    confirmed = api.post(f"/payments/{pending['id']}/confirm", shopper["api_key"], json={})
    assert confirmed.status_code == 200, confirmed.get_json()
    result: dict[str, Any] = confirmed.get_json()
    return result


@pytest.fixture
def day(api: Api) -> dict[str, Any]:
    """A store's 10 March 2026 in Hangzhou: payments by three methods and flows, partial and
    full refunds, a declined attempt, a payment late on the 9th and another store's sales."""
    store = api.store()
    clerk = api.clerk(store["id"])
    other_clerk = api.clerk()
    shopper = api.shopper()

    api.clock(now=LATE_ON_THE_9TH)
    yesterday = paid(api, api.pay(api.order(clerk, 10000), shopper, clerk))

    api.clock(now=JUST_AFTER_MIDNIGHT)
    coupon = api.coupon(shopper)["code"]
    with_coupon = api.order(clerk, 39900, api.qr_token(shopper, coupon))
    after_midnight = paid(api, api.pay(with_coupon, shopper, clerk, method="wechat_pay"))

    api.clock(now=MORNING)
    card = paid(api, api.pay(api.order(clerk, 12345), shopper, clerk, method="card"))
    alipay = shopper_scan(api, clerk, shopper)
    online_order = api._created(
        "/orders", {"amount": 8800, "store_id": store["id"]}, key=shopper["api_key"]
    )
    online = paid(api, api.pay(online_order, shopper, method="wechat_pay"))
    declined = api.pay(api.order(clerk, 5000), shopper, clerk, outcome="declined")
    assert declined.get_json()["status"] == "failed"
    paid(api, api.pay(api.order(other_clerk, 77700), shopper, other_clerk))  # another store

    api.refund(card["id"], clerk["api_key"], amount=2345)  # partial
    api.refund(alipay["id"], clerk["api_key"])  # full
    api.refund(yesterday["id"], clerk["api_key"], amount=1000)  # today, of yesterday's payment
    return {
        "store": store,
        "clerk": clerk,
        "coupon": coupon,
        "included": {after_midnight["id"], card["id"], alipay["id"], online["id"]},
        "excluded": {yesterday["id"], declined.get_json()["id"]},
        "yesterday": yesterday["id"],
    }


def statement(api: Api, store_id: str, key: str = ADMIN_KEY, **query: str) -> Any:
    return api.get(f"/stores/{store_id}/statement", key, query_string={"date": DAY, **query})


def recount(api: Api, store_id: str) -> dict[str, Any]:
    """The day's totals recounted from GET /payments and GET /refunds, by local day."""
    payments = {p["id"]: p for p in api.listed("/payments", store_id=store_id)}
    refunds = api.listed("/refunds", store_id=store_id)
    today = date.fromisoformat(DAY)
    settled = [
        p for p in payments.values() if p["succeeded_at"] and local_day(p["succeeded_at"]) == today
    ]
    made = [r for r in refunds if local_day(r["created_at"]) == today]
    totals: dict[str, Counter[str]] = {}

    def add(scope: str, kind: str, amount: int) -> None:
        counter = totals.setdefault(scope, Counter())
        counter[f"{kind}_count"] += 1
        counter[f"{kind}_amount"] += amount

    for payment in settled:
        for scope in ("all", payment["method"], payment["flow"]):
            add(scope, "paid", payment["amount"])
    for refund in made:
        payment = payments[refund["payment_id"]]
        for scope in ("all", payment["method"], payment["flow"]):
            add(scope, "refunded", refund["amount"])
    return {
        "payments": sorted(p["id"] for p in settled),
        "refunds": sorted(r["id"] for r in made),
        "totals": {
            scope: {
                "paid_count": c["paid_count"],
                "paid_amount": c["paid_amount"],
                "refunded_count": c["refunded_count"],
                "refunded_amount": c["refunded_amount"],
                "net_amount": c["paid_amount"] - c["refunded_amount"],
            }
            for scope, c in totals.items()
        },
    }


def json_totals(body: dict[str, Any]) -> dict[str, Any]:
    totals = {"all": body["totals"]}
    totals.update({t.pop("method"): t for t in body["by_method"]})
    totals.update({t.pop("flow"): t for t in body["by_flow"]})
    return totals


def test_the_json_totals_equal_a_recount_of_the_days_payments_and_refunds(
    api: Api, day: dict[str, Any]
) -> None:
    response = statement(api, day["store"]["id"], day["clerk"]["api_key"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    expected = recount(api, day["store"]["id"])
    assert sorted(p["id"] for p in body["payments"]) == expected["payments"]
    assert sorted(r["id"] for r in body["refunds"]) == expected["refunds"]
    assert json_totals(body) == expected["totals"]
    assert {p["id"] for p in body["payments"]} == day["included"]
    assert len(body["refunds"]) == 3
    assert set(expected["totals"]) == {
        "all",
        "wechat_pay",
        "card",
        "alipay",
        "clerk_scan",
        "shopper_scan",
        "online",
    }


def test_the_day_is_the_stores_local_day_in_asia_shanghai(api: Api, day: dict[str, Any]) -> None:
    body = statement(api, day["store"]["id"]).get_json()
    assert (body["date"], body["timezone"]) == (DAY, "Asia/Shanghai")
    assert (body["starts_at"], body["ends_at"]) == ("2026-03-09T16:00:00Z", "2026-03-10T16:00:00Z")
    ids = {p["id"] for p in body["payments"]}
    assert not ids & day["excluded"]  # 23:58 on the 9th, and the declined attempt
    first = body["payments"][0]
    assert (first["at"], first["coupon_code"]) == ("2026-03-09T16:01:00Z", day["coupon"])
    assert (first["amount"], first["refunded_amount"]) == (34900, 0)


def test_yesterdays_statement_has_the_late_payment_and_none_of_todays(
    api: Api, day: dict[str, Any]
) -> None:
    body = statement(api, day["store"]["id"], date="2026-03-09").get_json()
    assert [p["id"] for p in body["payments"]] == [day["yesterday"]]
    assert body["refunds"] == []
    assert body["totals"]["paid_amount"] == 10000


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_totals_equal_a_recount_too(api: Api, day: dict[str, Any]) -> None:
    response = statement(api, day["store"]["id"], day["clerk"]["api_key"], format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="statement-{day["store"]["id"]}-{DAY}.csv"'
    text = response.data.decode("utf-8")
    assert text.splitlines()[0] == (
        "type,id,time,method,flow,order_id,payment_id,coupon_code,amount_fen,refunded_fen,"
        "net_fen,paid_count,refunded_count"
    )
    rows = csv_rows(text)
    lines = [row for row in rows if row["type"] in ("payment", "refund")]
    expected = recount(api, day["store"]["id"])
    assert sorted(r["id"] for r in lines if r["type"] == "payment") == expected["payments"]
    assert sorted(r["id"] for r in lines if r["type"] == "refund") == expected["refunds"]
    totals = {}
    for row in rows:
        if row["type"] == "total":
            scope = row["method"] or row["flow"]
            totals[scope] = {
                "paid_count": int(row["paid_count"]),
                "paid_amount": int(row["amount_fen"]),
                "refunded_count": int(row["refunded_count"]),
                "refunded_amount": int(row["refunded_fen"]),
                "net_amount": int(row["net_fen"]),
            }
    assert totals == expected["totals"]
    # summing the rows' net column gives the day's net, as a spreadsheet user would
    assert sum(int(r["net_fen"]) for r in lines) == expected["totals"]["all"]["net_amount"]
    assert all(r["time"].endswith("+08:00") for r in lines)
    assert lines[0]["time"] == "2026-03-10T00:01:00+08:00"


def test_a_day_without_sales_is_all_zeros(api: Api) -> None:
    store = api.store()
    body = statement(api, store["id"]).get_json()
    assert (body["payments"], body["refunds"], body["by_method"]) == ([], [], [])
    assert body["totals"] == {
        "paid_count": 0,
        "paid_amount": 0,
        "refunded_count": 0,
        "refunded_amount": 0,
        "net_amount": 0,
    }
    rows = csv_rows(statement(api, store["id"], format="csv").data.decode())
    assert [(r["type"], r["method"], r["net_fen"]) for r in rows] == [("total", "all", "0")]


def test_another_stores_clerk_is_refused_before_any_lookup(api: Api, day: dict[str, Any]) -> None:
    other = api.clerk()
    for store_id in (day["store"]["id"], "st_doesnotexist"):
        response = statement(api, store_id, other["api_key"])
        assert (response.status_code, error_code(response)) == (403, "forbidden")


def test_shoppers_may_not_read_a_statement(api: Api, day: dict[str, Any]) -> None:
    response = statement(api, day["store"]["id"], api.shopper()["api_key"])
    assert (response.status_code, error_code(response)) == (403, "forbidden")


def test_a_statement_needs_a_key(api: Api, day: dict[str, Any]) -> None:
    assert statement(api, day["store"]["id"], "").status_code == 401


def test_an_unknown_store_is_404_for_an_admin(api: Api) -> None:
    response = statement(api, "st_doesnotexist")
    assert (response.status_code, error_code(response)) == (404, "not_found")


@pytest.mark.parametrize(
    "bad", ["", "2026-02-30", "10/03/2026", "2026-03-10T00:00:00", "0001-01-01", "9999-12-31"]
)
def test_a_bad_date_is_a_validation_error_on_date(api: Api, bad: str) -> None:
    response = statement(api, api.store()["id"], date=bad)
    error = assert_envelope(response)
    assert (response.status_code, error["code"]) == (422, "validation_error")
    assert "date" in error["details"]


def test_a_missing_date_or_an_unknown_format_is_a_validation_error(api: Api) -> None:
    store_id = api.store()["id"]
    missing = api.get(f"/stores/{store_id}/statement", ADMIN_KEY)
    assert "date" in assert_envelope(missing)["details"]
    xml = statement(api, store_id, format="xml")
    assert "format" in assert_envelope(xml)["details"]
