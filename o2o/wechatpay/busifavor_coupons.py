"""Merchant coupons (商家券) through /v3/marketing/busifavor/…: a user's coupons by openid, and
using, giving back, deactivating and associating one. Each coupon is this service's own (its
`coupon_code` is the service's code), moved by the coupon domain's use cases, so its history,
its campaign's stats and the webhooks see each move as for any coupon. Each operation is
idempotent on its request number (busifavor.once)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import false, select, update

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Coupon, WechatBusifavorRequest, WechatMerchant, WechatOpenid, WechatStock
from o2o.principal import Principal
from o2o.services import coupons
from o2o.tokens import normalize_code
from o2o.vocabulary import CouponStatus
from o2o.wechatpay import busifavor, fields, protocol, trades
from o2o.wechatpay.errors import WechatError, param_error

COUPON_STATES = {
    CouponStatus.AVAILABLE: "SENDED",
    CouponStatus.RESERVED: "SENDED",  # held by an unpaid order: still the shopper's to use
    CouponStatus.REDEEMED: "USED",
    CouponStatus.EXPIRED: "EXPIRED",
    CouponStatus.VOIDED: "DEACTIVATED",
}
STATE_FILTERS = {
    "SENDED": (CouponStatus.AVAILABLE, CouponStatus.RESERVED),
    "USED": (CouponStatus.REDEEMED,),
    "EXPIRED": (CouponStatus.EXPIRED,),
    "DEACTIVATED": (CouponStatus.VOIDED,),
}
MAX_LIMIT = 50


def merchant_principal(merchant: WechatMerchant) -> Principal:
    """The merchant moving its coupons, as the till of its first store."""
    return trades.merchant_principal(merchant, merchant.store_ids[0])


def openid_of(appid: str, shopper_id: str) -> str:
    """The shopper's openid under `appid` (derived: nothing is written)."""
    return protocol.openid(current_app.config["O2O_SECRET_KEY"], appid, shopper_id)


def shopper_of(merchant: WechatMerchant, appid: str | None, openid: str) -> str:
    """The shopper behind `openid` under the merchant's appid."""
    if appid != merchant.appid:
        raise WechatError("APPID_MCHID_NOT_MATCH", "appid does not match the signing merchant")
    found = db.session.get(WechatOpenid, openid)
    if found is None or found.appid != appid:
        raise param_error("openid", "is not the openid of a user under this appid")
    return found.shopper_id


# -- reading


def _coupon(merchant: WechatMerchant, code: Any) -> tuple[Coupon, WechatStock]:
    """A coupon of one of the merchant's stocks; any other is as unknown as a missing one."""
    coupon = db.session.get(Coupon, normalize_code(code)) if isinstance(code, str) else None
    found = None
    if coupon is not None:
        found = db.session.scalars(
            select(WechatStock).where(WechatStock.campaign_id == coupon.campaign_id)
        ).first()
    if coupon is None or found is None or found.mchid != merchant.mchid:
        raise WechatError("RESOURCE_NOT_EXISTS", "No coupon of this merchant has this coupon_code.")
    return coupon, found


def association(coupon_code: str) -> str | None:
    """The out_trade_no the coupon is associated with now, if any."""
    latest = db.session.scalars(
        select(WechatBusifavorRequest)
        .where(
            WechatBusifavorRequest.subject == coupon_code,
            WechatBusifavorRequest.kind.in_(("associate", "disassociate")),
        )
        .order_by(WechatBusifavorRequest.id.desc())
        .limit(1)
    ).first()
    return latest.out_trade_no if latest is not None and latest.kind == "associate" else None


