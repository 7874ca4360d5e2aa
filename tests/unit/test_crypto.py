"""o2o.crypto: RSA keys, signatures and OAEP, X.509 and AES-256-GCM — read back by the WeChat Pay
SDK's own functions and by Python's `ssl`, and the only module of o2o/ importing `cryptography`."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from wechatpayv3 import utils as sdk

from o2o import crypto, sealing
from tests.unit.test_import_graph import PACKAGE_DIR, build_import_graph

NOW = datetime.now(UTC).replace(microsecond=0)
HOST = "api.mch.weixin.qq.com"
YEAR = timedelta(days=365)


@pytest.fixture(scope="module")
def key() -> str:
    return crypto.generate_rsa_key()


@pytest.fixture(scope="module")
def other_key() -> str:
    return crypto.generate_rsa_key()


@pytest.fixture(scope="module")
def ca(key: str) -> str:
    return crypto.self_signed_ca(key, "o2o sandbox CA", NOW - timedelta(days=1), NOW + YEAR)


def _leaf(ca_key: str, ca_pem: str, subject_key: str, dns_names: tuple[str, ...] = ()) -> str:
    """A leaf for `subject_key`, valid from yesterday for a year."""
    return crypto.issue_certificate(
        ca_key,
        ca_pem,
        crypto.public_key_pem(subject_key),
        "leaf",
        crypto.random_serial(),
        not_before=NOW - timedelta(days=1),
        not_after=NOW + YEAR,
        dns_names=dns_names,
    )


# --- keys -------------------------------------------------------------------------------------


def test_a_generated_key_is_unencrypted_pkcs8_rsa_2048_that_the_sdk_loads(key: str) -> None:
    loaded = sdk.load_private_key(key)

    assert key.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.key_size == 2048


def test_the_public_key_is_subject_public_key_info_pem_that_the_sdk_loads(key: str) -> None:
    public = crypto.public_key_pem(key)

    assert public.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert sdk.load_public_key(public).public_numbers() == (
        sdk.load_private_key(key).public_key().public_numbers()
    )


def test_a_public_key_loads_from_its_pem_or_from_a_certificate_holding_it(
    key: str, ca: str
) -> None:
    public = crypto.public_key_pem(key)

    assert crypto.load_public_key_pem(public) == public
    assert crypto.load_public_key_pem(ca) == public
    assert crypto.load_public_key_pem("\n  " + public + "\n") == public


def _pem_of(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    )


@pytest.mark.parametrize(
    ("garbage", "says"),
    [
        ("", "not a PEM public key"),
        ("garbage", "not a PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a PEM cert"),
        ("-----BEGIN PUBLIC KEY-----\n公钥\n-----END PUBLIC KEY-----\n", "ASCII"),
        (_pem_of(ec.generate_private_key(ec.SECP256R1())), "not an RSA key"),
        (_pem_of(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "1024 bits"),
    ],
)
def test_garbage_is_a_bad_key_that_says_what_is_wrong(garbage: str, says: str) -> None:
    with pytest.raises(crypto.BadKey, match=says):
        crypto.load_public_key_pem(garbage)


def test_a_private_key_where_a_public_one_belongs_is_a_bad_key(key: str) -> None:
    with pytest.raises(crypto.BadKey):
        crypto.load_public_key_pem(key)
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        crypto.public_key_pem(crypto.public_key_pem(key))


# --- signatures and OAEP ----------------------------------------------------------------------


def test_a_signature_verifies_under_its_key_here_and_in_the_sdk(key: str) -> None:
    message = "GET\n/v3/certificates\n1764820800\nNONCE\n\n"
    signature = crypto.rsa_sign(key, message.encode())

    assert crypto.rsa_verify(crypto.public_key_pem(key), message.encode(), signature)
    assert sdk.rsa_sign(sdk.load_private_key(key), message) == signature  # PKCS1v15 is stable
    timestamp, nonce, body = "1764820800", "NONCE", "{}"
    ours = crypto.rsa_sign(key, f"{timestamp}\n{nonce}\n{body}\n".encode())
    public = sdk.load_public_key(crypto.public_key_pem(key))
    assert sdk.rsa_verify(timestamp, nonce, body, ours, public)


@pytest.mark.parametrize(
    "signature", ["", "not base64!", "AAAA", "é", base64.b64encode(b"x" * 256).decode()]
)
def test_a_bad_signature_is_false_not_an_error(key: str, signature: str) -> None:
    assert crypto.rsa_verify(crypto.public_key_pem(key), b"message", signature) is False


def test_a_signature_fails_under_another_key_or_for_another_message(
    key: str, other_key: str
) -> None:
    signature = crypto.rsa_sign(key, b"message")

    assert not crypto.rsa_verify(crypto.public_key_pem(other_key), b"message", signature)
    assert not crypto.rsa_verify(crypto.public_key_pem(key), b"messagE", signature)


def test_oaep_sha1_round_trips_with_the_sdk_both_ways(key: str) -> None:
    public = crypto.public_key_pem(key)

    from_sdk = sdk.rsa_encrypt("张三 13800138000", sdk.load_public_key(public))
    assert crypto.rsa_oaep_decrypt(key, from_sdk) == "张三 13800138000"
    ours = crypto.rsa_oaep_encrypt(public, "李四")
    assert sdk.rsa_decrypt(ours, sdk.load_private_key(key)) == "李四"


def test_oaep_under_another_key_or_garbage_is_undecryptable(key: str, other_key: str) -> None:
    ciphertext = crypto.rsa_oaep_encrypt(crypto.public_key_pem(other_key), "secret")

    for garbage in (ciphertext, "not base64!", "", base64.b64encode(b"x" * 256).decode()):
        with pytest.raises(crypto.Undecryptable):
            crypto.rsa_oaep_decrypt(key, garbage)


# --- X.509 ------------------------------------------------------------------------------------


def test_a_leaf_carries_its_key_serial_and_validity_as_the_sdk_reads_them(
    key: str, other_key: str, ca: str
) -> None:
    serial = crypto.random_serial()
    not_after = NOW + timedelta(days=30)
    leaf = crypto.issue_certificate(
        key,
        ca,
        crypto.public_key_pem(other_key),
        "1900000001",
        serial,
        not_before=NOW,
        not_after=not_after,
        organization="o2o sandbox",
    )
    loaded = sdk.load_certificate(leaf)

    assert loaded is not None
    assert loaded.serial_number == serial
    assert crypto.certificate_serial_hex(leaf) == hex(serial)[2:].upper()  # as the SDK prints it
    assert int("0x" + crypto.certificate_serial_hex(leaf), 16) == serial  # as the SDK matches it
    assert crypto.certificate_validity(leaf) == (NOW, not_after)
    assert crypto.certificate_public_key_pem(leaf) == crypto.public_key_pem(other_key)
    assert loaded.issuer == sdk.load_certificate(ca).subject


def test_a_serial_is_positive_and_fits_twenty_bytes() -> None:
    serials = {crypto.random_serial() for _ in range(200)}

    assert len(serials) == 200
    assert all(0 < serial < 2**159 for serial in serials)


def test_a_certificate_signed_by_another_key_than_the_cas_is_refused(
    key: str, other_key: str, ca: str
) -> None:
    with pytest.raises(crypto.BadKey, match="does not match the CA certificate"):
        _leaf(other_key, ca, other_key)


def test_naive_validity_bounds_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        crypto.self_signed_ca(key, "CA", datetime(2026, 1, 1), datetime(2027, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize("garbage", ["", "garbage", "-----BEGIN CERTIFICATE-----\nAA==\n"])
def test_a_garbled_certificate_is_a_bad_key(garbage: str) -> None:
    with pytest.raises(crypto.BadKey, match="not a PEM certificate"):
        crypto.certificate_serial_hex(garbage)


def test_a_tls_leaf_for_the_tunnel_verifies_against_the_ca_names_the_hosts_and_is_no_ca(
    key: str, ca: str
) -> None:
    hosts = (HOST, "api2.mch.weixin.qq.com")
    leaf_key, leaf_pem = crypto.issue_tls_leaf(key, ca, hosts, now=NOW, lifetime=timedelta(days=1))
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode())

    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.encode()))
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == list(hosts)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    assert crypto.certificate_validity(leaf_pem) == (
        NOW - timedelta(hours=1),
        NOW + timedelta(days=1),
    )
    assert crypto.certificate_public_key_pem(leaf_pem) == crypto.public_key_pem(leaf_key)


def test_a_tls_leaf_never_outlives_its_ca_and_names_at_least_one_host(key: str, ca: str) -> None:
    _, leaf = crypto.issue_tls_leaf(key, ca, (HOST,), now=NOW, lifetime=10 * YEAR)

    assert crypto.certificate_validity(leaf)[1] == crypto.certificate_validity(ca)[1]
    with pytest.raises(ValueError, match="at least one host"):
        crypto.issue_tls_leaf(key, ca, (), now=NOW, lifetime=YEAR)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory, key: str, ca: str) -> dict[str, Path]:
    """The CA certificate, and the TLS leaf for HOST with its key, as files."""
    leaf_key = crypto.generate_rsa_key()
    directory = tmp_path_factory.mktemp("tls")
    files = {"ca": directory / "ca.pem", "cert": directory / "leaf.pem", "key": directory / "k.pem"}
    files["ca"].write_text(ca)
    files["cert"].write_text(_leaf(key, ca, leaf_key, dns_names=(HOST,)))
    files["key"].write_text(leaf_key)
    return files


@contextlib.contextmanager
def _tls_server(files: dict[str, Path], answer: bytes) -> Iterator[int]:
    """A TLS listener on 127.0.0.1 presenting the leaf, answering one connection with `answer`;
    yields its port, and is closed and joined on the way out."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files["cert"], files["key"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with contextlib.suppress(OSError), listener.accept()[0] as raw:
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.recv(4096)
                tls.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(10)
        listener.close()


