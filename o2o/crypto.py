"""The only module that imports `cryptography`: RSA keys, signatures and OAEP, X.509 certificates
and AES-256-GCM, as small functions over PEM strings and bytes. No object of the library leaves
this module, so its callers (sealing, the WeChat Pay facade) stay plain Python."""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

RSA_BITS = 2048
AES_KEY_BYTES = 32
# WeChat Pay encrypts sensitive fields with OAEP over SHA-1 (its SDK: utils.rsa_encrypt)
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


_Extensions = list[tuple[x509.ExtensionType, bool]]  # (extension, critical)
_Key = TypeVar("_Key", rsa.RSAPrivateKey, rsa.RSAPublicKey)


class BadKey(ValueError):
    """A PEM text that is not a usable RSA key or certificate."""


class Undecryptable(ValueError):
    """A ciphertext opened under the wrong key, or changed since."""


# --- keys -------------------------------------------------------------------------------------


def generate_rsa_key() -> str:
    """A fresh 2048-bit RSA private key as unencrypted PKCS#8 PEM (what the WeChat SDK loads)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(private_pem: str) -> str:
    """The SubjectPublicKeyInfo PEM of a private key."""
    return _public_pem(_private_key(private_pem).public_key())


def load_public_key_pem(pem: str) -> str:
    """The RSA public key (≥ 2048 bits) of a PUBLIC KEY or CERTIFICATE PEM, as SubjectPublicKeyInfo
    PEM; raise BadKey for anything else."""
    return _public_pem(_public_key(pem))


@functools.lru_cache(maxsize=64)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    """A PEM private key, loaded once per text (validating an RSA key costs milliseconds)."""
    try:
        key = serialization.load_pem_private_key(_ascii(pem), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise BadKey(f"not an unencrypted PEM private key ({error})") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BadKey("the private key is not an RSA key")
    return _big_enough(key)


@functools.lru_cache(maxsize=256)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    """A PUBLIC KEY PEM, or the key of a CERTIFICATE PEM, loaded once per text."""
    data = _ascii(pem)
    if b"-----BEGIN CERTIFICATE-----" in data:
        return _big_enough(_rsa_public(_certificate(pem)))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise BadKey(f"not a PEM public key or certificate ({error})") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadKey("the public key is not an RSA key")
    return _big_enough(key)


def _big_enough(key: _Key) -> _Key:
    """The key, if it has the 2048 bits WeChat Pay's RSA2048 signatures need."""
    if key.key_size < RSA_BITS:
        raise BadKey(f"the RSA key has {key.key_size} bits; WeChat Pay needs {RSA_BITS}")
    return key


def _ascii(pem: str) -> bytes:
    """PEM text as bytes; BadKey if it is not ASCII text."""
    if not isinstance(pem, str) or not pem.isascii():
        raise BadKey("a PEM text is ASCII text")
    return pem.encode()


def _public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# --- RSA signatures and OAEP ------------------------------------------------------------------


