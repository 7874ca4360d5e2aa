"""Typed SQLAlchemy models. Rules live here as methods; no session, no Flask globals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    false,
    literal,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from o2o.extensions import Base
from o2o.principal import Principal
from o2o.vocabulary import (
    CAMPAIGN_TRANSITIONS,
    CampaignStatus,
    CouponEventType,
    CouponStatus,
    DiscountType,
    OrderStatus,
    PaymentFlow,
    PaymentStatus,
    Reason,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every database, always handed back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def sql_moment(moment: datetime) -> ColumnElement[datetime]:
    """A point in time bound as UTCDateTime: naive UTC, in the database's own format (on
    SQLite the text 'YYYY-MM-DD HH:MM:SS.ffffff'), so it compares exactly with stored ones."""
    return literal(moment, UTCDateTime())


class days_later(FunctionElement[datetime]):  # noqa: N801 - reads as the SQL function it is
    """SQL `moment + days` whole days, exact to the microsecond on SQLite and PostgreSQL:
    `days_later(sql_moment(now), Campaign.wait_days_after_claim)` is
    `now + timedelta(days=wait_days_after_claim)`."""

    type = UTCDateTime()
    inherit_cache = True
    name = "days_later"


@compiles(days_later)
def _days_later(element: days_later, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(
        f"days_later() is written for SQLite and PostgreSQL, not {compiler.dialect.name}"
    )


@compiles(days_later, "sqlite")
def _days_later_sqlite(element: days_later, compiler: SQLCompiler, **kw: Any) -> str:
    # Whole days change only the date part of the text 'YYYY-MM-DD HH:MM:SS.ffffff': shift the
    # date alone (date() rounds the time to milliseconds, so 23:59:59.9995 would roll over),
    # and keep ' HH:MM:SS.ffffff' as it was.
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(date(substr({moment}, 1, 10), {days} || ' days') || substr({moment}, 11))"


@compiles(days_later, "postgresql")
def _days_later_postgresql(element: days_later, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({moment} + make_interval(days => {days}))"


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Clerk(Base):
    __tablename__ = "clerks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Shopper(Base):
    __tablename__ = "shoppers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A bearer key, stored as its SHA-256; the clear key is shown once.

    Its times are real time, whatever clock the service runs on: a rotated-out key stops at
    `expires_at`, a revoked one at `revoked_at`, and moving the sandbox clock moves neither.
    """

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('admin', 'clerk', 'shopper')", name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), index=True)
    shopper_id: Mapped[str | None] = mapped_column(ForeignKey("shoppers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @classmethod
    def live_sql(cls, now: datetime) -> ColumnElement[bool]:
        """True of the key rows that still authenticate at `now` (real time)."""
        at = sql_moment(now)
        return and_(cls.revoked_at.is_(None), or_(cls.expires_at.is_(None), cls.expires_at > at))


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("claimed_count <= total_quantity", name="within_budget"),
        CheckConstraint("claimed_count >= 0", name="claimed_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    discount_type: Mapped[str] = mapped_column(String(16))
    amount_off: Mapped[int | None] = mapped_column(Integer)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    max_discount: Mapped[int | None] = mapped_column(Integer)
    exchange_price: Mapped[int | None] = mapped_column(Integer)
    exchange_item: Mapped[str | None] = mapped_column(String(200))
    min_spend: Mapped[int] = mapped_column(Integer, default=0)
    total_quantity: Mapped[int] = mapped_column(Integer)
    claimed_count: Mapped[int] = mapped_column(Integer, default=0)
    redeemed_count: Mapped[int] = mapped_column(Integer, default=0)
    per_shopper_limit: Mapped[int] = mapped_column(Integer, default=1)
    claim_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_days_after_claim: Mapped[int | None] = mapped_column(Integer)
    wait_days_after_claim: Mapped[int] = mapped_column(Integer, default=0)
    store_ids: Mapped[list[str] | None] = mapped_column(JSON)
    channels: Mapped[list[str]] = mapped_column(JSON)
    restore_on_refund: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def discount(self) -> dict[str, Any]:
        """The discount as the API shows it: only the fields of its type."""
        if self.discount_type == DiscountType.AMOUNT_OFF:
            fields: dict[str, Any] = {"amount_off": self.amount_off}
        elif self.discount_type == DiscountType.PERCENT_OFF:
            fields = {"percent_off": self.percent_off, "max_discount": self.max_discount}
        else:
            fields = {"exchange_price": self.exchange_price, "item": self.exchange_item}
        return {"type": self.discount_type, **fields, "min_spend": self.min_spend}

    def set_discount(self, discount: dict[str, Any]) -> None:
        self.discount_type = discount["type"]
        self.amount_off = discount.get("amount_off")
        self.percent_off = discount.get("percent_off")
        self.max_discount = discount.get("max_discount")
        self.exchange_price = discount.get("exchange_price")
        self.exchange_item = discount.get("item")
        self.min_spend = discount.get("min_spend", 0)

    def discount_for(self, amount: int) -> int:
        """The discount in fen on an order of `amount` fen: 0 ≤ discount ≤ amount, rounded down."""
        if amount < self.min_spend:
            return 0
        if self.discount_type == DiscountType.AMOUNT_OFF:
            off = self.amount_off or 0
        elif self.discount_type == DiscountType.PERCENT_OFF:
            off = amount * (self.percent_off or 0) // 100
            if self.max_discount is not None:
                off = min(off, self.max_discount)
        else:
            off = amount - (self.exchange_price or 0)
        return max(0, min(off, amount))

    def claim_blockers(self, now: datetime) -> list[Reason]:
        """Reason codes why a claim cannot happen now (empty when it can)."""
        reasons = []
        if self.status != CampaignStatus.ACTIVE:
            reasons.append(Reason.CAMPAIGN_NOT_ACTIVE)
        if self.claim_starts_at and now < self.claim_starts_at:
            reasons.append(Reason.CLAIM_NOT_STARTED)
        if self.claim_ends_at and now >= self.claim_ends_at:
            reasons.append(Reason.CLAIM_ENDED)
        if self.valid_until and now >= self.valid_until:
            reasons.append(Reason.CAMPAIGN_EXPIRED)
        if self.claimed_count >= self.total_quantity:
            reasons.append(Reason.CAMPAIGN_EXHAUSTED)
        if not reasons:
            start, end = self.coupon_window(now)
            if start >= end:  # the wait after claiming runs past valid_until
                reasons.append(Reason.COUPON_WOULD_NEVER_BE_VALID)
        return reasons

    @classmethod
    def claim_blockers_sql(cls, now: datetime) -> dict[Reason, ColumnElement[bool]]:
        """claim_blockers() in SQL: per reason, a predicate true (never NULL) of a campaign
        row exactly when that reason is among claim_blockers(now)."""
        reasons, never_valid = cls._claim_rules_sql(now)
        # Like the Python rule, asked only when nothing else blocks the claim.
        reasons[Reason.COUPON_WOULD_NEVER_BE_VALID] = and_(
            not_(or_(*reasons.values())), never_valid
        )
        return reasons

    @classmethod
    def claimable_sql(cls, now: datetime) -> ColumnElement[bool]:
        """`not claim_blockers(now)` in SQL: true of the campaign rows a claim could take now
        (the per-shopper limit aside)."""
        reasons, never_valid = cls._claim_rules_sql(now)
        return not_(or_(*reasons.values(), never_valid))

    @classmethod
    def _claim_rules_sql(
        cls, now: datetime
    ) -> tuple[dict[Reason, ColumnElement[bool]], ColumnElement[bool]]:
        """The first five reasons of claim_blockers(), and its empty-coupon-window test."""
        at = sql_moment(now)
        reasons: dict[Reason, ColumnElement[bool]] = {
            Reason.CAMPAIGN_NOT_ACTIVE: cls.status != CampaignStatus.ACTIVE,
            Reason.CLAIM_NOT_STARTED: and_(
                cls.claim_starts_at.is_not(None), cls.claim_starts_at > at
            ),
            Reason.CLAIM_ENDED: and_(cls.claim_ends_at.is_not(None), cls.claim_ends_at <= at),
            Reason.CAMPAIGN_EXPIRED: and_(cls.valid_until.is_not(None), cls.valid_until <= at),
            Reason.CAMPAIGN_EXHAUSTED: cls.claimed_count >= cls.total_quantity,
        }
        # coupon_window(now) is empty: valid_days_after_claim adds at least a day to its start,
        # so only valid_until can end it at or before its start, max(now + wait, valid_from).
        never_valid = and_(
            cls.valid_until.is_not(None),
            or_(
                days_later(at, cls.wait_days_after_claim) >= cls.valid_until,
                and_(cls.valid_from.is_not(None), cls.valid_from >= cls.valid_until),
            ),
        )
        return reasons, never_valid

    def coupon_window(self, claimed_at: datetime) -> tuple[datetime, datetime]:
        """When a coupon claimed at `claimed_at` may be used: relative, clipped to absolute."""
        start = claimed_at + timedelta(days=self.wait_days_after_claim or 0)
        if self.valid_from and self.valid_from > start:
            start = self.valid_from
        ends = []
        if self.valid_days_after_claim:
            ends.append(start + timedelta(days=self.valid_days_after_claim))
        if self.valid_until:
            ends.append(self.valid_until)
        return start, min(ends)

    def can_become(self, status: str) -> bool:
        return status in CAMPAIGN_TRANSITIONS[CampaignStatus(self.status)]


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        # The backstop for per_shopper_limit: the n-th coupon of a shopper can exist once.
        UniqueConstraint("campaign_id", "shopper_id", "claim_seq"),
    )

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    shopper_id: Mapped[str] = mapped_column(ForeignKey("shoppers.id"), index=True)
    claim_seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CouponStatus.AVAILABLE)
    claim_channel: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    store_id: Mapped[str | None] = mapped_column(String(32))
    redeemed_by: Mapped[str | None] = mapped_column(String(32))
    redeemed_flow: Mapped[str | None] = mapped_column(String(16))
    void_reason: Mapped[str | None] = mapped_column(String(255))  # an admin's, when voided

    campaign: Mapped[Campaign] = relationship(lazy="joined", innerjoin=True)
    # The order that holds or spent the coupon (loaded only when a reservation is checked).
    holding_order: Mapped[Order | None] = relationship(
        primaryjoin="foreign(Coupon.order_id) == Order.id", viewonly=True, lazy="select"
    )

    def effective_status(self, now: datetime) -> CouponStatus:
        """The status a reader sees, whether or not housekeeping has caught up with time:
        a reservation whose order lapsed is available again, an unused coupon past its window
        is expired. `effective_status_sql` says the same in SQL."""
        status = CouponStatus(self.status)
        if status == CouponStatus.RESERVED and self.holding_order is not None:
            if self.holding_order.effective_status(now) == OrderStatus.EXPIRED:
                status = CouponStatus.AVAILABLE
        if status == CouponStatus.AVAILABLE and now >= self.valid_until:
            return CouponStatus.EXPIRED
        return status

    @staticmethod
    def effective_status_sql(now: datetime) -> ColumnElement[str]:
        """effective_status() as a SQL expression, for filters and aggregates."""
        lapsed_hold = (
            select(Order.id)
            .where(
                Order.id == Coupon.order_id,
                Order.effective_status_sql(now) == OrderStatus.EXPIRED,
            )
            .exists()
        )
        at = sql_moment(now)
        unused = or_(
            Coupon.status == CouponStatus.AVAILABLE,
            and_(Coupon.status == CouponStatus.RESERVED, lapsed_hold),
        )
        return case(
            (and_(unused, Coupon.valid_until <= at), CouponStatus.EXPIRED),
            (unused, CouponStatus.AVAILABLE),
            else_=Coupon.status,
        )

    def use_blockers(
        self, *, amount: int, store_id: str | None, channel: str, now: datetime
    ) -> list[Reason]:
        """Reason codes why this coupon cannot take `amount` here and now (empty: it applies).

        `coupon_not_available` is about the coupon's state (reserved, redeemed, voided); the
        other reasons are about the rules of its campaign.
        """
        campaign = self.campaign
        status = self.effective_status(now)
        reasons = []
        if status == CouponStatus.EXPIRED:
            reasons.append(Reason.COUPON_EXPIRED)
        elif status != CouponStatus.AVAILABLE:
            reasons.append(Reason.COUPON_NOT_AVAILABLE)
        if now < self.valid_from:
            reasons.append(Reason.COUPON_NOT_YET_VALID)
        if campaign.status != CampaignStatus.ACTIVE:
            reasons.append(Reason.CAMPAIGN_NOT_ACTIVE)
        if campaign.store_ids and store_id not in campaign.store_ids:
            reasons.append(Reason.STORE_NOT_ELIGIBLE)
        if channel not in campaign.channels:
            reasons.append(Reason.CHANNEL_NOT_ELIGIBLE)
        if amount < campaign.min_spend:
            reasons.append(Reason.MIN_SPEND_NOT_MET)
        return reasons

    def can_be_restored(self, now: datetime) -> bool:
        """A fully refunded coupon comes back if its campaign allows it and it is still valid."""
        return self.campaign.restore_on_refund and now < self.valid_until


class CouponEvent(Base):
    """Append-only history of a coupon's state changes."""

    __tablename__ = "coupon_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    coupon_code: Mapped[str] = mapped_column(ForeignKey("coupons.code"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_role: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    store_id: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32))

    @classmethod
    def of_claim(cls, coupon: Coupon, principal: Principal) -> CouponEvent:
        """The first row of a coupon's history: claimed by this shopper when it was."""
        return cls(
            coupon_code=coupon.code,
            type=CouponEventType.CLAIMED,
            at=coupon.claimed_at,
            actor_role=principal.role,
            actor_id=principal.actor_id,
        )


class IdempotencyRecord(Base):
    """The first response to an (api key, Idempotency-Key) pair, replayed for 24 hours."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    @property
    def in_progress(self) -> bool:
        return self.response_status is None


class SandboxClock(Base):
    """The one sandbox clock row, shared by every worker and instance."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime())
    # Frozen at `now` (how it starts, and after any set or advance), or following real time.
    frozen: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Order(Base):
    """A checkout: an amount, maybe a reserved coupon, and what is left to pay."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("discount_amount >= 0 AND discount_amount <= amount", name="discount"),
        CheckConstraint("payable_amount = amount - discount_amount", name="payable"),
        Index("ix_orders_created_at_id", "created_at", "id"),  # the lists' order
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"), index=True)
    shopper_id: Mapped[str | None] = mapped_column(ForeignKey("shoppers.id"), index=True)
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"))
    amount: Mapped[int] = mapped_column(Integer)
    discount_amount: Mapped[int] = mapped_column(Integer)
    payable_amount: Mapped[int] = mapped_column(Integer)
    coupon_code: Mapped[str | None] = mapped_column(ForeignKey("coupons.code"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def effective_status(self, now: datetime) -> OrderStatus:
        """An unpaid order past its reservation lifetime reads as expired."""
        if self.status == OrderStatus.AWAITING_PAYMENT and now >= self.expires_at:
            return OrderStatus.EXPIRED
        return OrderStatus(self.status)

    @staticmethod
    def effective_status_sql(now: datetime) -> ColumnElement[str]:
        """effective_status() as a SQL expression."""
        lapsed = and_(
            Order.status == OrderStatus.AWAITING_PAYMENT, Order.expires_at <= sql_moment(now)
        )
        return case((lapsed, OrderStatus.EXPIRED), else_=Order.status)

    def is_payable(self, now: datetime) -> bool:
        return self.effective_status(now) == OrderStatus.AWAITING_PAYMENT


class PaymentCode(Base):
    """A shopper's one-time 18-digit payment code (付款码), shown at the till: kept only as its
    keyed hash (tokens.hash_payment_code), looked up by it; the clear code is shown once."""

    __tablename__ = "payment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    shopper_id: Mapped[str] = mapped_column(ForeignKey("shoppers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Payment(Base):
    """A mock WeChat Pay / Alipay / card payment of one order."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunds"),
        Index("ix_payments_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    flow: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    failure_code: Mapped[str | None] = mapped_column(String(32))
    payer_id: Mapped[str | None] = mapped_column(ForeignKey("shoppers.id"))
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"))
    # A pending mock payment settles at settles_at into its scripted outcome.
    pending_outcome: Mapped[str | None] = mapped_column(String(24))
    settles_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(lazy="joined", innerjoin=True)

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount if self.status == PaymentStatus.SUCCEEDED else 0

    def awaits_payer(self, shopper_id: str | None) -> bool:
        """A shopper_scan payment nobody has confirmed yet, of an order that has no shopper (a
        walk-in's) or is this shopper's: what the merchant QR on the till asks them to pay."""
        return (
            shopper_id is not None
            and self.flow == PaymentFlow.SHOPPER_SCAN
            and self.status == PaymentStatus.PENDING
            and self.payer_id is None
            and self.order.shopper_id in (None, shopper_id)
        )

    def seen_by_shopper(self, shopper_id: str | None) -> bool:
        """Whether this shopper may see the payment (and, for a shopper_scan one, its order):
        its payer and its order's shopper do; anyone it awaits (awaits_payer) does until a
        payer is set. The random id, shown only by the merchant QR, is what lets them in."""
        if shopper_id is None:
            return False
        return shopper_id in (self.payer_id, self.order.shopper_id) or self.awaits_payer(shopper_id)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    failure_code: Mapped[str | None] = mapped_column(String(32))  # set when status is failed
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """The outbox: one row per state change, written with it, never changed after (except
    `dispatched`, set once its webhook deliveries are queued). `data` is the changed row's
    columns as of that change, as JSON; o2o.events renders it as the API shows the resource."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_created_at_id", "created_at", "id"),
        Index(
            "ix_events_undispatched",
            "created_at",
            postgresql_where=text("NOT dispatched"),
            sqlite_where=text("NOT dispatched"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class WebhookEndpoint(Base):
    """Where events are POSTed: a URL, the event type patterns it wants, its signing secret
    (sealed, never in clear) and, for a while after a rotation, the secret it replaced."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(Text)  # a JSON list of patterns
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    # Service time: until then deliveries carry a signature under the previous secret too.
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def patterns(self) -> list[str]:
        return list(json.loads(self.events))

    def signing_secrets(self, now: datetime) -> list[str]:
        """The sealed secrets a delivery at `now` (service time) is signed with: the current
        one, then the replaced one while its overlap lasts."""
        previous, expires = self.previous_secret_sealed, self.previous_secret_expires_at
        if previous is not None and expires is not None and now < expires:
            return [self.secret_sealed, previous]
        return [self.secret_sealed]


# The channel of a delivery to a webhook endpoint; other channels are registered by the
# packages that send them (o2o.events.channels).
WEBHOOK_CHANNEL = "webhook"


class WebhookDelivery(Base):
    """One event on its way to one receiver: the body bytes every attempt sends, when the next
    attempt is due (service time) and who holds it (a lease on the real clock). Its `channel`
    says how it goes: a `webhook` delivery to its endpoint's url, signed as Standard Webhooks;
    a delivery of another channel (a WeChat Pay notification) to its own `url`, with no
    endpoint, for its `owner` (a merchant's mchid)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("endpoint_id IS NOT NULL OR url IS NOT NULL", name="destination"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_owner_created",
            "channel",
            "owner",
            "created_at",
            "id",
            postgresql_where=text("owner IS NOT NULL"),
            sqlite_where=text("owner IS NOT NULL"),
        ),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(32), default=WEBHOOK_CHANNEL, server_default=WEBHOOK_CHANNEL
    )
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    url: Mapped[str | None] = mapped_column(String(2048))  # without an endpoint: where it goes
    owner: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    attempts: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", lazy="selectin", viewonly=True
    )


class WebhookAttempt(Base):
    """One POST of a delivery and what came back: a status code, or the error instead."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())  # service time
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # its first 1 KiB
    error: Mapped[str | None] = mapped_column(Text)


# -- the WeChat Pay APIv3 facade (o2o/wechatpay/): who may call /v3/, and what its ids map to


class WechatPlatform(Base):
    """The installation's WeChat Pay platform identity, made once and kept: its private key
    (sealed), its certificate and serial (certificate mode) and its public key id (public-key
    mode); and the certificate authority that signs the TLS certificate of the zero-change route."""

    __tablename__ = "wechat_platform"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    private_key_sealed: Mapped[str] = mapped_column(Text)
    certificate: Mapped[str] = mapped_column(Text)
    serial_no: Mapped[str] = mapped_column(String(40))
    public_key_id: Mapped[str] = mapped_column(String(64))
    ca_private_key_sealed: Mapped[str] = mapped_column(Text)
    ca_certificate: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WechatMerchant(Base):
    """A WeChat Pay merchant (直连商户) whose SDK may call /v3/: the stores it sells in, the
    public key its requests are verified with, and its APIv3 key (sealed)."""

    __tablename__ = "wechat_merchants"
    __table_args__ = (
        CheckConstraint("mode IN ('certificate', 'public_key')", name="mode"),
        Index("ix_wechat_merchants_created_at", "created_at", "mchid"),
    )

    mchid: Mapped[str] = mapped_column(String(32), primary_key=True)
    appid: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    store_ids: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16))
    merchant_public_key: Mapped[str] = mapped_column(Text)
    cert_serial_no: Mapped[str] = mapped_column(String(40))
    apiv3_key_sealed: Mapped[str] = mapped_column(Text)
    coupon_notify_url: Mapped[str | None] = mapped_column(String(2048))  # busifavor callbacks
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WechatNonce(Base):
    """A request nonce a merchant used, kept while its timestamp is acceptable: a second
    request with it is a replay."""

    __tablename__ = "wechat_nonces"

    mchid: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # real time


