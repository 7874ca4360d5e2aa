"""Each rule said twice, in Python and in SQL, says the same thing: on SQLite and PostgreSQL,
for generated rows and times, the times drawn around one anchor so that equality edges
(a microsecond, a second, whole days apart) are hit, not just passed by."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, select

from o2o.extensions import db
from o2o.models import (
    Campaign,
    Coupon,
    Order,
    Shopper,
    days_later,
    sql_moment,
    table,
)
from o2o.vocabulary import CampaignStatus, Channel, CouponStatus, OrderStatus, Reason


def column_values(obj: Any) -> dict[str, Any]:
    """The row a model object stands for, for a Core INSERT (unset columns take defaults)."""
    values = {column.key: getattr(obj, column.key) for column in table(type(obj)).columns}
    return {key: value for key, value in values.items() if value is not None}


TWIN_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    # one app and one connection per test, the rows of each example rolled back
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)

ANCHORS = (
    datetime(2030, 6, 15, 12, 0, 0, 500000, tzinfo=UTC),
    datetime(2028, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),  # a leap day follows
    datetime(2030, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # a year ends
    datetime(2031, 1, 1, tzinfo=UTC),
)
LATE = ANCHORS[1]  # 23:59:59.999999, where SQLite's date() would round into the next day
NUDGES = (
    timedelta(0),
    timedelta(microseconds=1),
    -timedelta(microseconds=1),
    timedelta(seconds=1),
    -timedelta(seconds=1),
)
# claim_blockers() lists its reasons in this order; the SQL twin keeps it.
CLAIM_REASONS = [
    Reason.CAMPAIGN_NOT_ACTIVE,
    Reason.CLAIM_NOT_STARTED,
    Reason.CLAIM_ENDED,
    Reason.CAMPAIGN_EXPIRED,
    Reason.CAMPAIGN_EXHAUSTED,
    Reason.COUPON_WOULD_NEVER_BE_VALID,
]
# The order statuses that decide whether a reservation has lapsed.
LAPSING = (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED)
# The same instant is sometimes written in another offset: binding must normalise it.
OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5)))


def near(anchor: datetime) -> st.SearchStrategy[datetime]:
    """`anchor` give or take whole days and a nudge, in some offset."""
    return st.builds(
        lambda days, nudge, tz: (anchor + timedelta(days=days) + nudge).astimezone(tz),
        st.integers(-3, 4),
        st.sampled_from(NUDGES),
        st.sampled_from(OFFSETS),
    )


def ordered(start: datetime | None, end: datetime | None) -> tuple[Any, Any]:
    """An optional start and an optional end, the start before the end when both are given
    (as the API requires of claim and validity windows)."""
    if start is not None and end is not None and start >= end:
        return (end, start) if end < start else (start, None)
    return start, end


@st.composite
def campaigns_and_times(draw: st.DrawFn) -> tuple[Campaign, datetime]:
    """A campaign as the API accepts it, and a time to ask about it. Mostly active and within
    budget, so that the last rule, asked only when no other blocks, is reached; valid_until
    is often the end of the wait after claiming now, give or take a nudge."""
    moments = near(draw(st.sampled_from(ANCHORS)))
    now = draw(moments)
    wait = draw(st.integers(0, 5) | st.just(3650))
    wait_ends = st.sampled_from(NUDGES).map(lambda nudge: now + timedelta(days=wait) + nudge)
    claim_starts_at, claim_ends_at = ordered(draw(st.none() | moments), draw(st.none() | moments))
    valid_from, valid_until = ordered(
        draw(st.none() | moments), draw(wait_ends | moments | st.none())
    )
    days = st.integers(1, 5) | st.just(3650)
    valid_days_after_claim = draw(st.none() | days)
    if valid_until is None and valid_days_after_claim is None:
        valid_days_after_claim = draw(days)  # the API wants one of the two
    total_quantity = draw(st.integers(1, 3))
    campaign = Campaign(
        id="cmp_twin",
        name="twin",
        discount_type="amount_off",
        amount_off=100,
        min_spend=0,
        total_quantity=total_quantity,
        claimed_count=draw(st.integers(0, total_quantity - 1) | st.just(total_quantity)),
        redeemed_count=0,
        per_shopper_limit=draw(st.integers(1, 3)),
        claim_starts_at=claim_starts_at,
        claim_ends_at=claim_ends_at,
        valid_from=valid_from,
        valid_until=valid_until,
        valid_days_after_claim=valid_days_after_claim,
        wait_days_after_claim=wait,
        store_ids=None,
        channels=list(Channel),
        restore_on_refund=True,
        status=draw(st.just(CampaignStatus.ACTIVE) | st.sampled_from(CampaignStatus)),
        created_at=ANCHORS[0],
    )
    return campaign, now


@st.composite
def coupons_and_times(draw: st.DrawFn) -> tuple[Coupon, Order | None, datetime]:
    """A coupon in any status, maybe held by an order in any status (or naming an order that
    does not exist), and a time to ask about it."""
    moments = near(draw(st.sampled_from(ANCHORS)))
    holder = draw(st.sampled_from(["none", "order", "missing"]))
    order = None
    if holder == "order":
        order = Order(
            id="ord_twin",
            channel=Channel.IN_STORE,
            amount=1000,
            discount_amount=100,
            payable_amount=900,
            status=draw(st.sampled_from(LAPSING) | st.sampled_from(OrderStatus)),
            created_at=ANCHORS[0],
            expires_at=draw(moments),
        )
    coupon = Coupon(
        code="CPNTWIN",
        campaign_id="cmp_base",
        shopper_id="shp_base",
        claim_seq=1,
        # a coupon named by an order is mostly reserved by it, but any status is tried
        status=draw(
            st.sampled_from(CouponStatus)
            if holder == "none"
            else st.just(CouponStatus.RESERVED) | st.sampled_from(CouponStatus)
        ),
        claim_channel="app",
        claimed_at=ANCHORS[0],
        valid_from=draw(moments),
        valid_until=draw(moments),
        order_id={"none": None, "order": "ord_twin", "missing": "ord_gone"}[holder],
    )
    coupon.holding_order = order
    return coupon, order, draw(moments)


@pytest.fixture
def conn(app_factory: Any) -> Iterator[Connection]:
    """A connection to a fresh schema on each database, holding a shopper and a campaign."""
    app = app_factory()
    with app.app_context(), db.engine.connect() as connection:
        base = Campaign(
            id="cmp_base",
            name="base",
            discount_type="amount_off",
            total_quantity=10,
            claimed_count=0,
            channels=list(Channel),
            valid_days_after_claim=7,
            created_at=ANCHORS[0],
        )
        connection.execute(insert(table(Campaign)).values(column_values(base)))
        shopper = Shopper(id="shp_base", name="twin", created_at=ANCHORS[0])
        connection.execute(insert(table(Shopper)).values(column_values(shopper)))
        connection.commit()
        yield connection


def _insert(conn: Connection, *objs: Any) -> None:
    """Insert the rows, and note them: a failing example is then reported readably."""
    for obj in objs:
        note(f"{type(obj).__name__}: {column_values(obj)}")
        conn.execute(insert(table(type(obj))).values(column_values(obj)))


def _campaign(now: datetime, **fields: Any) -> tuple[Campaign, datetime]:
    """An explicit example for test_claim_blockers_and_claim_blockers_sql_agree."""
    defaults: dict[str, Any] = {
        "id": "cmp_twin",
        "name": "twin",
        "discount_type": "amount_off",
        "total_quantity": 1,
        "claimed_count": 0,
        "wait_days_after_claim": 0,
        "channels": list(Channel),
        "status": CampaignStatus.ACTIVE,
        "created_at": ANCHORS[0],
    }
    return Campaign(**{**defaults, **fields}), now


def _held(status: CouponStatus, order_status: OrderStatus, now: datetime) -> Any:
    """An explicit example for test_effective_status_and_effective_status_sql_agree: a coupon
    held by an order that expires at `now`."""
    order = Order(
        id="ord_twin",
        channel=Channel.IN_STORE,
        amount=1000,
        discount_amount=0,
        payable_amount=1000,
        status=order_status,
        created_at=ANCHORS[0],
        expires_at=now,
    )
    coupon = Coupon(
        code="CPNTWIN",
        campaign_id="cmp_base",
        shopper_id="shp_base",
        claim_seq=1,
        status=status,
        claim_channel="app",
        claimed_at=ANCHORS[0],
        valid_from=ANCHORS[0],
        valid_until=now + timedelta(days=1),
        order_id=order.id,
    )
    coupon.holding_order = order
    return coupon, order, now


@given(case=campaigns_and_times())
# the wait after claiming ends exactly at valid_until, late in the day
@example(case=_campaign(LATE, valid_until=LATE + timedelta(days=2), wait_days_after_claim=2))
@example(
    case=_campaign(
        LATE,
        valid_until=LATE + timedelta(days=1, microseconds=1),
        wait_days_after_claim=1,
        valid_days_after_claim=1,
    )
)
@TWIN_SETTINGS
def test_claim_blockers_and_claim_blockers_sql_agree(
    conn: Connection, case: tuple[Campaign, datetime]
) -> None:
    campaign, now = case
    expected = campaign.claim_blockers(now)
    try:
        _insert(conn, campaign)
        predicates = Campaign.claim_blockers_sql(now)
        assert list(predicates) == CLAIM_REASONS
        row = conn.execute(
            select(*(p.label(r.value) for r, p in predicates.items())).where(
                Campaign.id == campaign.id
            )
        ).one()
        verdicts = dict(zip(predicates, row, strict=True))
        assert None not in verdicts.values(), verdicts  # a NULL would read as false in WHERE
        assert [r for r in predicates if verdicts[r]] == expected
        listed = conn.scalars(
            select(Campaign.id).where(Campaign.claimable_sql(now), Campaign.id == campaign.id)
        ).all()
        assert listed == ([campaign.id] if not expected else [])
    finally:
        conn.rollback()


@given(case=coupons_and_times())
# a reservation whose order is already written down as expired has lapsed too
@example(case=_held(CouponStatus.RESERVED, OrderStatus.EXPIRED, ANCHORS[0]))
@example(case=_held(CouponStatus.RESERVED, OrderStatus.AWAITING_PAYMENT, ANCHORS[0]))
@TWIN_SETTINGS
def test_effective_status_and_effective_status_sql_agree(
    conn: Connection, case: tuple[Coupon, Order | None, datetime]
) -> None:
    coupon, order, now = case
    try:
        _insert(conn, *([order] if order is not None else []), coupon)
        sql_status = conn.scalar(
            select(Coupon.effective_status_sql(now)).where(Coupon.code == coupon.code)
        )
        assert sql_status == coupon.effective_status(now)
        # as a filter, the way coupon listings use it
        status = coupon.effective_status(now)
        assert conn.scalars(
            select(Coupon.code).where(Coupon.effective_status_sql(now) == status)
        ).all() == [coupon.code]
        if order is not None:
            order_status = conn.scalar(
                select(Order.effective_status_sql(now)).where(Order.id == order.id)
            )
            assert order_status == order.effective_status(now)
    finally:
        conn.rollback()


@given(
    moment=st.sampled_from(ANCHORS).flatmap(near),
    days=st.integers(0, 5) | st.integers(0, 3650),
)
@example(moment=LATE, days=0)
@example(moment=LATE, days=1)
@TWIN_SETTINGS
def test_days_later_adds_whole_days_to_the_microsecond(
    conn: Connection, moment: datetime, days: int
) -> None:
    shifted = conn.scalar(select(days_later(sql_moment(moment), days)))
    assert shifted == moment + timedelta(days=days)