def rsa_sign(private_pem: str, message: bytes) -> str:
    """base64 of the RSA-PKCS1v15-SHA256 signature of `message`."""
    signature = _private_key(private_pem).sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(public_pem: str, message: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` signs `message` under the key (a PUBLIC KEY or certificate PEM);
    False, never an exception, for bad base64 or a bad signature."""
    key = _public_key(public_pem)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, TypeError, InvalidSignature):
        return False
    return True


def rsa_oaep_encrypt(public_pem: str, plaintext: str) -> str:
    """base64 of `plaintext` under RSA-OAEP-SHA1, as WeChat Pay encrypts sensitive fields."""
    return base64.b64encode(_public_key(public_pem).encrypt(plaintext.encode(), _OAEP)).decode()


def rsa_oaep_decrypt(private_pem: str, ciphertext_b64: str) -> str:
    """The text `rsa_oaep_encrypt` was given; Undecryptable for anything else."""
    key = _private_key(private_pem)
    try:
        return key.decrypt(base64.b64decode(ciphertext_b64, validate=True), _OAEP).decode()
    except (binascii.Error, ValueError, TypeError) as error:
        raise Undecryptable("not encrypted under this key") from error


# --- X.509 ------------------------------------------------------------------------------------


def self_signed_ca(
    private_pem: str,
    common_name: str,
    not_before: datetime,
    not_after: datetime,
    *,
    dns_names: Sequence[str] = (),
) -> str:
    """A self-signed CA certificate (PEM) that may sign leaf certificates only — and, given
    `dns_names`, TLS certificates for those hosts only (name constraints): a trust store
    holding it trusts it for nothing else."""
    key = _private_key(private_pem)
    name = _name(common_name, None)
    extensions: _Extensions = [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (_key_usage(ca=True), True),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    ]
    if dns_names:
        permitted = [x509.DNSName(host) for host in dns_names]
        extensions.append((x509.NameConstraints(permitted, None), True))
    validity = (not_before, not_after)
    return _signed(
        key, name, name, key.public_key(), random_serial(), validity=validity, extensions=extensions
    )


def issue_certificate(
    ca_private_pem: str,
    ca_cert_pem: str,
    subject_public_pem: str,
    common_name: str,
    serial: int,
    *,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
    organization: str | None = None,
) -> str:
    """A leaf certificate (PEM) for `subject_public_pem`, signed by the CA. With `dns_names` it
    is a TLS server certificate: SubjectAlternativeName and the serverAuth key usage."""
    ca_key, ca = _private_key(ca_private_pem), _certificate(ca_cert_pem)
    if _public_pem(ca_key.public_key()) != _public_pem(_rsa_public(ca)):
        raise BadKey("the CA private key does not match the CA certificate")
    subject = _public_key(subject_public_pem)
    extensions: _Extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(ca=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(subject), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    ]
    if dns_names:
        san = x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names])
        extensions += [
            (san, False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ]
    name = _name(common_name, organization)
    validity = (not_before, not_after)
    return _signed(
        ca_key, name, ca.subject, subject, serial, validity=validity, extensions=extensions
    )


TLS_CLOCK_SKEW = timedelta(hours=1)  # a client whose clock is a little behind still accepts it


def issue_tls_leaf(
    ca_private_pem: str,
    ca_cert_pem: str,
    dns_names: Sequence[str],
    *,
    now: datetime,
    lifetime: timedelta,
) -> tuple[str, str]:
    """A fresh key and a short-lived TLS server certificate for `dns_names`, signed by the CA:
    (key PEM, certificate PEM). Valid from a little before `now` for `lifetime`, never past
    the CA; a leaf, not a CA, with the names as SubjectAlternativeName and serverAuth."""
    if not dns_names:
        raise ValueError("a TLS certificate names at least one host")
    key = generate_rsa_key()
    not_after = min(now + lifetime, certificate_validity(ca_cert_pem)[1])
    certificate = issue_certificate(
        ca_private_pem,
        ca_cert_pem,
        public_key_pem(key),
        dns_names[0],
        random_serial(),
        not_before=now - TLS_CLOCK_SKEW,
        not_after=not_after,
        dns_names=dns_names,
    )
    return key, certificate


def certificate_serial_hex(cert_pem: str) -> str:
    """The serial as WeChat Pay prints it: upper-case hex, no `0x`."""
    return format(_certificate(cert_pem).serial_number, "X")


def certificate_validity(cert_pem: str) -> tuple[datetime, datetime]:
    """(not before, not after), aware in UTC."""
    certificate = _certificate(cert_pem)
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


def certificate_public_key_pem(cert_pem: str) -> str:
    """The certificate's public key, as SubjectPublicKeyInfo PEM."""
    return _public_pem(_rsa_public(_certificate(cert_pem)))


def random_serial() -> int:
    """A random certificate serial: positive and below 2**159 (20 bytes, as RFC 5280 allows)."""
    return secrets.randbelow(2**159 - 1) + 1


@functools.lru_cache(maxsize=64)
def _certificate(pem: str) -> x509.Certificate:
    """A PEM certificate, loaded once per text; BadKey for anything else."""
    try:
        return x509.load_pem_x509_certificate(_ascii(pem))
    except ValueError as error:
        raise BadKey(f"not a PEM certificate ({error})") from error


def _rsa_public(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadKey("the certificate's key is not an RSA key")
    return key


def _name(common_name: str, organization: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _signed(
    signer: rsa.RSAPrivateKey,
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPublicKey,
    serial: int,
    *,
    validity: tuple[datetime, datetime],
    extensions: _Extensions,
) -> str:
    """The PEM certificate of `key`, signed with SHA-256; validity bounds are aware datetimes."""
    not_before, not_after = validity
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise ValueError("certificate validity bounds are timezone-aware datetimes")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """A CA signs certificates and CRLs; a leaf signs and, for TLS with RSA, enciphers keys."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


# --- AES-256-GCM ------------------------------------------------------------------------------


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Ciphertext followed by its 16-byte tag, under a 32-byte key."""
    if len(key) != AES_KEY_BYTES:
        raise ValueError(f"an AES-256 key has {AES_KEY_BYTES} bytes, not {len(key)}")
    return AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """The plaintext `aes_gcm_encrypt` was given; Undecryptable for a wrong key, nonce, associated
    data or tag, or a changed byte."""
    if len(key) != AES_KEY_BYTES:
        raise Undecryptable(f"an AES-256 key has {AES_KEY_BYTES} bytes, not {len(key)}")
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated_data)
    except (ValueError, InvalidTag) as error:
        raise Undecryptable("not encrypted under this key, or changed since") from error