class WechatOpenid(Base):
    """A shopper's openid under one appid: derived (protocol.openid), kept once shown so a
    merchant's openid finds its shopper."""

    __tablename__ = "wechat_openids"
    __table_args__ = (UniqueConstraint("appid", "shopper_id"),)

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    appid: Mapped[str] = mapped_column(String(32))
    shopper_id: Mapped[str] = mapped_column(ForeignKey("shoppers.id"))


class WechatTrade(Base):
    """A merchant's `out_trade_no` and this service's order (and payment) behind it. The trade
    state is read from the order and the payment; nothing about the money is kept twice."""

    __tablename__ = "wechat_trades"
    __table_args__ = (UniqueConstraint("mchid", "out_trade_no"),)

    transaction_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mchid: Mapped[str] = mapped_column(ForeignKey("wechat_merchants.mchid"))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    appid: Mapped[str] = mapped_column(String(32))
    trade_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(127))
    attach: Mapped[str | None] = mapped_column(String(128))
    notify_url: Mapped[str | None] = mapped_column(String(2048))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), index=True)
    openid: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))  # the sandbox outcome its payment takes
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(lazy="joined", innerjoin=True)
    payment: Mapped[Payment | None] = relationship(lazy="joined")


class WechatRefund(Base):
    """A merchant's `out_refund_no` and this service's refund behind it."""

    __tablename__ = "wechat_refunds"
    __table_args__ = (UniqueConstraint("mchid", "out_refund_no"),)

    refund_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mchid: Mapped[str] = mapped_column(ForeignKey("wechat_merchants.mchid"))
    out_refund_no: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(ForeignKey("wechat_trades.transaction_id"))
    refund_row_id: Mapped[str] = mapped_column(ForeignKey("refunds.id"), unique=True)
    notify_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    trade: Mapped[WechatTrade] = relationship(lazy="joined", innerjoin=True)
    refund: Mapped[Refund] = relationship(lazy="joined", innerjoin=True)


