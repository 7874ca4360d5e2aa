"""The one module that speaks HTTP to receivers (the standard library's http.client): which
URLs and addresses a webhook may go to, and one POST to an address already vetted.

http.client never follows a redirect, takes a timeout per socket operation, reads only what it
is asked for, and lets the connection open a socket to the vetted address while the request
still names the host (Host header, and SNI and certificate checks for https): the name is
resolved once, by `vet`, so a DNS answer that changes between the check and the connection
(rebinding) cannot send the request elsewhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
READ_LIMIT = 64 * 1024  # never read more of a response than this
SCHEMES = {"http": 80, "https": 443}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """A URL or address a webhook may not go to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: what to connect to and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str  # with its query string


@dataclass(frozen=True)
class Policy:
    """Which non-public addresses are allowed: loopback (sandbox mode), or all (allow_private)."""

    loopback: bool = False
    private: bool = False


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes  # at most READ_LIMIT bytes
    duration_ms: int


class TransportError(Exception):
    """No HTTP answer: a timeout, a connection refused or reset, a TLS failure."""

    def __init__(self, message: str, duration_ms: int) -> None:
        super().__init__(message)
        self.duration_ms = duration_ms


def parse(url: str) -> Target:
    """The target of an http(s) URL with a host and no userinfo; Refused otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"Must be at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused("Not a valid URL.") from exc
    if parts.scheme not in SCHEMES or url != url.strip() or any(c.isspace() for c in url):
        raise Refused("Must be an http or https URL.")
    if not parts.hostname:
        raise Refused("Must name a host.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("Must not carry a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or SCHEMES[parts.scheme], path)


def literal(host: str) -> Address | None:
    """The host as an IP address, if it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_address(address: Address, policy: Policy) -> None:
    """Refused unless `address` is public, or of a kind `policy` allows."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if policy.private:
        return
    if address.is_loopback:
        if policy.loopback:
            return
        raise Refused(f"{address} is a loopback address.")
    if (
        not address.is_global
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    ):
        raise Refused(f"{address} is not a public address.")


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an IP literal: itself); Refused when it does not."""
    if (address := literal(host)) is not None:
        return [address]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve.") from exc
    found: list[Address] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in found:
            found.append(address)
    return found


def vet(target: Target, policy: Policy) -> Address:
    """Resolve the target's host once and return the address to connect to: every address it
    resolves to must pass `policy` (a name with one private answer is refused outright)."""
    addresses = resolve(target.host, target.port)
    for address in addresses:
        check_address(address, policy)
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the vetted address; the request still names the host."""

    def __init__(self, target: Target, address: Address, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443
    context = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def post(
    target: Target, address: Address, headers: dict[str, str], body: bytes, timeout: float
) -> Response:
    """POST `body` to the target at `address`: the status and at most READ_LIMIT bytes of the
    answer; TransportError when there is none. `timeout` bounds the connection, and the rest
    of the exchange as a whole: each later socket operation gets only the time that is left."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, address, timeout)
    started = time.monotonic()
    deadline = started + timeout
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        _left(connection, deadline)
        answer = connection.getresponse()
        data = b""
        while len(data) < READ_LIMIT:
            _left(connection, deadline)
            chunk = answer.read1(READ_LIMIT - len(data))
            if not chunk:
                break
            data += chunk
        status = answer.status
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(_describe(exc, timeout), _ms(started)) from exc
    finally:
        connection.close()
    return Response(status, data, _ms(started))


def _left(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Give the socket's next operation only the time left before `deadline`."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    if connection.sock is not None:
        connection.sock.settimeout(left)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timeout: no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:500]
