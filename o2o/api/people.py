"""Admin views: stores, clerks and shoppers, and their API keys."""

from __future__ import annotations

from typing import Any

from o2o.api.auth import current_principal, forget_principals, require
from o2o.api.base import Blueprint
from o2o.api.idempotency import idempotent
from o2o.api.schemas import (
    ClerkCreateSchema,
    ClerkListArgs,
    ClerkProfileSchema,
    ClerkSchema,
    EmptySchema,
    IssuedKeySchema,
    PageArgs,
    ShopperCreateSchema,
    ShopperProfileSchema,
    ShopperSchema,
    StoreCreateSchema,
    StoreSchema,
    page_of,
)
from o2o.services import accounts
from o2o.vocabulary import Role

blp = Blueprint("people", __name__, description="Stores, clerks and shoppers (admin)")


@blp.route("/stores", methods=["POST"])
@blp.doc(operationId="createStore")
@require(Role.ADMIN)
@blp.arguments(StoreCreateSchema)
@idempotent
@blp.response(201, StoreSchema)
def create_store(data: dict[str, Any]) -> Any:
    """Open a store."""
    return accounts.create_store(**data)


@blp.route("/stores", methods=["GET"])
@blp.doc(operationId="listStores")
@require(Role.ADMIN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(StoreSchema))
def list_stores(args: dict[str, Any]) -> Any:
    """List stores, newest first."""
    return accounts.list_stores(args["limit"], args.get("cursor"))


@blp.route("/stores/<store_id>", methods=["GET"])
@blp.doc(operationId="getStore")
@require(Role.ADMIN, Role.CLERK)
@blp.response(200, StoreSchema)
def get_store(store_id: str) -> Any:
    """Show a store (admins, and the store's own clerks)."""
    return accounts.get_store(current_principal(), store_id)


@blp.route("/clerks", methods=["GET"])
@blp.doc(operationId="listClerks")
@require(Role.ADMIN)
@blp.arguments(ClerkListArgs, location="query")
@blp.response(200, page_of(ClerkProfileSchema))
def list_clerks(args: dict[str, Any]) -> Any:
    """List clerks newest first, optionally of one store; never their API keys."""
    return accounts.list_clerks(args.get("store_id"), args["limit"], args.get("cursor"))


@blp.route("/shoppers", methods=["GET"])
@blp.doc(operationId="listShoppers")
@require(Role.ADMIN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ShopperProfileSchema))
def list_shoppers(args: dict[str, Any]) -> Any:
    """List shoppers newest first; never their API keys."""
    return accounts.list_shoppers(args["limit"], args.get("cursor"))


@blp.route("/clerks", methods=["POST"])
@blp.doc(operationId="createClerk")
@require(Role.ADMIN)
@blp.arguments(ClerkCreateSchema)
@idempotent
@blp.response(201, ClerkSchema)
def create_clerk(data: dict[str, Any]) -> Any:
    """Create a clerk bound to one store; the response shows their API key once."""
    clerk, key = accounts.create_clerk(data["name"], data["store_id"])
    return {"id": clerk.id, "name": clerk.name, "store_id": clerk.store_id, "api_key": key}


@blp.route("/shoppers", methods=["POST"])
@blp.doc(operationId="createShopper")
@require(Role.ADMIN)
@blp.arguments(ShopperCreateSchema)
@idempotent
@blp.response(201, ShopperSchema)
def create_shopper(data: dict[str, Any]) -> Any:
    """Register a shopper; the response shows their API key once."""
    shopper, key = accounts.create_shopper(data["name"], data.get("phone"))
    return {"id": shopper.id, "name": shopper.name, "phone": shopper.phone, "api_key": key}


@blp.route("/clerks/<clerk_id>/keys", methods=["POST"])
@blp.doc(operationId="rotateClerkKey")
@require(Role.ADMIN)
@blp.arguments(EmptySchema, required=False)
@idempotent
@blp.response(201, IssuedKeySchema)
def rotate_clerk_key(_: dict[str, Any], clerk_id: str) -> Any:
    """Issue a clerk a new API key, shown once; the old ones stop after the configured overlap."""
    issued = accounts.rotate_key(Role.CLERK, clerk_id)
    forget_principals(clerk_id=clerk_id)
    return issued


@blp.route("/clerks/<clerk_id>/keys", methods=["DELETE"])
@blp.doc(operationId="revokeClerkKeys")
@require(Role.ADMIN)
@blp.response(204)
def revoke_clerk_keys(clerk_id: str) -> Any:
    """Revoke every API key of a clerk, at once."""
    accounts.revoke_keys(Role.CLERK, clerk_id)
    forget_principals(clerk_id=clerk_id)


@blp.route("/shoppers/<shopper_id>/keys", methods=["POST"])
@blp.doc(operationId="rotateShopperKey")
@require(Role.ADMIN)
@blp.arguments(EmptySchema, required=False)
@idempotent
@blp.response(201, IssuedKeySchema)
def rotate_shopper_key(_: dict[str, Any], shopper_id: str) -> Any:
    """Issue a shopper a new API key, shown once; the old ones stop after the configured overlap."""
    issued = accounts.rotate_key(Role.SHOPPER, shopper_id)
    forget_principals(shopper_id=shopper_id)
    return issued


@blp.route("/shoppers/<shopper_id>/keys", methods=["DELETE"])
@blp.doc(operationId="revokeShopperKeys")
@require(Role.ADMIN)
@blp.response(204)
def revoke_shopper_keys(shopper_id: str) -> Any:
    """Revoke every API key of a shopper, at once."""
    accounts.revoke_keys(Role.SHOPPER, shopper_id)
    forget_principals(shopper_id=shopper_id)