class WechatOutcome(Base):
    """A sandbox outcome chosen for a merchant's next payment (or the one of an out_trade_no)
    through POST /sandbox/outcomes: taken, and deleted, by the payment it applies to."""

    __tablename__ = "wechat_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mchid: Mapped[str] = mapped_column(ForeignKey("wechat_merchants.mchid"), index=True)
    out_trade_no: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WechatStock(Base):
    """A merchant coupon stock (商家券批次): a merchant's `stock_id` and the ordinary campaign of
    this service behind it, with what WeChat shows of it that a campaign does not hold."""

    __tablename__ = "wechat_stocks"
    __table_args__ = (
        UniqueConstraint("mchid", "out_request_no"),
        Index("ix_wechat_stocks_mchid_created_at", "mchid", "created_at"),
    )

    stock_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    mchid: Mapped[str] = mapped_column(ForeignKey("wechat_merchants.mchid"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    out_request_no: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))  # the body it was created with
    goods_name: Mapped[str] = mapped_column(String(64))
    stock_type: Mapped[str] = mapped_column(String(16))
    coupon_code_mode: Mapped[str] = mapped_column(String(20))
    use_method: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(64))
    display: Mapped[dict[str, Any]] = mapped_column(JSON)  # shown back as given, never read
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(lazy="joined", innerjoin=True)


class WechatBusifavorRequest(Base):
    """A merchant's request number of a merchant-coupon operation (use_request_no, …) and the
    answer it got: the same number again gets the same answer, committed with the change."""

    __tablename__ = "wechat_busifavor_requests"
    __table_args__ = (UniqueConstraint("mchid", "kind", "request_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mchid: Mapped[str] = mapped_column(ForeignKey("wechat_merchants.mchid"))
    kind: Mapped[str] = mapped_column(String(16))  # use, return, deactivate, associate, …
    request_no: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(32), index=True)  # the coupon code or stock id
    out_trade_no: Mapped[str | None] = mapped_column(String(32))  # associate / disassociate
    answer: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def table(model: type[Base]) -> Table:
    """A model's Core table, for hot-path statements that need no ORM bookkeeping."""
    return cast(Table, model.__table__)
