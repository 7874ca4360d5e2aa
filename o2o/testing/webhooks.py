"""A webhook receiver for tests: 127.0.0.1 on a free port, in a thread, checking every signature.

Each delivery is verified as Standard Webhooks specifies (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the timestamp within five
minutes of the real clock): with the `standardwebhooks` package when it is installed, else with
`hmac_verify()` below, the same check in the standard library (tests hold the two equal). A
verified delivery is answered 200 (or `fail_next`'s status), one that fails verification 400.
Everything is kept in arrival order, duplicates included; the pytest plugin's `o2o_webhooks`
and `o2o simulate --webhooks` are built on this one class.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

try:  # the reference implementation, when the project has it (o2o's own tests do)
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:  # pragma: no cover - exercised by the projects that lack it
    Webhook = None  # type: ignore[assignment,misc]

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_BODY = 1024 * 1024


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "==")


def hmac_verify(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> bool:
    """Standard Webhooks' check in the standard library: one `v1,` signature of
    "id.timestamp.body" under `secret` matches, and the timestamp is within five minutes."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id, stamp, signatures = (lowered.get(name, "") for name in HEADERS)
    if not (webhook_id and stamp and signatures):
        return False
    try:
        seconds = int(float(stamp))
        signed = f"{webhook_id}.{seconds}.".encode() + body
        expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    except (ValueError, OverflowError, binascii.Error):
        return False
    if abs((time.time() if now is None else now) - seconds) > TOLERANCE_SECONDS:
        return False
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        try:
            if version == "v1" and hmac.compare_digest(expected, base64.b64decode(encoded)):
                return True
        except binascii.Error:
            continue
    return False


def library_verify(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """The `standardwebhooks` package's verdict (it must be installed)."""
    if Webhook is None:
        raise RuntimeError("the standardwebhooks package is not installed")
    try:
        Webhook(secret).verify(body, dict(headers))
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True


def verify(secrets: Iterable[str], body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the delivery is signed by one of `secrets` (standardwebhooks when importable)."""
    check = library_verify if Webhook is not None else hmac_verify
    return any(check(secret, body, headers) for secret in secrets)


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got: its headers, exact body bytes, verdict and answer."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    headers: dict[str, str]
    verified: bool
    status: int  # what the receiver answered
    received_at: datetime  # real time

    @property
    def event(self) -> dict[str, Any] | None:
        """The body as JSON (None if it is not a JSON object)."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def type(self) -> str | None:
        event = self.event
        return None if event is None else event.get("type")


# A hook sees each delivery before it is checked and may change what the receiver sees (a test
# of the checks tampers here): it returns the body and headers to verify.
Tamper = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]
# A handler sees each verified delivery; an int it returns is the answer's status.
Handler = Callable[[Delivery], int | None]


@dataclass
class _Failures:
    remaining: int = 0
    status: int = 500


@dataclass
class Receiver:
    """Receives webhooks on 127.0.0.1 (a free port unless `port` is given) until `stop()`."""

    secrets: list[str] = field(default_factory=list)
    port: int = 0
    tamper: Tamper | None = None
    handlers: list[Handler] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._log: list[Delivery] = []
        self._arrived = threading.Condition()
        self._failures = _Failures()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Receiver:
        """Listen, in a daemon thread; returns self."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_class(self))
        server.daemon_threads = True
        server.block_on_close = False  # a held request must not hold up stop()
        self._server, self.port = server, int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="o2o-receiver")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (what is in hand is dropped); safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    # --- what the test controls -----------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` verified deliveries with `status` (handlers still see them)."""
        with self._arrived:
            self._failures = _Failures(n, status)

    def on_delivery(self, handler: Handler) -> Handler:
        """Call `handler` with every verified delivery, in arrival order; returns it."""
        self.handlers.append(handler)
        return handler

    # --- what it saw ----------------------------------------------------------------------

    def deliveries(self, type: str | None = None) -> list[Delivery]:
        """Every POST so far in arrival order (verified or not), of one event type if given."""
        with self._arrived:
            return [d for d in self._log if type is None or d.type == type]

    def received(self, type: str | None = None) -> list[dict[str, Any]]:
        """The verified events' bodies in arrival order; a retried event shows each time."""
        return [d.event or {} for d in self.deliveries(type) if d.verified]

    def rejected(self) -> list[Delivery]:
        """The deliveries whose signature did not verify."""
        return [d for d in self.deliveries() if not d.verified]

    def wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Block until `done()` holds (checked at each arrival) or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    # --- the request's path -----------------------------------------------------------------

    def _take(self, body: bytes, headers: dict[str, str]) -> int:
        if self.tamper is not None:
            body, headers = self.tamper(body, headers)
        lowered = {name.lower(): value for name, value in headers.items()}
        verified = verify(self.secrets, body, lowered)
        received_at = datetime.now(UTC)
        status = 200 if verified else 400
        delivery = Delivery(
            webhook_id=lowered.get("webhook-id", ""),
            timestamp=lowered.get("webhook-timestamp", ""),
            signature=lowered.get("webhook-signature", ""),
            body=body,
            headers=lowered,
            verified=verified,
            status=status,
            received_at=received_at,
        )
        if verified:
            status = self._handled(delivery)
            with self._arrived:
                if self._failures.remaining > 0:
                    self._failures.remaining -= 1
                    status = self._failures.status
        with self._arrived:
            self._log.append(_answered(delivery, status))
            self._arrived.notify_all()
        return status

    def _handled(self, delivery: Delivery) -> int:
        status = 200
        for handler in list(self.handlers):
            try:
                answer = handler(delivery)
            except Exception:
                return 500
            if answer is not None:
                status = answer
        return status


def _answered(delivery: Delivery, status: int) -> Delivery:
    return Delivery(**{**delivery.__dict__, "status": status})


def _handler_class(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            status = receiver._take(body, dict(self.headers.items()))
            answer = b'{"ok": true}' if status < 300 else b'{"ok": false}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the sender went away (a worker killed mid-request)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read the log through the receiver, not stderr

    return Handler
