"""Standard Webhooks signatures (standardwebhooks.com): `whsec_` secrets and the headers of a
delivery, so that a receiver verifies it with the `standardwebhooks` or `svix` package as is.

Pure Python: no Flask, no database. The signed message is `{id}.{timestamp}.{body}`; the key
is the base64-decoded secret after `whsec_`; each signature is `v1,<base64 HMAC-SHA256>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
USER_AGENT = "o2o-webhooks/1 (+https://www.standardwebhooks.com)"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>`."""
    message = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(msg_id: str, timestamp: int, body: bytes, secrets_: Sequence[str]) -> dict[str, str]:
    """The headers of one attempt: one signature per live secret (newest first), space-separated.

    `timestamp` is the attempt's Unix time by the real clock: receivers check it against their
    own clock for freshness, whatever time the service's sandbox clock shows."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
