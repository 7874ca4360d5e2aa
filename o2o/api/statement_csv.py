"""A day statement as CSV, for a spreadsheet: one row per payment and refund, then the totals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from o2o.services.statements import Line, Statement, Total

# The columns, in order (docs/resources.md explains each).
COLUMNS = (
    "type",
    "id",
    "time",
    "method",
    "flow",
    "order_id",
    "payment_id",
    "coupon_code",
    "amount_fen",
    "refunded_fen",
    "net_fen",
    "paid_count",
    "refunded_count",
)
ALL = "all"


def statement_dict(statement: Statement) -> dict[str, Any]:
    """The statement as StatementSchema dumps it."""
    return {
        "store_id": statement.store_id,
        "date": statement.date,
        "timezone": statement.timezone,
        "starts_at": statement.starts_at,
        "ends_at": statement.ends_at,
        "payments": statement.payments,
        "refunds": statement.refunds,
        "totals": _total(statement.totals),
        "by_method": [_total(t, method=m) for m, t in sorted(statement.by_method.items())],
        "by_flow": [_total(t, flow=f) for f, t in sorted(statement.by_flow.items())],
    }


def _total(total: Total, **scope: str) -> dict[str, Any]:
    return {
        **scope,
        "paid_count": total.paid_count,
        "paid_amount": total.paid_amount,
        "refunded_count": total.refunded_count,
        "refunded_amount": total.refunded_amount,
        "net_amount": total.net_amount,
    }


def statement_csv(statement: Statement) -> str:
    """The CSV text: a header row, the payment and refund rows (times local, with their
    offset), then one `total` row per method, per flow and for all (`all` in both)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_line_row(statement, line) for line in statement.payments)
    writer.writerows(_line_row(statement, line) for line in statement.refunds)
    writer.writerows(_total_rows(statement))
    return buffer.getvalue()


def _line_row(statement: Statement, line: Line) -> list[Any]:
    refunded = "" if line.refunded_amount is None else line.refunded_amount
    return [
        line.type,
        line.id,
        statement.local(line.at).isoformat(),
        line.method,
        line.flow,
        line.order_id,
        line.payment_id,
        line.coupon_code or "",
        line.amount,
        refunded,
        line.net_amount,
        "",
        "",
    ]


def _total_rows(statement: Statement) -> Iterator[list[Any]]:
    scopes = [(m, "", t) for m, t in sorted(statement.by_method.items())]
    scopes += [("", f, t) for f, t in sorted(statement.by_flow.items())]
    scopes.append((ALL, ALL, statement.totals))
    for method, flow, total in scopes:
        yield [
            "total",
            "",
            "",
            method,
            flow,
            "",
            "",
            "",
            total.paid_amount,
            total.refunded_amount,
            total.net_amount,
            total.paid_count,
            total.refunded_count,
        ]
