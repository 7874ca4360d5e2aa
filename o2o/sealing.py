"""Sealed text: AES-256-GCM (through o2o.crypto) under a key derived from the instance secret.
What the service must keep but nobody should read at rest — a stored response carrying a new API
key or a payment code — is sealed; a wrong secret or a changed byte opens nothing."""

from __future__ import annotations

import base64
import hashlib
import os

from o2o.crypto import aes_gcm_decrypt, aes_gcm_encrypt

VERSION = "s1"
_NONCE_BYTES = 12


class Unsealable(ValueError):
    """The text was sealed under another secret, or changed since."""


def _key(secret: str, purpose: str) -> bytes:
    """One 256-bit key per purpose, so a sealed text of one kind never opens as another."""
    return hashlib.sha256(f"o2o-seal:{purpose}:{secret}".encode()).digest()


def seal(secret: str, purpose: str, text: str) -> str:
    """`s1.<base64 nonce + ciphertext + tag>`: a fresh nonce each time."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = aes_gcm_encrypt(_key(secret, purpose), nonce, text.encode(), purpose.encode())
    return f"{VERSION}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(secret: str, purpose: str, sealed: str) -> str:
    """The text `seal` was given; raise Unsealable for anything else."""
    version, _, body = sealed.partition(".")
    if version != VERSION:
        raise Unsealable("not a sealed text")
    try:
        raw = base64.b64decode(body, validate=True)
        opened = aes_gcm_decrypt(
            _key(secret, purpose), raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode()
        )
    except ValueError as error:  # bad base64, or o2o.crypto.Undecryptable
        raise Unsealable("sealed under another secret, or changed") from error
    return opened.decode()
