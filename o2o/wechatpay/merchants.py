"""The platform's identity and the merchants who may call /v3/: registering one, listing them,
and the keys a request is verified with or a response is signed with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from o2o import clock, crypto, store
from o2o.errors import O2OError, field_error
from o2o.extensions import db
from o2o.models import Store, WechatMerchant, WechatPlatform
from o2o.sealing import seal, unseal
from o2o.vocabulary import ErrorCode
from o2o.wechatpay import protocol

PLATFORM_ROW = 1
PLATFORM_NAME = "O2O sandbox WeChat Pay platform"
CA_NAME = "O2O sandbox WeChat Pay CA"
GATEWAY_HOST = "api.mch.weixin.qq.com"
CERTIFICATE_YEARS = 5
SEAL_PLATFORM = "wechatpay-platform-key"
SEAL_APIV3 = "wechatpay-apiv3-key"
MODES = ("certificate", "public_key")


def _seal(purpose: str, text: str) -> str:
    return seal(current_app.config["O2O_SECRET_KEY"], purpose, text)


def _unseal(purpose: str, sealed: str) -> str:
    return unseal(current_app.config["O2O_SECRET_KEY"], purpose, sealed)


def _validity() -> tuple[datetime, datetime]:
    """Certificates are checked by the SDK against the real clock, whatever the sandbox's says."""
    now = clock.real_now()
    return now - timedelta(days=1), now + timedelta(days=365 * CERTIFICATE_YEARS)


# -- the platform: made once per installation, then read


@dataclass(frozen=True)
class Platform:
    """What signs responses and notifications, and what a merchant trusts them by."""

    private_key: str
    certificate: str
    serial_no: str
    public_key: str
    public_key_id: str
    ca_private_key: str
    ca_certificate: str

    def serial_for(self, mode: str) -> str:
        """The `Wechatpay-Serial` a client of this mode can match (a hex certificate serial,
        or the `PUB_KEY_ID_…` it was configured with)."""
        return self.public_key_id if mode == "public_key" else self.serial_no


def platform() -> Platform:
    """The platform identity, created (and committed) on first use; the same row ever after,
    so its certificate serial survives restarts."""
    row = db.session.get(WechatPlatform, PLATFORM_ROW)
    if row is None:
        row = _create_platform()
    return Platform(
        private_key=_unseal(SEAL_PLATFORM, row.private_key_sealed),
        certificate=row.certificate,
        serial_no=row.serial_no,
        public_key=crypto.certificate_public_key_pem(row.certificate),
        public_key_id=row.public_key_id,
        ca_private_key=_unseal(SEAL_PLATFORM, row.ca_private_key_sealed),
        ca_certificate=row.ca_certificate,
    )


def _create_platform() -> WechatPlatform:
    not_before, not_after = _validity()
    ca_key = crypto.generate_rsa_key()
    ca_cert = crypto.self_signed_ca(
        ca_key, CA_NAME, not_before, not_after, dns_names=protocol.API_HOSTS
    )
    key = crypto.generate_rsa_key()
    serial = crypto.random_serial()
    certificate = crypto.issue_certificate(
        ca_key,
        ca_cert,
        crypto.public_key_pem(key),
        PLATFORM_NAME,
        serial,
        not_before=not_before,
        not_after=not_after,
        organization="Tenpay.com",
    )
    row = WechatPlatform(
        id=PLATFORM_ROW,
        private_key_sealed=_seal(SEAL_PLATFORM, key),
        certificate=certificate,
        serial_no=crypto.certificate_serial_hex(certificate),
        public_key_id="PUB_KEY_ID_" + "".join(secrets.choice("0123456789") for _ in range(32)),
        ca_private_key_sealed=_seal(SEAL_PLATFORM, ca_key),
        ca_certificate=ca_cert,
        created_at=clock.now(),
    )
    db.session.add(row)
    try:
        store.commit()
    except IntegrityError:  # another process made it first: theirs is the one
        store.rollback()
        found = db.session.get(WechatPlatform, PLATFORM_ROW)
        assert found is not None
        return found
    return row