def test_the_tls_leaf_passes_a_real_handshake_trusting_only_the_ca(
    tls_files: dict[str, Path],
) -> None:
    client = ssl.create_default_context(cafile=str(tls_files["ca"]))

    with _tls_server(tls_files, b"pong") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client.wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(b"ping")
                assert tls.recv(4) == b"pong"
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_the_tls_leaf_is_refused_for_another_host_name(tls_files: dict[str, Path]) -> None:
    client = ssl.create_default_context(cafile=str(tls_files["ca"]))

    with _tls_server(tls_files, b"pong") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
                client.wrap_socket(raw, server_hostname="api.example.com")


def _constrained_files(directory: Path, key: str, host: str) -> dict[str, Path]:
    """A CA constrained to HOST, and a leaf for `host` it signed, with its key, as files."""
    ca = crypto.self_signed_ca(key, "ca", NOW - timedelta(days=1), NOW + YEAR, dns_names=(HOST,))
    leaf_key = crypto.generate_rsa_key()
    files = {"ca": directory / "ca.pem", "cert": directory / "leaf.pem", "key": directory / "k.pem"}
    files["ca"].write_text(ca)
    files["cert"].write_text(_leaf(key, ca, leaf_key, dns_names=(host,)))
    files["key"].write_text(leaf_key)
    return files


