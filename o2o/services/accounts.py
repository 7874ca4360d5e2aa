"""Stores, clerks, shoppers and their API keys; turning a bearer key into a principal."""

from __future__ import annotations

import hmac

from sqlalchemy import select

from o2o import clock, store
from o2o.errors import O2OError, field_error
from o2o.extensions import db
from o2o.models import ApiKey, Clerk, Shopper, Store
from o2o.principal import Principal
from o2o.services.pagination import Page, paginate
from o2o.tokens import hash_api_key, new_api_key, new_id
from o2o.vocabulary import ErrorCode, Role

ENV_ADMIN_KEY_ID = "env_admin"


def authenticate(key: str | None, env_admin_key: str | None) -> Principal:
    """The principal a bearer key stands for; 401 for no key or an unknown one."""
    if not key:
        raise O2OError(ErrorCode.UNAUTHENTICATED)
    if env_admin_key and hmac.compare_digest(key.encode(), env_admin_key.encode()):
        return Principal(role=Role.ADMIN, key_id=ENV_ADMIN_KEY_ID)
    row = db.session.execute(
        select(ApiKey.id, ApiKey.role, ApiKey.clerk_id, ApiKey.shopper_id, Clerk.store_id)
        .outerjoin(Clerk, Clerk.id == ApiKey.clerk_id)
        .where(ApiKey.key_hash == hash_api_key(key))
    ).first()
    if row is None:
        raise O2OError(ErrorCode.UNAUTHENTICATED, "This API key is not known.")
    return Principal(
        role=Role(row.role),
        key_id=row.id,
        clerk_id=row.clerk_id,
        store_id=row.store_id,
        shopper_id=row.shopper_id,
    )


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
        created_at=clock.now(),
    )
    db.session.add(api_key)
    return api_key


def create_store(name: str, city: str, address: str | None = None) -> Store:
    """Open a store."""
    opened = Store(id=new_id("st"), name=name, city=city, address=address, created_at=clock.now())
    db.session.add(opened)
    store.commit()
    return opened


def list_stores(limit: int, cursor: str | None) -> Page[Store]:
    """Stores, newest first."""
    return paginate(select(Store), Store.created_at, Store.id, limit, cursor)


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
