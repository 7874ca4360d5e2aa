"""Taking an Idempotency-Key: the first statement of a guarded request's transaction.

One INSERT takes the key — or renews a record past its retention (or one that an earlier
version of the service left without a response) — and returns its id. Nothing comes back
when a live record holds the key, or, on PostgreSQL, while another transaction holds the
key's advisory lock: that request is running, and `409 idempotency_key_in_use` is the answer
until its transaction ends (a killed process ends it too). On SQLite the single writer lock
does the same by waiting: a same-key request runs after the first has committed, and replays.
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Insert, String, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from o2o.extensions import db
from o2o.models import IdempotencyRecord, UTCDateTime, table

RECORDS = table(IdempotencyRecord)
_SCOPE = bindparam("key__scope", type_=String())
_KEY = bindparam("key__key", type_=String())
_HASH = bindparam("key__hash", type_=String())
_NOW = bindparam("key__now", type_=UTCDateTime())
_STALE_BEFORE = bindparam("key__stale_before", type_=UTCDateTime())


def _upsert(statement: Insert) -> Insert:
    excluded = statement.excluded  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[RECORDS.c.scope, RECORDS.c.key],
        set_={
            "request_hash": excluded.request_hash,
            "created_at": excluded.created_at,
            "response_status": None,
            "response_body": None,
        },
        where=or_(
            RECORDS.c.created_at < _STALE_BEFORE,
            RECORDS.c.response_status.is_(None),
        ),
    ).returning(RECORDS.c.id)


@functools.cache
def _take_statement(dialect: str) -> Insert:
    """Built once per dialect, like the hot path's statements: only the values change."""
    columns = ["scope", "key", "request_hash", "created_at"]
    if dialect == "postgresql":
        lock = func.pg_try_advisory_xact_lock(
            func.hashtextextended(func.concat(_SCOPE, " ", _KEY), 0)
        )
        source = select(_SCOPE, _KEY, _HASH, _NOW).where(lock)
        return _upsert(postgresql_insert(RECORDS).from_select(columns, source))
    values = dict(zip(columns, (_SCOPE, _KEY, _HASH, _NOW), strict=True))
    return _upsert(sqlite_insert(RECORDS).values(values))


def take_key(
    scope: str, key: str, request_hash: str, *, now: datetime, stale_before: datetime
) -> int | None:
    """The id of the record this transaction now holds, or None (another holds the key)."""
    statement = _take_statement(db.session.get_bind().dialect.name)
    values = {
        "key__scope": scope,
        "key__key": key,
        "key__hash": request_hash,
        "key__now": now,
        "key__stale_before": stale_before,
    }
    taken: int | None = db.session.execute(statement, values).scalar()
    return taken


def held_record(scope: str, key: str) -> IdempotencyRecord | None:
    """The record holding `key` in `scope`, as last committed."""
    return db.session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).one_or_none()


_KEEP = (
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("key__id"))
    .values(response_status=bindparam("key__status"), response_body=bindparam("key__body"))
)


def keep_response(record_id: int, status: int, sealed_body: str) -> None:
    """Store the response with the request's own work: it commits with it."""
    values = {"key__id": record_id, "key__status": status, "key__body": sealed_body}
    db.session.execute(_KEEP, values)
