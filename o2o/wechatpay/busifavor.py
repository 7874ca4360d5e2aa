"""Merchant coupon stocks (商家券批次) through /v3/marketing/busifavor/stocks…: each stock an
ordinary campaign of this service, created and changed by its own campaign use cases, with the
merchant's `stock_id` beside it (WechatStock). What a campaign holds — the discount, the
validity, the budget, the per-shopper limit, the counts — is read from it, never kept twice.
Also the request numbers that make these operations idempotent, and the callback url."""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import Campaign, Coupon, WechatBusifavorRequest, WechatMerchant, WechatStock
from o2o.services import campaigns
from o2o.vocabulary import CampaignStatus, Channel, DiscountType
from o2o.wechatpay import fields, protocol, trades
from o2o.wechatpay.errors import WechatError, param_error

# stock_type → the coupon_use_rule object that says its discount, and the campaign's type
STOCK_TYPES = {
    "NORMAL": ("fixed_normal_coupon", DiscountType.AMOUNT_OFF),
    "DISCOUNT": ("discount_coupon", DiscountType.PERCENT_OFF),
    "EXCHANGE": ("exchange_coupon", DiscountType.EXCHANGE),
}
STOCK_STATES = {
    CampaignStatus.DRAFT: "UNAUDIT",
    CampaignStatus.ACTIVE: "RUNNING",
    CampaignStatus.PAUSED: "PAUSED",
    CampaignStatus.ENDED: "STOPED",  # sic: WeChat's spelling
}
USE_METHODS = ("OFF_LINE", "MINI_PROGRAMS", "SELF_CONSUME", "PAYMENT_CODE")
CODE_MODES = ("WECHATPAY_MODE", "MERCHANT_API", "MERCHANT_UPLOAD")
DISPLAY = ("custom_entrance", "display_pattern_info", "notify_config")
SEND_FLAGS = ("natural_person_limit", "prevent_api_abuse", "transferable", "shareable")
MAX_COUPONS = 10_000_000  # a campaign's total_quantity at most
MAX_DAYS = 3650


def new_stock_id() -> str:
    """12 digits, as WeChat's stock ids are all digits."""
    return "1" + "".join(secrets.choice(string.digits) for _ in range(11))


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# -- creating