def coupon_object(coupon: Coupon, found: WechatStock, appid: str) -> dict[str, Any]:
    """The coupon as WeChat shows it to its merchant (user coupon list and detail)."""
    state = COUPON_STATES[coupon.effective_status(clock.now())]
    body: dict[str, Any] = {
        "coupon_code": coupon.code,
        "stock_id": found.stock_id,
        "coupon_state": state,
        "stock_name": coupon.campaign.name,
        "belong_merchant": found.mchid,
        "goods_name": found.goods_name,
        "stock_type": found.stock_type,
        "transferable": False,
        "shareable": False,
        "coupon_use_rule": busifavor.coupon_use_rule(found),
        "receive_time": protocol.rfc3339(coupon.claimed_at),
        "available_start_time": protocol.rfc3339(coupon.valid_from),
        "expire_time": protocol.rfc3339(coupon.valid_until),
        "openid": openid_of(appid, coupon.shopper_id),
    }
    if found.comment:
        body["comment"] = found.comment
    if state == "USED" and coupon.redeemed_at is not None:
        body["use_time"] = protocol.rfc3339(coupon.redeemed_at)
    associated = association(coupon.code)
    if associated:
        body["associate_out_trade_no"] = associated
    return body


def list_user_coupons(merchant: WechatMerchant, openid: str, args: Any) -> dict[str, Any]:
    """A user's coupons of the merchant's stocks, newest first, a page at a time."""
    shopper_id = shopper_of(merchant, args.get("appid"), openid)
    offset = _int_arg(args, "offset", 0, 0, 10**6)
    limit = _int_arg(args, "limit", 20, 1, MAX_LIMIT)
    stmt = (
        select(Coupon, WechatStock)
        .join(WechatStock, WechatStock.campaign_id == Coupon.campaign_id)
        .where(Coupon.shopper_id == shopper_id, WechatStock.mchid == merchant.mchid)
    )
    if args.get("stock_id"):
        stmt = stmt.where(WechatStock.stock_id == args["stock_id"])
    state = args.get("coupon_state")
    if state:
        if state not in STATE_FILTERS:
            raise param_error("coupon_state", f"must be one of {', '.join(STATE_FILTERS)}")
        stmt = stmt.where(Coupon.effective_status_sql(clock.now()).in_(STATE_FILTERS[state]))
    for other in ("creator_merchant", "belong_merchant", "sender_merchant"):
        if args.get(other) not in (None, merchant.mchid):
            stmt = stmt.where(false())  # only this merchant's stocks are shown to it
    rows = db.session.execute(stmt.order_by(Coupon.claimed_at.desc(), Coupon.code)).all()
    page = [coupon_object(coupon, found, merchant.appid) for coupon, found in rows]
    store.rollback()
    return {
        "data": page[offset : offset + limit],
        "total_count": len(page),
        "offset": offset,
        "limit": limit,
    }


