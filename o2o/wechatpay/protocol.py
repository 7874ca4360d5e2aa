"""WeChat Pay APIv3 on the wire, as the official SDK (`wechatpayv3`) speaks it: the Authorization
header, the messages merchants and the platform sign, encrypted resources, notification and
certificate bodies, RFC 3339 times, keys, nonces and openids. Plain Python over o2o.crypto: no
framework, no database (the facts: WECHATPAY_V3.md of the design notes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from o2o import crypto

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
SIGN_ERROR = "SIGN_ERROR"
PARAM_ERROR = "PARAM_ERROR"
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
APIV3_KEY_LENGTH = 32
RESOURCE_NONCE_LENGTH = 12
OPENID_LENGTH = 28
# The hosts WeChat Pay's APIv3 answers on: the only names the platform CA may vouch for.
API_HOSTS = ("api.mch.weixin.qq.com", "api2.mch.weixin.qq.com")

_ALPHANUMERIC = string.ascii_letters + string.digits
_AUTHORIZATION_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
_MAX_AUTHORIZATION = 4096  # the SDK's header is ~450 characters with a 2048-bit signature
_PAIR = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*(?:,|\Z)')
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class ProtocolError(ValueError):
    """What the protocol refuses, with WeChat Pay's error code (`SIGN_ERROR`, `PARAM_ERROR`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- merchant → us: the signed request --------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The fields of a `WECHATPAY2-SHA256-RSA2048 mchid="…",…` header."""

    mchid: str
    nonce_str: str
    signature: str
    timestamp: int
    serial_no: str


