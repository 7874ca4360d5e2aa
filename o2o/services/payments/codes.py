"""Payment codes: the shopper's one-time 18-digit code (付款码) that the clerk scans."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import PaymentCode
from o2o.principal import Principal
from o2o.store import CodeSpend, spend_code
from o2o.tokens import new_payment_code
from o2o.vocabulary import ErrorCode


def issue_payment_code(principal: Principal) -> PaymentCode:
    """A fresh one-time 18-digit code for the shopper to show at the till."""
    now = clock.now()
    code = PaymentCode(
        code=new_payment_code(),
        shopper_id=principal.shopper_id,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["O2O_PAYMENT_CODE_TTL"]),
    )
    db.session.add(code)
    store.commit()
    return code


def spend_payment_code(auth_code: str, now: datetime) -> str:
    """Use up a payment code and return whose it was; 422 when it cannot be used."""
    payer = spend_code(CodeSpend(code=auth_code, at=now))
    if payer is None:
        raise O2OError(ErrorCode.INVALID_PAYMENT_CODE)
    return payer