# -- merchants


@dataclass(frozen=True)
class Registered:
    """A new merchant and what is shown once: its APIv3 key and, when this service generated
    its key pair, the private key."""

    merchant: WechatMerchant
    apiv3_key: str
    private_key: str | None
    certificate: str


def _new_mchid() -> str:
    return "16" + "".join(secrets.choice("0123456789") for _ in range(8))


def register_merchant(
    *,
    appid: str,
    name: str,
    store_ids: list[str],
    mode: str,
    mchid: str | None = None,
    merchant_public_key: str | None = None,
    apiv3_key: str | None = None,
    cert_serial_no: str | None = None,
) -> Registered:
    """Register a merchant selling in `store_ids`; without `merchant_public_key` a key pair is
    generated and its private half returned (never stored). A demo passes its fixed
    `apiv3_key` and certificate serial (hex); otherwise they are generated."""
    _check_new(store_ids, mchid)
    public_key, private_key = _key_pair(merchant_public_key)
    certificate = _merchant_certificate(public_key, name, cert_serial_no)
    apiv3_key = apiv3_key or protocol.new_apiv3_key()
    merchant = WechatMerchant(
        mchid=mchid or _new_mchid(),
        appid=appid,
        name=name,
        store_ids=list(dict.fromkeys(store_ids)),
        mode=mode,
        merchant_public_key=public_key,
        cert_serial_no=crypto.certificate_serial_hex(certificate),
        apiv3_key_sealed=_seal(SEAL_APIV3, apiv3_key),
        created_at=clock.now(),
    )
    db.session.add(merchant)
    try:
        store.commit()
    except IntegrityError as exc:  # the same mchid, registered a moment ago
        store.rollback()
        raise O2OError(ErrorCode.MERCHANT_EXISTS) from exc
    return Registered(merchant, apiv3_key, private_key, certificate)


def _check_new(store_ids: list[str], mchid: str | None) -> None:
    if not store_ids:
        raise field_error("store_ids", "Name at least one store.")
    missing = sorted(set(store_ids) - set(db.session.scalars(select(Store.id))))
    if missing:
        raise field_error("store_ids", f"No store has the id {', '.join(missing)}.")
    if mchid is not None and db.session.get(WechatMerchant, mchid) is not None:
        raise O2OError(ErrorCode.MERCHANT_EXISTS)


def _key_pair(uploaded: str | None) -> tuple[str, str | None]:
    """The merchant's public key, and its private key when this service made the pair."""
    if uploaded is None:
        private_key = crypto.generate_rsa_key()
        return crypto.public_key_pem(private_key), private_key
    try:
        return crypto.load_public_key_pem(uploaded), None
    except crypto.BadKey as exc:
        raise field_error("merchant_public_key", str(exc)) from exc


def _merchant_certificate(public_key: str, name: str, serial_hex: str | None) -> str:
    """The merchant's API certificate, signed by the platform's CA."""
    the_platform = platform()
    not_before, not_after = _validity()
    return crypto.issue_certificate(
        the_platform.ca_private_key,
        the_platform.ca_certificate,
        public_key,
        name,
        int(serial_hex, 16) if serial_hex else crypto.random_serial(),
        not_before=not_before,
        not_after=not_after,
    )


def list_merchants() -> list[WechatMerchant]:
    """Every merchant, oldest first (no secrets: those were shown once)."""
    found = db.session.scalars(
        select(WechatMerchant).order_by(WechatMerchant.created_at, WechatMerchant.mchid)
    ).all()
    store.rollback()
    return list(found)


def find_merchant(mchid: str) -> WechatMerchant | None:
    return db.session.get(WechatMerchant, mchid)


def apiv3_key(merchant: WechatMerchant) -> str:
    return _unseal(SEAL_APIV3, merchant.apiv3_key_sealed)