def parse_authorization(header: str | None) -> Authorization:
    """The Authorization header's fields; ProtocolError(SIGN_ERROR) for anything missing or
    garbled (another scheme, unquoted or repeated fields, a timestamp not in plain digits)."""
    if not isinstance(header, str) or len(header) > _MAX_AUTHORIZATION:
        raise ProtocolError(SIGN_ERROR, "missing or oversized Authorization header")
    scheme, _, parameters = header.strip().partition(" ")
    if scheme != SIGNATURE_TYPE:
        raise ProtocolError(SIGN_ERROR, f"the Authorization scheme must be {SIGNATURE_TYPE}")
    fields = _fields(parameters)
    missing = [name for name in _AUTHORIZATION_FIELDS if not fields.get(name)]
    if missing:
        raise ProtocolError(SIGN_ERROR, f"the Authorization header lacks {', '.join(missing)}")
    timestamp = fields["timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit() and str(int(timestamp)) == timestamp):
        raise ProtocolError(SIGN_ERROR, "the Authorization timestamp is not Unix seconds")
    return Authorization(
        mchid=fields["mchid"],
        nonce_str=fields["nonce_str"],
        signature=fields["signature"],
        timestamp=int(timestamp),
        serial_no=fields["serial_no"],
    )


def _fields(parameters: str) -> dict[str, str]:
    """`a="1",b="2"` as a dict; ProtocolError(SIGN_ERROR) unless every byte is such a pair and
    no name repeats."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(parameters):
        pair = _PAIR.match(parameters, position)
        if pair is None or pair.group(1) in fields:
            raise ProtocolError(SIGN_ERROR, "the Authorization parameters are garbled")
        fields[pair.group(1)] = pair.group(2)
        position = pair.end()
    return fields


def request_message(
    method: str, path_with_query: str, timestamp: int, nonce: str, body: bytes
) -> bytes:
    """What a merchant signs: `METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n`, over the body's raw
    bytes as received (never re-serialized)."""
    head = f"{method}\n{path_with_query}\n{timestamp}\n{nonce}\n"
    return _utf8(head) + body + b"\n"


def candidate_paths(raw_uri: str) -> tuple[str, ...]:
    """The path and query as received, then its percent-decoded form: the SDK signs the path
    unencoded, and requests sends `|`, spaces and non-ASCII percent-encoded."""
    return tuple(dict.fromkeys((raw_uri, unquote(raw_uri))))


def verify_request(
    auth: Authorization, method: str, raw_uri: str, body: bytes, merchant_public_pem: str
) -> bool:
    """Whether the merchant's key signed this request, under any candidate path. The timestamp's
    freshness and the nonce's novelty are the caller's to check."""
    return any(
        crypto.rsa_verify(
            merchant_public_pem,
            request_message(method, path, auth.timestamp, auth.nonce_str, body),
            auth.signature,
        )
        for path in candidate_paths(raw_uri)
    )


# --- us → merchant: signed responses and notifications ----------------------------------------


def signed_response_headers(
    platform_private_pem: str, serial: str, body: bytes, timestamp: int, nonce: str
) -> dict[str, str]:
    """The headers that let the SDK verify a response or a notification: the platform key's
    signature over `TIMESTAMP\\nNONCE\\nBODY\\n` (the exact bytes sent; empty for a 204).
    `serial` is the platform certificate's hex serial, or `PUB_KEY_ID_…` in public-key mode."""
    message = _utf8(f"{timestamp}\n{nonce}\n") + body + b"\n"
    return {
        "Wechatpay-Signature": crypto.rsa_sign(platform_private_pem, message),
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def encrypt_resource(
    apiv3_key: str, plaintext: str, associated_data: str, original_type: str
) -> dict[str, str]:
    """A notification's `resource`: `plaintext` under AES-256-GCM with the merchant's APIv3 key
    and a fresh 12-character nonce."""
    return {"original_type": original_type, **_encrypted(apiv3_key, plaintext, associated_data)}


def decrypt_resource(apiv3_key: str, resource: Mapping[str, Any]) -> str:
    """The plaintext of an encrypted resource (or certificate); crypto.Undecryptable for a wrong
    key, a changed byte or a malformed resource."""
    if resource.get("algorithm") != ALGORITHM:
        raise crypto.Undecryptable(f"the algorithm is not {ALGORITHM}")
    fields = _strings(resource, ("nonce", "ciphertext", "associated_data"))
    if fields is None:
        raise crypto.Undecryptable("nonce, ciphertext and associated_data are strings")
    nonce, ciphertext, associated_data = fields
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        opened = crypto.aes_gcm_decrypt(
            _utf8(apiv3_key), _utf8(nonce), sealed, _utf8(associated_data)
        )
        return opened.decode()
    except ValueError as error:  # bad base64 or UTF-8 (Undecryptable is one too)
        raise crypto.Undecryptable(str(error)) from error


def notification_body(
    notification_id: str,
    create_time: datetime,
    event_type: str,
    summary: str,
    resource: Mapping[str, str],
) -> bytes:
    """The JSON bytes of a notification to the merchant's `notify_url` (UTF-8: summaries are
    Chinese, like 支付成功); sign these bytes, send these bytes."""
    notification = {
        "id": notification_id,
        "create_time": rfc3339(create_time),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": dict(resource),
    }
    return _json(notification)


def certificates_body(apiv3_key: str, certificates: Sequence[tuple[str, str]]) -> bytes:
    """The body of `GET /v3/certificates` for (hex serial, certificate PEM) pairs: each PEM
    encrypted under the APIv3 key, its validity read from the certificate itself."""
    data = []
    for serial_hex, cert_pem in certificates:
        effective, expire = crypto.certificate_validity(cert_pem)
        data.append(
            {
                "serial_no": serial_hex,
                "effective_time": rfc3339(effective),
                "expire_time": rfc3339(expire),
                "encrypt_certificate": _encrypted(apiv3_key, cert_pem, "certificate"),
            }
        )
    return _json({"data": data})


def _encrypted(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """`algorithm`, `ciphertext` (base64 of ciphertext and tag), `associated_data`, `nonce`."""
    nonce = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(RESOURCE_NONCE_LENGTH))
    sealed = crypto.aes_gcm_encrypt(
        _utf8(apiv3_key), nonce.encode(), _utf8(plaintext), _utf8(associated_data)
    )
    return {
        "algorithm": ALGORITHM,
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


# --- JSAPI paySign ----------------------------------------------------------------------------


def paysign_message(appid: str, timestamp: str, nonce_str: str, package: str) -> bytes:
    """What a merchant signs for `wx.requestPayment` (its `paySign`):
    `appId\\ntimeStamp\\nnonceStr\\npackage\\n`."""
    return _utf8(f"{appid}\n{timestamp}\n{nonce_str}\n{package}\n")


def verify_paysign(
    merchant_public_pem: str, params: Mapping[str, Any], *, app: bool = False
) -> bool:
    """Whether the parameters a page hands `wx.requestPayment` (`appId`, `timeStamp`, `nonceStr`,
    `package`, `signType` "RSA", `paySign`) carry the merchant's signature. For an APP payment
    (`app=True`) the app's `sign` covers the bare prepay id, `appid\ntimestamp\nnoncestr\n
    prepayid\n`, in place of the package."""
    fields = _strings(params, ("appId", "timeStamp", "nonceStr", "package", "paySign"))
    if fields is None or params.get("signType") != "RSA":
        return False
    appid, timestamp, nonce_str, package, pay_sign = fields
    signed = package.removeprefix("prepay_id=") if app else package
    message = paysign_message(appid, timestamp, nonce_str, signed)
    return crypto.rsa_verify(merchant_public_pem, message, pay_sign)


# --- times, keys, nonces, openids -------------------------------------------------------------


YEARS = (1970, 9998)  # what a WeChat Pay time may be: far from datetime's limits


def rfc3339(dt: datetime) -> str:
    """An aware time as WeChat Pay prints it, to the second, in China's time:
    `2026-12-04T10:00:00+08:00`."""
    if dt.tzinfo is None:
        raise ValueError("an RFC 3339 time is timezone-aware")
    return dt.astimezone(CHINA).replace(microsecond=0).isoformat()


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 time (`2026-12-04T10:00:00+08:00`, `…Z`) as an aware datetime in UTC;
    ProtocolError(PARAM_ERROR) for anything else."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        raise ProtocolError(PARAM_ERROR, f"not an RFC 3339 time: {str(text)[:40]!r}")
    try:
        moment = datetime.fromisoformat(text.upper()).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise ProtocolError(PARAM_ERROR, f"not a valid time: {text!r}") from error
    if not YEARS[0] <= moment.year <= YEARS[1]:  # printable again in any zone, China's included
        raise ProtocolError(PARAM_ERROR, f"not a time of the years {YEARS[0]} to {YEARS[1]}")
    return moment


def new_apiv3_key() -> str:
    """A merchant's APIv3 key: 32 ASCII letters and digits (the SDK uses its bytes as the key)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(APIV3_KEY_LENGTH))


def new_nonce() -> str:
    """A nonce as the SDK makes them: 32 upper-case hex digits."""
    return secrets.token_hex(16).upper()


def openid(secret: str, appid: str, shopper_id: str) -> str:
    """A shopper's openid under one appid: stable, different per appid, not reversible; 28
    URL-safe characters starting with `o`, like WeChat's."""
    message = json.dumps([appid, shopper_id]).encode()
    digest = hmac.new(_utf8(f"o2o-openid:{secret}"), message, hashlib.sha256).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[: OPENID_LENGTH - 1]


def _strings(mapping: Mapping[str, Any], names: tuple[str, ...]) -> list[str] | None:
    """The values under `names`, if every one is a string."""
    values = [value for value in map(mapping.get, names) if isinstance(value, str)]
    return values if len(values) == len(names) else None


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _utf8(text: str) -> bytes:
    """UTF-8 that never raises: a lone surrogate from a hostile header gives bytes that match
    no signature, not an exception."""
    return text.encode("utf-8", "surrogatepass")
