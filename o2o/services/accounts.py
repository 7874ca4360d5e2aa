"""Stores, clerks, shoppers and their API keys; turning a bearer key into a principal."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, case, select, update

from o2o import clock, store
from o2o.errors import O2OError, field_error
from o2o.extensions import db
from o2o.models import ApiKey, Clerk, Shopper, Store, sql_moment
from o2o.principal import Principal
from o2o.services.pagination import Page, paginate
from o2o.tokens import hash_api_key, new_api_key, new_id
from o2o.vocabulary import ErrorCode, Role

ENV_ADMIN_KEY_ID = "env_admin"


def authenticate(key: str | None, env_admin_key: str | None) -> tuple[Principal, datetime | None]:
    """The principal a bearer key stands for, and when the key stops working (None: not
    scheduled to); 401 for no key, an unknown one, or one revoked or past its expiry."""
    if not key:
        raise O2OError(ErrorCode.UNAUTHENTICATED)
    if env_admin_key and hmac.compare_digest(key.encode(), env_admin_key.encode()):
        return Principal(role=Role.ADMIN, key_id=ENV_ADMIN_KEY_ID), None
    row = db.session.execute(
        select(
            ApiKey.id,
            ApiKey.role,
            ApiKey.clerk_id,
            ApiKey.shopper_id,
            ApiKey.expires_at,
            Clerk.store_id,
        )
        .outerjoin(Clerk, Clerk.id == ApiKey.clerk_id)
        .where(ApiKey.key_hash == hash_api_key(key), ApiKey.live_sql(clock.real_now()))
    ).first()
    if row is None:  # a revoked or expired key reads exactly as an unknown one
        raise O2OError(ErrorCode.UNAUTHENTICATED, "This API key is not known.")
    principal = Principal(
        role=Role(row.role),
        key_id=row.id,
        clerk_id=row.clerk_id,
        store_id=row.store_id,
        shopper_id=row.shopper_id,
    )
    return principal, row.expires_at


def add_api_key(
    role: Role, key: str, *, clerk_id: str | None = None, shopper_id: str | None = None
) -> ApiKey:
    """Stage a key row (hash only) in the current transaction."""
    api_key = ApiKey(
        id=new_id("key"),
        key_hash=hash_api_key(key),
        role=role,
        clerk_id=clerk_id,
        shopper_id=shopper_id,
        created_at=clock.real_now(),  # a key's times are real time (see ApiKey)
    )
    db.session.add(api_key)
    return api_key


@dataclass(frozen=True)
class IssuedKey:
    """A new key in clear (shown once), and until when the keys it replaces keep working."""

    api_key: str
    key_id: str
    created_at: datetime
    previous_key_expires_at: datetime | None


def _owner(role: Role, owner_id: str) -> ColumnElement[bool]:
    """The key rows of one clerk or shopper (404 when there is no such person)."""
    model, column = (Clerk, ApiKey.clerk_id) if role == Role.CLERK else (Shopper, ApiKey.shopper_id)
    if db.session.get(model, owner_id) is None:
        raise O2OError(ErrorCode.NOT_FOUND, f"No {role} has this id.")
    return column == owner_id


def rotate_key(role: Role, owner_id: str) -> IssuedKey:
    """Issue a clerk or shopper a new key; their live keys keep working for the configured
    overlap (O2O_KEY_OVERLAP_SECONDS, 0: they stop now)."""
    owned = _owner(role, owner_id)
    now = clock.real_now()
    stops = now + timedelta(seconds=current_app.config["O2O_KEY_OVERLAP_SECONDS"])
    # A key already due to stop sooner (an earlier rotation's) keeps its own, earlier end.
    retired: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(ApiKey)
        .where(owned, ApiKey.live_sql(now))
        .values(
            expires_at=case((ApiKey.expires_at < sql_moment(stops), ApiKey.expires_at), else_=stops)
        )
        .execution_options(synchronize_session=False)
    )
    key = new_api_key(role)
    row = add_api_key(role, key, **{f"{role}_id": owner_id})
    store.commit()
    return IssuedKey(key, row.id, row.created_at, stops if retired.rowcount else None)


def revoke_keys(role: Role, owner_id: str) -> int:
    """Revoke every key of a clerk or shopper at once; how many were still unrevoked."""
    owned = _owner(role, owner_id)
    revoked: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(ApiKey)
        .where(owned, ApiKey.revoked_at.is_(None))
        .values(revoked_at=clock.real_now())
        .execution_options(synchronize_session=False)
    )
    store.commit()
    return revoked.rowcount


def create_store(name: str, city: str, address: str | None = None) -> Store:
    """Open a store."""
    opened = Store(id=new_id("st"), name=name, city=city, address=address, created_at=clock.now())
    db.session.add(opened)
    store.commit()
    return opened


def list_stores(limit: int, cursor: str | None) -> Page[Store]:
    """Stores, newest first."""
    return paginate(select(Store), Store.created_at, Store.id, limit, cursor)


def get_store(principal: Principal, store_id: str) -> Store:
    """A store, for an admin or one of its own clerks; a clerk asking for any other id gets
    403 before anything is looked up, so the answer says nothing of whether it exists."""
    if principal.role == Role.CLERK and store_id != principal.store_id:
        raise O2OError(ErrorCode.FORBIDDEN, "A clerk reads only their own store.")
    found = db.session.get(Store, store_id)
    if found is None:
        raise O2OError(ErrorCode.NOT_FOUND, "No store has this id.")
    return found


def list_clerks(store_id: str | None, limit: int, cursor: str | None) -> Page[Clerk]:
    """Clerks newest first, optionally of one store (an unknown store: an empty list)."""
    stmt = select(Clerk)
    if store_id is not None:
        stmt = stmt.where(Clerk.store_id == store_id)
    return paginate(stmt, Clerk.created_at, Clerk.id, limit, cursor)


def list_shoppers(limit: int, cursor: str | None) -> Page[Shopper]:
    """Shoppers, newest first."""
    return paginate(select(Shopper), Shopper.created_at, Shopper.id, limit, cursor)


def _register(person: Clerk | Shopper, role: Role) -> str:
    """Add a clerk or shopper with a fresh key; the clear key is returned, only its hash kept."""
    key = new_api_key(role)
    db.session.add(person)
    db.session.flush()
    add_api_key(role, key, **{f"{role}_id": person.id})
    store.commit()
    return key


def create_clerk(name: str, store_id: str) -> tuple[Clerk, str]:
    """Hire a clerk for a store; returns the clerk and their API key (shown once)."""
    if db.session.get(Store, store_id) is None:
        raise field_error("store_id", "No store has this id.")
    clerk = Clerk(id=new_id("clk"), name=name, store_id=store_id, created_at=clock.now())
    return clerk, _register(clerk, Role.CLERK)


def create_shopper(name: str, phone: str | None = None) -> tuple[Shopper, str]:
    """Register a shopper; returns the shopper and their API key (shown once)."""
    shopper = Shopper(id=new_id("shp"), name=name, phone=phone, created_at=clock.now())
    return shopper, _register(shopper, Role.SHOPPER)
