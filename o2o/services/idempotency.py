"""Idempotency records: claim a key, find it, forget it, keep the response to replay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from o2o.extensions import db
from o2o.models import IdempotencyRecord


def claim_key(
    scope: str, key: str, request_hash: str, *, now: datetime, ttl: timedelta
) -> IdempotencyRecord | None:
    """Insert the in-progress record (an expired one goes first); None if the key is held."""
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < now - ttl,
        )
    )
    record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash, created_at=now)
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return record


def find_record(scope: str, key: str) -> IdempotencyRecord | None:
    """The record that holds `key` in `scope`, if any."""
    return db.session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).one_or_none()


def forget_record(record: IdempotencyRecord) -> None:
    """Delete a record, so that its key may run again."""
    db.session.delete(record)
    db.session.commit()


def keep_response(record_id: int, status: int, body: str) -> None:
    """Store the response to replay; a status of 500 or more forgets the key instead."""
    record = db.session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    if status >= 500:
        # Our failure, not the client's (or a request to retry): the same key may run again.
        db.session.delete(record)
    else:
        record.response_status = status
        record.response_body = body
    db.session.commit()


def keep_failure(record_id: int, status: int, body: str) -> None:
    """Roll back the failed request's work, then store its error as keep_response does."""
    db.session.rollback()
    keep_response(record_id, status, body)
