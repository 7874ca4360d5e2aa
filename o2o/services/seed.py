"""Loading a scenario's fixed objects (stores, clerks, shoppers, campaigns, WeChat Pay demo
merchants); safe to repeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from o2o import clock, crypto, store
from o2o.extensions import db
from o2o.models import ApiKey, Campaign, Clerk, Shopper, Store, WechatMerchant
from o2o.services.accounts import add_api_key
from o2o.services.campaigns import add_campaign, build_campaign
from o2o.tokens import hash_api_key
from o2o.vocabulary import Role
from o2o.wechatpay import merchants


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # (role, who, key)
    wechatpay_merchants: list[WechatMerchant] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1


def _ensure_key(role: Role, key: str, **owner: str) -> None:
    if db.session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_api_key(key))) is None:
        add_api_key(role, key, **owner)


def seed(data: dict[str, Any], campaigns: list[dict[str, Any]]) -> SeedReport:
    """Create what is missing by id; existing rows are left exactly as they are."""
    report = SeedReport()
    now = clock.now()
    if data.get("admin_key"):
        _ensure_key(Role.ADMIN, data["admin_key"])
        report.keys.append((Role.ADMIN, "admin", data["admin_key"]))
    for row in data.get("stores", []):
        if db.session.get(Store, row["id"]) is None:
            db.session.add(Store(**row, created_at=now))
            report.count("stores")
    db.session.flush()
    _seed_people(data, report, now)
    for fields in campaigns:
        if db.session.get(Campaign, fields["id"]) is None:
            add_campaign(build_campaign(fields, campaign_id=fields["id"]))
            report.count("campaigns")
    store.commit()
    for row in data.get("wechatpay_merchants", []):
        report.wechatpay_merchants.append(_seed_wechat_merchant(row, report))
    return report


def _seed_wechat_merchant(row: dict[str, Any], report: SeedReport) -> WechatMerchant:
    """A demo WeChat Pay merchant with its fixed key pair (`private_key`: the PEM) and APIv3 key."""
    found = merchants.find_merchant(row["mchid"])
    if found is not None:
        return found
    made = merchants.register_merchant(
        mchid=row["mchid"],
        appid=row["appid"],
        name=row["name"],
        store_ids=row["store_ids"],
        mode=row["mode"],
        merchant_public_key=crypto.public_key_pem(row["private_key"]),
        apiv3_key=row["apiv3_key"],
        cert_serial_no=row["cert_serial_no"],
    )
    report.count("wechatpay merchants")
    return made.merchant


def _seed_people(data: dict[str, Any], report: SeedReport, now: datetime) -> None:
    """The clerks and shoppers that are missing, and each one's key."""
    for row in data.get("clerks", []):
        if db.session.get(Clerk, row["id"]) is None:
            db.session.add(
                Clerk(id=row["id"], name=row["name"], store_id=row["store_id"], created_at=now)
            )
            report.count("clerks")
        db.session.flush()
        _ensure_key(Role.CLERK, row["api_key"], clerk_id=row["id"])
        report.keys.append((Role.CLERK, row["name"], row["api_key"]))
    for row in data.get("shoppers", []):
        if db.session.get(Shopper, row["id"]) is None:
            db.session.add(
                Shopper(id=row["id"], name=row["name"], phone=row.get("phone"), created_at=now)
            )
            report.count("shoppers")
        db.session.flush()
        _ensure_key(Role.SHOPPER, row["api_key"], shopper_id=row["id"])
        report.keys.append((Role.SHOPPER, row["name"], row["api_key"]))
