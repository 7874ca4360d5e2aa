"""Where a use case's work is kept or undone: services call `commit()` and `rollback()` here,
never on the session.

Outside a guard they are the session's own. Inside `guarded()` — a request under an
Idempotency-Key — the request is one database transaction that the guard's owner commits,
together with the response it stores: the use case's `commit()` keeps its work so far (a
savepoint is opened after it) and its `rollback()` undoes only what came after its last
`commit()`, as it would unguarded. So a crash anywhere leaves either nothing of the request
or all of it, its stored response included (docs/idempotency.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from o2o.extensions import db

_GUARD = "o2o_guard"


@dataclass
class Guard:
    """The savepoints of one guarded request, innermost last.

    A savepoint is opened lazily, just before the first statement (or flush) that follows
    the start or a `keep()`: a use case whose last `commit()` is followed by nothing costs
    no savepoint there, so the keyed hot path pays one SAVEPOINT and one RELEASE.
    """

    savepoints: list[SessionTransaction] = field(default_factory=list)
    wanted: bool = True  # the next statement starts work that undo() may drop

    def open_if_wanted(self) -> None:
        if self.wanted:
            self.wanted = False
            self.savepoints.append(db.session.begin_nested())

    def keep(self) -> None:
        """The work so far stays: what follows can be undone on its own."""
        db.session.flush()
        self.wanted = True

    def undo(self) -> None:
        """Undo the work since the last `keep()` (or the guard's start)."""
        if self.wanted:  # no statement since: only changes not yet flushed, if any
            if not (db.session.new or db.session.dirty or db.session.deleted):
                return
            self.open_if_wanted()
        self.wanted = True
        self.savepoints.pop().rollback()

    def settle(self) -> None:
        """What runs from here (the stored response) is the guard's own: no savepoint."""
        self.wanted = False

    def commit(self) -> None:
        """Commit the whole request: its key, its work, its stored response."""
        db.session.commit()
        self.savepoints.clear()

    def abandon(self) -> None:
        """Roll the whole request back, its key too: the key may run again."""
        db.session.rollback()
        self.savepoints.clear()


def _open_savepoint_if_wanted(session: Session, *_: Any) -> None:
    guard: Guard | None = session.info.get(_GUARD)
    if guard is not None:
        guard.open_if_wanted()


event.listen(Session, "before_flush", _open_savepoint_if_wanted)
event.listen(Session, "do_orm_execute", lambda state: _open_savepoint_if_wanted(state.session))


def _guard() -> Guard | None:
    guard: Guard | None = db.session.info.get(_GUARD)
    return guard


def commit() -> None:
    """End the use case's unit of work (inside a guard: keep it for the guard's commit)."""
    guard = _guard()
    if guard is None:
        db.session.commit()
    else:
        guard.keep()


def rollback() -> None:
    """Undo the use case's work since its last `commit()`."""
    guard = _guard()
    if guard is None:
        db.session.rollback()
    else:
        guard.undo()


def is_guarded() -> bool:
    """Whether the request's work commits only with its guard (no statement commits alone)."""
    return _guard() is not None


@contextmanager
def guarded() -> Iterator[Guard]:
    """Run the block's use case inside the transaction already begun (the caller's first
    statement took its key); the caller commits or rolls back the whole, and after a failure
    may `undo()` the work since the use case's last `commit()` before storing the failure."""
    guard = Guard()
    db.session.info[_GUARD] = guard
    try:
        yield guard
    finally:
        db.session.info.pop(_GUARD, None)


@contextmanager
def one_unit() -> Iterator[None]:
    """The block's use cases as one unit of work: all of it is kept, or none of it. On its own
    it is one transaction; inside a guarded request it is a savepoint of the guard's, so that
    a failure undoes the whole block (and only the block) and the request's key and stored
    response still commit together."""
    guard = _guard()
    if guard is None:
        with guarded() as own:
            try:
                yield
            except BaseException:
                own.abandon()
                raise
            own.commit()
        return
    guard.keep()  # the request's work so far stays; the unit starts a savepoint of its own
    depth = len(guard.savepoints)
    guard.open_if_wanted()
    try:
        yield
    except BaseException:
        _undo_to(guard, depth)
        raise
    guard.keep()


def _undo_to(guard: Guard, depth: int) -> None:
    """Roll back to the savepoint at `depth` (the unit's), unless a use case inside already
    undid it; forget the savepoints it held."""
    if len(guard.savepoints) > depth:
        unit = guard.savepoints[depth]
        del guard.savepoints[depth:]
        if unit.is_active:
            unit.rollback()
    guard.wanted = True
