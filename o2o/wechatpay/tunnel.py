"""The zero-change route: `o2o wechatpay tunnel`, an HTTPS proxy that answers for WeChat Pay's
API hosts only, so a merchant's unchanged SDK, given `HTTPS_PROXY` and `REQUESTS_CA_BUNDLE`,
reaches this service instead of api.mch.weixin.qq.com.

requests sends `CONNECT api.mch.weixin.qq.com:443`; the tunnel answers `200 Connection
Established`, terminates TLS with a short-lived certificate for that host signed by the
platform's CA (o2o.crypto), and relays the decrypted bytes both ways to the service, unchanged:
the path, headers and body the SDK signed arrive as signed. The Host header stays the real
host's, which the /v3/ gateway ignores (signatures cover the path, never the host; absolute
URLs come from configuration). Any other host is refused: it is not an open proxy.

Also the CA bundle the merchant's requests trusts: certifi's roots (requests' own trust store,
which REQUESTS_CA_BUNDLE replaces) followed by the platform's CA. The only module importing
`certifi`; the rest is the standard library.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import socketserver
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi

from o2o import clock, crypto
from o2o.wechatpay import protocol

HOSTS = protocol.API_HOSTS
TLS_PORT = 443
HEAD_LIMIT = 8192  # bytes of a CONNECT request head
SOCKET_TIMEOUT = 30.0  # seconds any one read or write may wait
OPENING_SECONDS = 10.0  # the CONNECT head, and then the TLS handshake, each in all
IDLE_SECONDS = 60.0  # a tunnel with no byte either way for this long is closed
MAX_CONNECTIONS = 64  # beyond this many at once: 503
LEAF_LIFETIME = timedelta(days=1)
RENEW_BEFORE = timedelta(hours=1)  # a new leaf this long before the current one lapses
BUFFER = 65536

Log = Callable[[str], None]


class Refused(Exception):
    """A request the tunnel answers itself, with a status and a plain-text reason."""

    def __init__(self, status: int, reason: str, text: str) -> None:
        super().__init__(text)
        self.status, self.reason, self.text = status, reason, text

    def response(self) -> bytes:
        body = (self.text + "\n").encode()
        head = (
            f"HTTP/1.1 {self.status} {self.reason}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        )
        allow = "Allow: CONNECT\r\n" if self.status == 405 else ""
        return (head + allow + "\r\n").encode() + body


NOT_OPEN = (
    "This tunnel only reaches WeChat Pay's API ("
    + ", ".join(f"{host}:{TLS_PORT}" for host in HOSTS)
    + "); it is not an open proxy."
)


@dataclass(frozen=True)
class Upstream:
    """Where the decrypted requests go: this service's plain-HTTP address."""

    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """`http://host:port` (the port defaults to 80); ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"the upstream is the service's http://host:port, not {url!r}")
        return cls(parts.hostname, parts.port or 80)

    def __str__(self) -> str:
        return f"http://{self.host}:{self.port}"


class Certificates:
    """The TLS server context for HOSTS; its leaf is issued at the first connection and again
    shortly before it lapses (on the real clock: clients check certificates against it)."""

    def __init__(self, ca_private_key: str, ca_certificate: str) -> None:
        self._ca = (ca_private_key, ca_certificate)
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._renew_at = clock.real_now()

    def context(self) -> ssl.SSLContext:
        with self._lock:
            now = clock.real_now()
            if self._context is None or now >= self._renew_at:
                self._context = self._new_context()
                self._renew_at = now + LEAF_LIFETIME - RENEW_BEFORE
            return self._context

    def _new_context(self) -> ssl.SSLContext:
        """A context loaded from key and certificate files in a private directory, which is
        removed as soon as they are loaded (ssl loads a chain from files only)."""
        key, certificate = crypto.issue_tls_leaf(
            *self._ca, HOSTS, now=clock.real_now(), lifetime=LEAF_LIFETIME
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="o2o-tunnel-") as private:  # mode 0700
            key_file, cert_file = Path(private, "leaf.key"), Path(private, "leaf.pem")
            _write_private(key_file, key)
            _write_private(cert_file, certificate)
            context.load_cert_chain(cert_file, key_file)
        return context


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(text)


# -- one connection


def read_head(client: socket.socket) -> bytes:
    """The request head, up to its blank line; Refused if it is too long or has a tail (a
    client sends nothing after CONNECT before the answer)."""
    data = b""
    deadline = time.monotonic() + OPENING_SECONDS  # a head trickled byte by byte ends too
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            raise Refused(431, "Request Header Fields Too Large", "The request head is too long.")
        client.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = client.recv(4096)
        except TimeoutError as error:
            raise Refused(408, "Request Timeout", "The request head took too long.") from error
        if not chunk:
            raise ConnectionAbortedError("the client left before its request head ended")
        data += chunk
    head, tail = data.split(b"\r\n\r\n", 1)
    if tail:
        raise Refused(400, "Bad Request", "Send nothing after CONNECT before its answer.")
    return head


def connect_target(head: bytes) -> str:
    """The WeChat Pay host a `CONNECT host:443` names; Refused for any other request."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise Refused(400, "Bad Request", "Not an HTTP/1.x request line.")
    method, target, _ = parts
    if method != "CONNECT":
        raise Refused(
            405,
            "Method Not Allowed",
            f"This is a tunnel for HTTPS to WeChat Pay's API: only CONNECT, not {method}. "
            "Plain HTTP requests are not proxied. " + NOT_OPEN,
        )
    host, _, port = target.rpartition(":")
    if host.lower() not in HOSTS or port != str(TLS_PORT):
        raise Refused(403, "Forbidden", f"Refused: CONNECT {target}. " + NOT_OPEN)
    return host.lower()