def _int_arg(args: Any, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not low <= int(text) <= high:
        raise param_error(name, f"must be an integer from {low} to {high}")
    return int(raw)


def coupon_detail(merchant: WechatMerchant, openid: str, code: str, appid: str) -> dict[str, Any]:
    """One coupon of a user, of the merchant's stocks."""
    shopper_id = shopper_of(merchant, appid, openid)
    coupon, found = _coupon(merchant, code)
    if coupon.shopper_id != shopper_id:
        raise WechatError("RESOURCE_NOT_EXISTS", "This user holds no coupon with this code.")
    answer = coupon_object(coupon, found, appid)
    store.rollback()
    return answer


# -- moving


def _named(merchant: WechatMerchant, body: dict[str, Any]) -> tuple[Coupon, WechatStock]:
    """The coupon the body names, and its stock, which `stock_id` (if given) must be."""
    coupon, found = _coupon(merchant, fields.required_text(body, "coupon_code", max_length=32))
    stock_id = body.get("stock_id")
    if stock_id is not None and str(stock_id) != found.stock_id:
        raise WechatError("INVALID_REQUEST", "This coupon is not of the stock stock_id names.")
    return coupon, found


def use(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Use (核销) a coupon at the merchant's till; idempotent on use_request_no."""
    request_no = fields.request_no(body, "use_request_no")
    fields.moment(body, "use_time")
    if body.get("appid") != merchant.appid:
        raise WechatError("APPID_MCHID_NOT_MATCH", "appid does not match the signing merchant")
    coupon, found = _named(merchant, body)
    openid = openid_of(merchant.appid, coupon.shopper_id)
    if body.get("openid") not in (None, openid):
        raise WechatError("INVALID_REQUEST", "This coupon is not this openid's.")

    def change() -> dict[str, Any]:
        used = _moved(coupons.redeem_outside_order, merchant, coupon.code)
        assert used.redeemed_at is not None
        return {
            "stock_id": found.stock_id,
            "openid": openid,
            "wechatpay_use_time": protocol.rfc3339(used.redeemed_at),
        }

    return busifavor.once(merchant, "use", (request_no, coupon.code), change)


def give_back(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Give a used coupon back (退券): usable again; idempotent on return_request_no."""
    request_no = fields.request_no(body, "return_request_no")
    fields.required_text(body, "stock_id", max_length=20)
    coupon, _ = _named(merchant, body)

    def change() -> dict[str, Any]:
        _moved(coupons.restore_outside_order, merchant, coupon.code)
        return {"wechatpay_return_time": protocol.rfc3339(clock.now())}

    return busifavor.once(merchant, "return", (request_no, coupon.code), change)


def deactivate(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Deactivate (使券失效) an unused coupon: voided, with deactivate_reason as its reason."""
    request_no = fields.request_no(body, "deactivate_request_no")
    fields.required_text(body, "stock_id", max_length=20)
    reason = fields.text(body, "deactivate_reason", required=False, max_length=64)
    coupon, _ = _named(merchant, body)

    def change() -> dict[str, Any]:
        try:
            coupons.void_coupon(merchant_principal(merchant), coupon.code, reason)
        except O2OError as error:
            raise WechatError("INVALID_REQUEST", error.message) from error
        return {"wechatpay_deactivate_time": protocol.rfc3339(clock.now())}

    return busifavor.once(merchant, "deactivate", (request_no, coupon.code), change)


def _moved(move: Any, merchant: WechatMerchant, code: str) -> Coupon:
    """A coupon use case's move, its refusal in WeChat's words."""
    try:
        moved: Coupon = move(merchant_principal(merchant), code)
    except O2OError as error:
        raise WechatError("INVALID_REQUEST", error.message, error.details or None) from error
    return moved


def _hold(code: str) -> None:
    """Hold the coupon's row until the transaction ends (a no-op UPDATE: a row lock on
    PostgreSQL, the write lock on SQLite), so that what is read next is read after any
    concurrent change of it has committed. The transaction's first statement: on SQLite a
    transaction that read first could not take the write lock once another had written."""
    db.session.execute(
        update(Coupon)
        .where(Coupon.code == code)
        .values(code=Coupon.code)
        .execution_options(synchronize_session=False)
    )


def associate(merchant: WechatMerchant, body: dict[str, Any], *, tie: bool) -> dict[str, Any]:
    """Associate an unused coupon with one of the merchant's out_trade_no (tie), or undo it;
    idempotent on out_request_no."""
    request_no = fields.request_no(body, "out_request_no")
    fields.required_text(body, "stock_id", max_length=20)
    out_trade_no = fields.pattern(body, "out_trade_no", fields.OUT_NO, "a merchant's out_trade_no")
    coupon, _ = _named(merchant, body)
    kind = "associate" if tie else "disassociate"

    def change() -> dict[str, Any]:
        _hold(coupon.code)  # two (dis)associations of one coupon at once: one after the other
        trades.find(merchant, out_trade_no=out_trade_no)
        current = association(coupon.code)
        if tie and coupon.effective_status(clock.now()) not in STATE_FILTERS["SENDED"]:
            raise WechatError("INVALID_REQUEST", "Only an unused coupon can be associated.")
        if tie and current is not None:
            raise WechatError("INVALID_REQUEST", f"This coupon is associated with {current}.")
        if not tie and current != out_trade_no:
            raise WechatError("INVALID_REQUEST", "This coupon is not associated with this order.")
        return {f"wechatpay_{kind}_time": protocol.rfc3339(clock.now())}

    return busifavor.once(merchant, kind, (request_no, coupon.code), change, out_trade_no)
