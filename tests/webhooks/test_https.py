"""https receivers: the connection goes to the vetted address while TLS names the URL's host
(SNI, and the certificate is checked against it)."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from o2o.events import transport
from tests.webhooks.receiver import receiving

HOST = "hooks.shop.example"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for `host` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ssl.SSLContext, list[str]]:
    """A server context for HOST, recording the SNI names it is asked for; the transport's
    client context trusts its certificate (and nothing else)."""
    cert, key = self_signed(tmp_path, HOST)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    names: list[str] = []
    server.sni_callback = lambda _socket, name, _context: names.append(name)
    monkeypatch.setattr(transport._PinnedHTTPS, "context", ssl.create_default_context(cafile=cert))
    return server, names


def test_an_https_receiver_gets_the_request_with_its_host_in_sni_and_host(
    tls: tuple[ssl.SSLContext, list[str]],
) -> None:
    server, names = tls
    with receiving(tls=server) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        target = transport.parse(f"https://{HOST}:{port}/hooks")
        answer = transport.post(target, LOOPBACK, {}, b"{}", 5)

    assert answer.status == 200
    assert names == [HOST]
    assert receiver.received[0].headers["host"] == f"{HOST}:{port}"


def test_a_certificate_for_another_host_is_a_failed_attempt(
    tls: tuple[ssl.SSLContext, list[str]],
) -> None:
    server, _ = tls
    with receiving(tls=server) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        target = transport.parse(f"https://elsewhere.example:{port}/hooks")
        with pytest.raises(transport.TransportError, match="certificate"):
            transport.post(target, LOOPBACK, {}, b"{}", 5)

    assert receiver.received == []
