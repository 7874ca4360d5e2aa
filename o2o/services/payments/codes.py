"""Payment codes: the shopper's one-time 18-digit code (付款码) that the clerk scans.

The database keeps only each code's keyed hash; the clear code goes to the shopper once. Like
a wallet, which shows one code at a time, a shopper holds one unused code: minting a new one
deletes the older ones, so codes cannot pile up however often they are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import PaymentCode, Shopper
from o2o.principal import Principal
from o2o.store import CodeSpend, spend_code
from o2o.tokens import hash_payment_code, new_payment_code
from o2o.vocabulary import ErrorCode

DRAWS = 3


@dataclass(frozen=True)
class IssuedCode:
    """A fresh payment code in clear, as the shopper is shown it (the only time it exists)."""

    code: str
    expires_at: datetime


def code_hash(auth_code: str) -> str:
    """The key a payment code is stored and looked up by."""
    return hash_payment_code(current_app.config["O2O_SECRET_KEY"], auth_code)


def code_spend(auth_code: str, now: datetime) -> CodeSpend:
    """The statement parameters that use up `auth_code` at `now` (its hash, never the code)."""
    return CodeSpend(code_hash=code_hash(auth_code), at=now)


def issue_payment_code(principal: Principal) -> IssuedCode:
    """A fresh one-time 18-digit code for the shopper to show at the till; it replaces any
    unused code the shopper held."""
    now = clock.now()
    _retire_unused_codes(principal.shopper_id)
    ttl = timedelta(seconds=current_app.config["O2O_PAYMENT_CODE_TTL"])
    for _ in range(DRAWS):
        issued = IssuedCode(new_payment_code(), now + ttl)
        # A code equal to one still stored (1 in 6 x 10^16 per stored code) is drawn again,
        # never a unique-key error: PostgreSQL's message would show the hash.
        if store.insert_unless_present(
            PaymentCode,
            code_hash=code_hash(issued.code),
            shopper_id=principal.shopper_id,
            created_at=now,
            expires_at=issued.expires_at,
        ):
            store.commit()
            return issued
    store.rollback()
    raise RuntimeError(f"no payment code unlike every stored one in {DRAWS} draws")


def _retire_unused_codes(shopper_id: str | None) -> None:
    """Delete the shopper's unused codes, one minting at a time per shopper (the shopper's
    row is locked on PostgreSQL; SQLite has one writer), so racing requests leave one."""
    db.session.execute(select(Shopper.id).where(Shopper.id == shopper_id).with_for_update())
    db.session.execute(
        delete(PaymentCode).where(
            PaymentCode.shopper_id == shopper_id, PaymentCode.used_at.is_(None)
        )
    )


def spend_payment_code(auth_code: str, now: datetime) -> str:
    """Use up a payment code and return whose it was; 422 when it cannot be used."""
    payer = spend_code(code_spend(auth_code, now))
    if payer is None:
        raise O2OError(ErrorCode.INVALID_PAYMENT_CODE)
    return payer