def create_stock(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Create a stock: a campaign at the merchant's stores; the same out_request_no with the
    same body answers the same stock, with another body INVALID_REQUEST."""
    out_request_no = fields.request_no(body, "out_request_no")
    existing = _stock_by_request(merchant, out_request_no)
    if existing is not None:
        return _repeat(existing, body)
    campaign_data, stock = read_stock(merchant, body)
    stock.out_request_no, stock.request_hash = out_request_no, request_hash(body)
    try:
        with trades.one_transaction():
            campaign = campaigns.create_campaign(campaign_data)
            stock.campaign_id = campaign.id
            db.session.add(stock)
            db.session.flush()
    except IntegrityError:  # the same out_request_no, a moment ago
        store.rollback()
        found = _stock_by_request(merchant, out_request_no)
        if found is None:
            raise
        return _repeat(found, body)
    return {"stock_id": stock.stock_id, "create_time": protocol.rfc3339(stock.created_at)}


def _stock_by_request(merchant: WechatMerchant, out_request_no: str) -> WechatStock | None:
    return db.session.scalars(
        select(WechatStock).where(
            WechatStock.mchid == merchant.mchid, WechatStock.out_request_no == out_request_no
        )
    ).first()


def _repeat(stock: WechatStock, body: dict[str, Any]) -> dict[str, Any]:
    if stock.request_hash != request_hash(body):
        raise WechatError(
            "INVALID_REQUEST", "This out_request_no was used to create a different stock."
        )
    return {"stock_id": stock.stock_id, "create_time": protocol.rfc3339(stock.created_at)}


def read_stock(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[dict[str, Any], WechatStock]:
    """A stock create body, checked: the campaign it makes, and the stock row beside it."""
    name = fields.required_text(body, "stock_name", max_length=21)
    if body.get("belong_merchant") != merchant.mchid:
        raise WechatError("NO_AUTH", "belong_merchant must be the signing merchant's mchid.")
    _refuse_unsupported(body)
    goods_name = fields.required_text(body, "goods_name", max_length=15)
    stock_type = fields.choice(body, "stock_type", tuple(STOCK_TYPES))
    rule = fields.obj(body, "coupon_use_rule")
    send_rule = fields.obj(body, "stock_send_rule")
    campaign_data = {
        "name": name,
        "discount": _discount(stock_type, rule, goods_name),
        **_validity(fields.obj(rule, "coupon_available_time")),
        **_budget(send_rule),
        "store_ids": merchant.store_ids,
        "channels": list(Channel),
    }
    display = {key: fields.obj(body, key) for key in DISPLAY if body.get(key) is not None}
    display["stock_send_rule"] = _send_flags(send_rule)
    stock = WechatStock(
        stock_id=new_stock_id(),
        mchid=merchant.mchid,
        goods_name=goods_name,
        stock_type=stock_type,
        coupon_code_mode="WECHATPAY_MODE",
        use_method=fields.choice(rule, "use_method", USE_METHODS),
        comment=fields.text(body, "comment", required=False, max_length=20),
        display=display,
        created_at=clock.now(),
    )
    return campaign_data, stock


def _refuse_unsupported(body: dict[str, Any]) -> None:
    mode = fields.choice(body, "coupon_code_mode", CODE_MODES)
    if mode != "WECHATPAY_MODE":
        raise WechatError(
            "NOT_SUPPORTED",
            f"coupon_code_mode {mode} is not supported: the sandbox's coupon codes are this "
            "service's own (WECHATPAY_MODE).",
        )
    if fields.flag(body, "subsidy"):
        raise WechatError("NOT_SUPPORTED", "The sandbox does not support subsidies (补差).")


def _discount(stock_type: str, rule: dict[str, Any], goods_name: str) -> dict[str, Any]:
    """The campaign's discount from the coupon_use_rule object of the stock's type."""
    key, discount_type = STOCK_TYPES[stock_type]
    given = fields.obj(rule, key)
    minimum = fields.required_fen(given, "transaction_minimum")
    if discount_type == DiscountType.AMOUNT_OFF:
        amount_off = fields.required_fen(given, "discount_amount")
        return {"type": discount_type, "amount_off": amount_off, "min_spend": minimum}
    if discount_type == DiscountType.PERCENT_OFF:
        # WeChat's discount_percent is what is paid: 88 is 八八折, 12% off.
        paid = fields.required_count(given, "discount_percent", 1, 99)
        return {"type": discount_type, "percent_off": 100 - paid, "min_spend": minimum}
    price = fields.required_fen(given, "exchange_price")
    return {
        "type": discount_type,
        "exchange_price": price,
        "item": goods_name,
        "min_spend": minimum,
    }


def _validity(available: dict[str, Any]) -> dict[str, Any]:
    """The campaign's validity from coupon_available_time."""
    begin = fields.moment(available, "available_begin_time")
    end = fields.moment(available, "available_end_time")
    if begin >= end:
        raise param_error("available_end_time", "must be after available_begin_time")
    if end <= clock.now():
        raise param_error("available_end_time", "must be in the future")
    days = fields.count(available, "available_day_after_receive", 1, MAX_DAYS, required=False)
    wait = fields.count(available, "wait_days_after_receive", 0, MAX_DAYS, required=False)
    if wait is not None and days is None:
        raise param_error("wait_days_after_receive", "needs available_day_after_receive")
    return {
        "valid_from": begin,
        "valid_until": end,
        "valid_days_after_claim": days,
        "wait_days_after_claim": wait or 0,
    }


def _budget(send_rule: dict[str, Any]) -> dict[str, Any]:
    if send_rule.get("max_coupons_by_day") is not None:
        raise WechatError("NOT_SUPPORTED", "The sandbox has no daily cap: max_coupons_by_day.")
    return {
        "total_quantity": fields.required_count(send_rule, "max_coupons", 1, MAX_COUPONS),
        "per_shopper_limit": fields.required_count(send_rule, "max_coupons_per_user", 1, 100),
    }


def _send_flags(send_rule: dict[str, Any]) -> dict[str, bool]:
    flags = {name: fields.flag(send_rule, name) for name in SEND_FLAGS}
    return {name: value for name, value in flags.items() if value is not None}


# -- reading


def stock(stock_id: str) -> WechatStock | None:
    return db.session.get(WechatStock, stock_id)


def find_stock(merchant: WechatMerchant, stock_id: str) -> WechatStock:
    """The merchant's stock; another merchant's is as unknown as a missing one."""
    found = stock(stock_id)
    if found is None or found.mchid != merchant.mchid:
        raise WechatError("RESOURCE_NOT_EXISTS", "No stock of this merchant has this stock_id.")
    return found


def stock_object(found: WechatStock) -> dict[str, Any]:
    """The stock as WeChat shows it (stock query)."""
    campaign = found.campaign
    body: dict[str, Any] = {
        "stock_id": found.stock_id,
        "stock_name": campaign.name,
        "belong_merchant": found.mchid,
        "goods_name": found.goods_name,
        "stock_type": found.stock_type,
        "coupon_use_rule": coupon_use_rule(found),
        "stock_send_rule": {
            "max_coupons": campaign.total_quantity,
            "max_coupons_per_user": campaign.per_shopper_limit,
            "max_coupons_by_day": campaign.total_quantity,  # no daily cap: the whole budget
            **found.display.get("stock_send_rule", {}),
        },
        "coupon_code_mode": found.coupon_code_mode,
        "stock_state": STOCK_STATES[CampaignStatus(campaign.status)],
        "send_count_information": _send_counts(campaign),
    }
    if found.comment:
        body["comment"] = found.comment
    body.update({key: found.display[key] for key in DISPLAY if key in found.display})
    return body


def coupon_use_rule(found: WechatStock) -> dict[str, Any]:
    """The stock's coupon_use_rule, read from its campaign."""
    campaign = found.campaign
    available: dict[str, Any] = {
        "available_begin_time": protocol.rfc3339(campaign.valid_from or campaign.created_at),
        "available_end_time": protocol.rfc3339(campaign.valid_until or campaign.created_at),
    }
    if campaign.valid_days_after_claim:
        available["available_day_after_receive"] = campaign.valid_days_after_claim
        available["wait_days_after_receive"] = campaign.wait_days_after_claim
    key, _ = STOCK_TYPES[found.stock_type]
    minimum = {"transaction_minimum": campaign.min_spend}
    if campaign.discount_type == DiscountType.AMOUNT_OFF:
        discount = {"discount_amount": campaign.amount_off, **minimum}
    elif campaign.discount_type == DiscountType.PERCENT_OFF:
        discount = {"discount_percent": 100 - (campaign.percent_off or 0), **minimum}
    else:
        discount = {"exchange_price": campaign.exchange_price, **minimum}
    return {"coupon_available_time": available, key: discount, "use_method": found.use_method}


def _send_counts(campaign: Campaign) -> dict[str, int]:
    """Coupons sent, all told and today (China's day), and their face value for NORMAL ones."""
    today = datetime.combine(clock.now().astimezone(protocol.CHINA).date(), time(), protocol.CHINA)
    sent_today = db.session.scalar(
        select(func.count()).where(Coupon.campaign_id == campaign.id, Coupon.claimed_at >= today)
    )
    face = campaign.amount_off or 0 if campaign.discount_type == DiscountType.AMOUNT_OFF else 0
    return {
        "total_send_num": campaign.claimed_count,
        "total_send_amount": campaign.claimed_count * face,
        "today_send_num": sent_today or 0,
        "today_send_amount": (sent_today or 0) * face,
    }


def query_stock(merchant: WechatMerchant, stock_id: str) -> dict[str, Any]:
    found = find_stock(merchant, stock_id)
    answer = stock_object(found)
    store.rollback()
    return answer


# -- request numbers: the same number again, the same answer


def once(
    merchant: WechatMerchant,
    kind: str,
    number: tuple[str, str],
    change: Callable[[], dict[str, Any]],
    out_trade_no: str | None = None,
) -> dict[str, Any]:
    """The answer to request `number` (request_no, subject: the coupon code or stock id) of
    `kind`: the one kept if it was made already, else `change()`'s, kept with the change in
    one transaction. The number used for another subject is INVALID_REQUEST."""
    request_no, subject = number
    found = _request(merchant, kind, request_no)
    if found is None:
        try:
            with trades.one_transaction():
                answer = change()
                db.session.add(
                    WechatBusifavorRequest(
                        mchid=merchant.mchid,
                        kind=kind,
                        request_no=request_no,
                        subject=subject,
                        out_trade_no=out_trade_no,
                        answer=json.dumps(answer),
                        created_at=clock.now(),
                    )
                )
                db.session.flush()
            return answer
        except (IntegrityError, WechatError, O2OError):  # perhaps the same number, just now
            store.rollback()
            found = _request(merchant, kind, request_no)
            if found is None:
                raise
    if found.subject != subject:
        raise WechatError(
            "INVALID_REQUEST", f"This {kind} request number was used for {found.subject}."
        )
    answer = json.loads(found.answer)
    store.rollback()
    return dict(answer)


def _request(merchant: WechatMerchant, kind: str, request_no: str) -> WechatBusifavorRequest | None:
    return db.session.scalars(
        select(WechatBusifavorRequest).where(
            WechatBusifavorRequest.mchid == merchant.mchid,
            WechatBusifavorRequest.kind == kind,
            WechatBusifavorRequest.request_no == request_no,
        )
    ).first()


# -- changing


def modify_stock(merchant: WechatMerchant, stock_id: str, body: dict[str, Any]) -> None:
    """Change what a stock shows (its name, comment, goods name, display fields, use method,
    send flags); its discount, validity and budget stay (the budget has its own operation)."""
    found = find_stock(merchant, stock_id)
    request_no = fields.request_no(body, "out_request_no")
    name = fields.text(body, "stock_name", required=False, max_length=21)
    comment = fields.text(body, "comment", required=False, max_length=20)
    goods_name = fields.text(body, "goods_name", required=False, max_length=15)
    rule = fields.obj(body, "coupon_use_rule", required=False)
    send_rule = fields.obj(body, "stock_send_rule", required=False)
    if set(rule) - {"use_method"}:
        raise param_error("coupon_use_rule", "only use_method can be changed")
    display = {**found.display, **{key: fields.obj(body, key) for key in DISPLAY if key in body}}
    display["stock_send_rule"] = {
        **found.display.get("stock_send_rule", {}),
        **_send_flags(send_rule),
    }
    use_method = fields.choice(rule, "use_method", USE_METHODS) if rule else found.use_method

    def change() -> dict[str, Any]:
        if name is not None:
            campaigns.update_campaign(found.campaign_id, {"name": name})
        found.comment = comment if comment is not None else found.comment
        found.goods_name = goods_name or found.goods_name
        found.use_method, found.display = use_method, display
        db.session.flush()
        return {}

    once(merchant, "modify", (request_no, stock_id), change)


def change_budget(merchant: WechatMerchant, stock_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Grow a stock's budget (its campaign's total_quantity) to target_max_coupons."""
    found = find_stock(merchant, stock_id)
    request_no = fields.request_no(body, "modify_budget_request_no")
    if body.get("target_max_coupons_by_day") is not None:
        raise WechatError(
            "NOT_SUPPORTED", "The sandbox has no daily cap: target_max_coupons_by_day."
        )
    target = fields.required_count(body, "target_max_coupons", 1, MAX_COUPONS)
    current = fields.count(body, "current_max_coupons", 1, MAX_COUPONS, required=False)

    def change() -> dict[str, Any]:
        campaign = found.campaign
        if current is not None and current != campaign.total_quantity:
            raise WechatError(
                "INVALID_REQUEST",
                f"current_max_coupons is {current}, but the stock's is {campaign.total_quantity}.",
            )
        if target < campaign.claimed_count:
            raise WechatError(
                "INVALID_REQUEST", f"{campaign.claimed_count} coupons were sent already."
            )
        if target < campaign.total_quantity:
            raise WechatError("INVALID_REQUEST", "The sandbox's budgets only grow.")
        changed = campaigns.update_campaign(campaign.id, {"total_quantity": target})
        return {"max_coupons": changed.total_quantity, "max_coupons_by_day": changed.total_quantity}

    return once(merchant, "budget", (request_no, stock_id), change)


# -- the callback url of the merchant's coupon notifications


def set_callback(merchant: WechatMerchant, body: dict[str, Any]) -> dict[str, Any]:
    """Set the url COUPON.SEND notifications go to."""
    _check_mchid(merchant, body.get("mchid"))
    url = fields.notify_url(body, required=True)
    merchant.coupon_notify_url = url
    store.commit()
    return {
        "update_time": protocol.rfc3339(clock.now()),
        "notify_url": url,
        "mchid": merchant.mchid,
    }


def query_callback(merchant: WechatMerchant, mchid: str | None) -> dict[str, Any]:
    _check_mchid(merchant, mchid)
    if not merchant.coupon_notify_url:
        raise WechatError("RESOURCE_NOT_EXISTS", "No callback url is set for this merchant.")
    return {"notify_url": merchant.coupon_notify_url, "mchid": merchant.mchid}


def _check_mchid(merchant: WechatMerchant, mchid: Any) -> None:
    if mchid != merchant.mchid:
        raise WechatError("APPID_MCHID_NOT_MATCH", "mchid does not match the signing merchant")