def test_a_name_constrained_ca_vouches_for_its_hosts_and_for_no_other(
    tmp_path: Path, key: str
) -> None:
    for host, refused in ((HOST, False), ("api.example.com", True)):
        directory = tmp_path / host
        directory.mkdir()
        files = _constrained_files(directory, key, host)
        client = ssl.create_default_context(cafile=str(files["ca"]))
        with _tls_server(files, b"pong") as port:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                if refused:  # the leaf names the host, but the CA may not vouch for it
                    with pytest.raises(ssl.SSLCertVerificationError, match="subtree"):
                        client.wrap_socket(raw, server_hostname=host)
                    continue
                with client.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(b"ping")
                    assert tls.recv(4) == b"pong"


class _NamedHost(requests.adapters.HTTPAdapter):
    """Connects where the URL says and checks the certificate against HOST, as a tunnel does."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **{**kwargs, "server_hostname": HOST})  # type: ignore[arg-type]


def test_requests_accepts_the_tls_leaf_with_the_ca_as_its_bundle(
    tls_files: dict[str, Path],
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    with _tls_server(tls_files, answer) as port, requests.Session() as session:
        session.mount("https://", _NamedHost())
        response = session.get(f"https://127.0.0.1:{port}/", verify=str(tls_files["ca"]))

    assert response.text == "ok"


# --- AES-256-GCM ------------------------------------------------------------------------------


def test_aes_gcm_round_trips_and_the_sdk_decrypts_it() -> None:
    key, nonce = b"k" * 32, b"123456789012"
    sealed = crypto.aes_gcm_encrypt(key, nonce, "支付成功".encode(), b"transaction")

    assert crypto.aes_gcm_decrypt(key, nonce, sealed, b"transaction") == "支付成功".encode()
    assert AESGCM(key).decrypt(nonce, sealed, b"transaction") == "支付成功".encode()
    assert (
        sdk.aes_decrypt("123456789012", base64.b64encode(sealed).decode(), "transaction", "k" * 32)
        == "支付成功"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"key": b"K" * 32},
        {"key": b"k" * 16},
        {"nonce": b"210987654321"},
        {"nonce": b""},
        {"associated_data": b"refund"},
        {"ciphertext": b""},
        {"ciphertext": b"x" * 40},
    ],
)
def test_aes_gcm_under_anything_else_is_undecryptable(change: dict[str, bytes]) -> None:
    given = {"key": b"k" * 32, "nonce": b"123456789012", "associated_data": b"transaction"}
    given["ciphertext"] = crypto.aes_gcm_encrypt(
        given["key"], given["nonce"], b"text", given["associated_data"]
    )
    given.update(change)

    with pytest.raises(crypto.Undecryptable):
        crypto.aes_gcm_decrypt(
            given["key"], given["nonce"], given["ciphertext"], given["associated_data"]
        )


def test_aes_256_gcm_refuses_a_shorter_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.aes_gcm_encrypt(b"k" * 16, b"123456789012", b"text", b"")


def test_sealing_keeps_its_format_now_that_it_goes_through_o2o_crypto() -> None:
    key = sealing._key("secret", "purpose")
    nonce = os.urandom(12)
    legacy = (
        "s1."
        + base64.b64encode(nonce + AESGCM(key).encrypt(nonce, b"stored body", b"purpose")).decode()
    )
    sealed = sealing.seal("secret", "purpose", "stored body")
    raw = base64.b64decode(sealed.removeprefix("s1."))

    assert sealing.unseal("secret", "purpose", legacy) == "stored body"
    assert AESGCM(key).decrypt(raw[:12], raw[12:], b"purpose") == b"stored body"
    for wrong in (
        ("other", "purpose", sealed),
        ("secret", "other", sealed),
        ("secret", "purpose", "s1.AAAA"),
    ):
        with pytest.raises(sealing.Unsealable):
            sealing.unseal(*wrong)


def test_only_o2o_crypto_imports_cryptography() -> None:
    graph = build_import_graph(PACKAGE_DIR)
    importers = sorted(
        name
        for name, targets in graph.items()
        if any(target.split(".")[0] == "cryptography" for target in targets)
    )

    assert importers == ["o2o.crypto"]
