"""The hot PostgreSQL statements are kept as SQL files: a builder change shows as a SQL diff."""

from __future__ import annotations

import pytest

from o2o.extensions import Base
from o2o.store import snapshots


@pytest.mark.parametrize("name", sorted(snapshots.HOT_STATEMENTS))
def test_each_hot_statement_matches_its_sql_file(name: str) -> None:
    path = snapshots.SQL_DIR / f"{name}.sql"
    assert path.exists(), f"{path.name} is missing: run `make sql`"
    assert snapshots.compiled(name) == path.read_text(encoding="utf-8"), (
        f"{name}'s builders changed but {path.name} did not: run `make sql` and review the diff"
    )


def test_a_changed_builder_no_longer_matches_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from o2o.store import blocks

    recorded = snapshots.compiled("pay_online_order")
    changed = lambda: blocks.pay_order(None).where(select(blocks.ORDERS.c.id).exists())  # noqa: E731
    monkeypatch.setitem(snapshots.HOT_STATEMENTS, "pay_online_order", changed)
    assert snapshots.compiled("pay_online_order") != recorded


def test_no_column_is_named_like_a_bound_parameter() -> None:
    """Bound parameters are `<scope>__<field>`: a column with a double underscore could be
    written by a parameter meant for something else."""
    columns = [f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns]
    assert len(columns) > 20
    assert [name for name in columns if "__" in name] == []
