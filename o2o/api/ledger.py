"""Reconciliation views: orders, payments and refunds listed within the caller's scope."""

from __future__ import annotations

from typing import Any

from flask import current_app

from o2o.api.auth import current_principal, require
from o2o.api.base import Blueprint
from o2o.api.schemas import (
    OrderListArgs,
    OrderSchema,
    PaymentListArgs,
    PaymentSchema,
    RefundListArgs,
    RefundSchema,
    StatementArgs,
    StatementSchema,
    page_of,
)
from o2o.api.statement_csv import statement_csv, statement_dict
from o2o.services import ledger, statements
from o2o.services.ledger import Filters
from o2o.vocabulary import Role

blp = Blueprint("ledger", __name__, description="Lists of orders, payments and refunds")


@blp.route("/orders", methods=["GET"])
@blp.doc(operationId="listOrders")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, page_of(OrderSchema))
def list_orders(args: dict[str, Any]) -> Any:
    """List orders newest first: a shopper's own, a clerk's store's, all for an admin."""
    return ledger.list_orders(
        current_principal(), Filters.of(args), args["limit"], args.get("cursor")
    )


@blp.route("/payments", methods=["GET"])
@blp.doc(operationId="listPayments")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.arguments(PaymentListArgs, location="query")
@blp.response(200, page_of(PaymentSchema))
def list_payments(args: dict[str, Any]) -> Any:
    """List payments newest first, within the caller's orders (or those they paid)."""
    return ledger.list_payments(
        current_principal(), Filters.of(args), args["limit"], args.get("cursor")
    )


@blp.route("/refunds", methods=["GET"])
@blp.doc(operationId="listRefunds")
@require(Role.ADMIN, Role.CLERK, Role.SHOPPER)
@blp.arguments(RefundListArgs, location="query")
@blp.response(200, page_of(RefundSchema))
def list_refunds(args: dict[str, Any]) -> Any:
    """List refunds newest first, of the payments the caller may see."""
    return ledger.list_refunds(
        current_principal(), Filters.of(args), args["limit"], args.get("cursor")
    )


@blp.route("/stores/<store_id>/statement", methods=["GET"])
@blp.doc(
    operationId="getStoreStatement",
    responses={
        "200": {
            "description": "The statement: JSON, or with `format=csv` CSV.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Statement"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
@require(Role.ADMIN, Role.CLERK)
@blp.arguments(StatementArgs, location="query")
@blp.response(200, StatementSchema)
def store_statement(args: dict[str, Any], store_id: str) -> Any:
    """A store's day statement: its payments and refunds on a local day, with totals."""
    statement = statements.day_statement(current_principal(), store_id, args["date"])
    if args["format"] != "csv":
        return statement_dict(statement)
    filename = f"statement-{store_id}-{statement.date.isoformat()}.csv"
    return current_app.response_class(
        statement_csv(statement),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
