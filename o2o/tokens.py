"""Secrets: signed QR tokens, API keys, coupon codes, and payment codes with their keyed hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from o2o.errors import O2OError
from o2o.vocabulary import ErrorCode, Role

QR_TOKEN_VERSION = "O2O1"
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, no 1/I
CODE_LENGTH = 12  # 60 bits of randomness
# Standard base32 has 32 symbols too: encoding random bytes and translating is one uniform
# draw per 5 bits, without a random call per character.
_TO_CODE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET)
_STRAY = re.compile(r"[\s\-_]+")


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_qr_token(secret: str, code: str, expires_at: datetime) -> str:
    """A token naming a coupon until expires_at: `O2O1.<code>.<unix expiry>.<HMAC-SHA256>`."""
    payload = f"{QR_TOKEN_VERSION}.{code}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(secret, payload)}"


def verify_qr_token(secret: str, token: str, now: datetime) -> str:
    """Return the coupon code a genuine, unexpired token names; raise otherwise.

    The signature is compared as text, so every byte of the token is covered (base64 padding
    bits included). A genuine token proves the code, not that the coupon is unspent.
    """
    parts = token.split(".") if isinstance(token, str) and token.isascii() else []
    if len(parts) != 4 or parts[0] != QR_TOKEN_VERSION or not parts[2].isdigit():
        raise O2OError(ErrorCode.INVALID_QR_TOKEN)
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(secret, payload), parts[3]):
        raise O2OError(ErrorCode.INVALID_QR_TOKEN)
    if int(parts[2]) <= int(now.timestamp()):
        raise O2OError(ErrorCode.QR_TOKEN_EXPIRED)
    return parts[1]


def token_expiry(token: str) -> datetime:
    """The expiry written in a token (no verification)."""
    return datetime.fromtimestamp(int(token.split(".")[2]), UTC)


def new_coupon_code() -> str:
    return _random_symbols(CODE_LENGTH)


def normalize_code(raw: str) -> str:
    """Codes are looked up in any case, with stray spaces or dashes."""
    return _STRAY.sub("", raw).upper()


def new_api_key(role: Role) -> str:
    return f"o2o_{role}_{secrets.token_urlsafe(24)}"


def hash_api_key(key: str) -> str:
    """Keys are 192-bit random strings, so a fast hash is safe and keeps auth cheap per request."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_payment_code() -> str:
    """An 18-digit one-time payment code starting 10–15, like a WeChat Pay 付款码."""
    return f"1{secrets.randbelow(6)}" + "".join(str(secrets.randbelow(10)) for _ in range(16))


def payment_code_shaped(text: str) -> bool:
    """Whether `text` has a payment code's shape (18 ASCII digits starting 10–15); never
    whether such a code was issued."""
    return len(text) == 18 and text.isascii() and text.isdigit() and "10" <= text[:2] <= "15"


def hash_payment_code(secret: str, code: str) -> str:
    """What a payment code is stored and looked up by: HMAC-SHA256 under the instance secret.

    Eighteen digits are about 2^56 codes, few enough to try them all against a plain hash; the
    key (which never reaches the database) makes a leaked table useless without the secret.
    """
    key = f"o2o-payment-code:{secret}".encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def new_id(prefix: str) -> str:
    """An opaque id: a short type prefix and 16 random base32 characters."""
    return f"{prefix}_" + _random_symbols(16).lower()


def _random_symbols(count: int) -> str:
    """`count` characters of CODE_ALPHABET, each uniformly random."""
    random = secrets.token_bytes(-(-count * 5 // 8))  # enough whole bytes for 5 bits per char
    return base64.b32encode(random).decode()[:count].translate(_TO_CODE)