def relay(tls: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes, fails, or both stay idle for
    IDLE_SECONDS. Decrypted bytes already held by the TLS layer are read first."""
    other = {tls: upstream, upstream: tls}
    with selectors.DefaultSelector() as selector:
        for sock in other:
            selector.register(sock, selectors.EVENT_READ)
        while True:
            pending = isinstance(tls, ssl.SSLSocket) and tls.pending() > 0
            ready = [tls] if pending else [key.fileobj for key, _ in selector.select(IDLE_SECONDS)]
            if not ready:
                return
            for source in ready:
                assert isinstance(source, socket.socket)
                data = source.recv(BUFFER)
                if not data:
                    return
                other[source].sendall(data)


class TunnelServer(socketserver.ThreadingTCPServer):
    """Each connection in a daemon thread of its own, at most MAX_CONNECTIONS at once."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], upstream: Upstream, certificates: Certificates, log: Log
    ) -> None:
        self.upstream, self.certificates, self.log = upstream, certificates, log
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection only while a slot is free: a flood of connections is
        answered 503 from the accepting thread, never a thread each."""
        if not self.slots.acquire(blocking=False):
            refused = Refused(503, "Service Unavailable", "Too many tunnels open.")
            self.log(f"refused (503): {refused.text}")
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(refused.response())
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class Handler(socketserver.BaseRequestHandler):
    server: TunnelServer

    def handle(self) -> None:
        client: socket.socket = self.request  # its slot taken by process_request
        client.settimeout(SOCKET_TIMEOUT)
        try:
            self._tunnel(client)
        except Refused as refused:
            self._refuse(client, refused)
        except OSError as error:  # a client or the service went away, a TLS handshake failed
            self.server.log(f"tunnel closed: {error}")
        finally:
            self.server.slots.release()

    def _refuse(self, client: socket.socket, refused: Refused) -> None:
        self.server.log(f"refused ({refused.status}): {refused.text}")
        with contextlib.suppress(OSError):  # the client may be gone already
            client.sendall(refused.response())

    def _tunnel(self, client: socket.socket) -> None:
        host = connect_target(read_head(client))
        upstream = self.server.upstream
        try:
            service = socket.create_connection((upstream.host, upstream.port), SOCKET_TIMEOUT)
        except OSError as error:
            raise Refused(502, "Bad Gateway", f"The service at {upstream} does not answer.") from (
                error
            )
        with service:
            client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            context = self.server.certificates.context()
            client.settimeout(OPENING_SECONDS)  # the handshake, in all
            with context.wrap_socket(client, server_side=True) as tls:
                tls.settimeout(SOCKET_TIMEOUT)
                self.server.log(f"CONNECT {host}:{TLS_PORT} -> {upstream}")
                relay(tls, service)


def serve_until(server: TunnelServer, stop: threading.Event) -> None:
    """Serve from a thread until `stop` is set (a signal handler sets it), then close the
    listener; open tunnels are daemon threads and end with the process."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the merchant's trust store


def ca_bundle(ca_certificate: str) -> str:
    """certifi's roots, then the platform CA: REQUESTS_CA_BUNDLE replaces requests' trust store,
    so the bundle must keep every public root the merchant's other HTTPS calls need."""
    roots = Path(certifi.where()).read_text(encoding="utf-8").rstrip("\n")
    return f"{roots}\n\n# O2O sandbox WeChat Pay CA (o2o wechatpay ca-bundle)\n{ca_certificate}"


def write_ca_bundle(path: Path, ca_certificate: str) -> Path:
    """Write the bundle whole (a temporary file renamed into place); its absolute path."""
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(ca_bundle(ca_certificate), encoding="utf-8")
    os.replace(temporary, path)
    return path
