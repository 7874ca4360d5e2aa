"""Taking an Idempotency-Key: the first statement of a guarded request's transaction.

One INSERT takes the key — or renews a record past its retention (or one that an earlier
version of the service left without a response) — and returns its id. Nothing comes back
when a live record holds the key, or, on PostgreSQL, while another transaction holds the
key's advisory lock: that request is running, and `409 idempotency_key_in_use` is the answer
until its transaction ends (a killed process ends it too). On SQLite the single writer lock
does the same by waiting: a same-key request runs after the first has committed, and replays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Insert, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from o2o.extensions import db
from o2o.models import IdempotencyRecord, sql_moment


def _renewable(stale_before: datetime) -> ColumnElement[bool]:
    return or_(
        IdempotencyRecord.created_at < sql_moment(stale_before),
        IdempotencyRecord.response_status.is_(None),
    )


def _upsert(statement: Insert, stale_before: datetime) -> Insert:
    excluded = statement.excluded  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[IdempotencyRecord.scope, IdempotencyRecord.key],
        set_={
            "request_hash": excluded.request_hash,
            "created_at": excluded.created_at,
            "response_status": None,
            "response_body": None,
        },
        where=_renewable(stale_before),
    ).returning(IdempotencyRecord.id)


def take_key(
    scope: str, key: str, request_hash: str, *, now: datetime, stale_before: datetime
) -> int | None:
    """The id of the record this transaction now holds, or None (another holds the key)."""
    values = {"scope": scope, "key": key, "request_hash": request_hash, "created_at": now}
    if db.session.get_bind().dialect.name == "postgresql":
        lock = func.pg_try_advisory_xact_lock(func.hashtextextended(f"{scope} {key}", 0))
        source = select(literal(scope), literal(key), literal(request_hash), sql_moment(now)).where(
            lock
        )
        statement: Insert = postgresql_insert(IdempotencyRecord).from_select(list(values), source)
    else:
        statement = sqlite_insert(IdempotencyRecord).values(**values)
    taken: int | None = db.session.execute(_upsert(statement, stale_before)).scalar()
    return taken


def held_record(scope: str, key: str) -> IdempotencyRecord | None:
    """The record holding `key` in `scope`, as last committed."""
    return db.session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).one_or_none()


def keep_response(record_id: int, status: int, sealed_body: str) -> None:
    """Store the response with the request's own work: it commits with it."""
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(response_status=status, response_body=sealed_body)
        .execution_options(synchronize_session=False)
    )
