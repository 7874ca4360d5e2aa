"""Stdlib load generator: N keep-alive HTTP/1.1 connections on asyncio, run as its own process."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o2o.vocabulary import PaymentFlow, PaymentMethod, PaymentStatus

REQUEST_TIMEOUT = 30.0
ERROR_SAMPLES = 5
# What a broken or slow connection can raise; it is recorded as status 0, never fatal.
NETWORK_ERRORS = (OSError, EOFError, ValueError, asyncio.LimitOverrunError)


class Connection:
    """One client connection; it reconnects when the server closes it (sync workers always do)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes]:
        """Send one request (`headers` are ready-made `Name: value\\r\\n` lines), read the reply."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
        try:
            self.writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status, close, payload = await _read_response(self.reader)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip().lower()
    close = fields.get("connection") == "close" or version == "HTTP/1.0"
    if "content-length" in fields:
        return int(status), close, await reader.readexactly(int(fields["content-length"]))
    return int(status), True, await reader.read()


@dataclass
class Kind:
    """Latencies and outcomes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def fail(self, status: int, payload: bytes) -> None:
        self.errors += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(f"{status} {payload[:300].decode('utf-8', 'replace')}")

    def summary(self, elapsed: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

        return {
            "requests": len(ordered),
            "rps": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": pct(0.50) if ordered else None,
            "p99_ms": pct(0.99) if ordered else None,
            "max_ms": pct(1.0) if ordered else None,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "error_samples": self.samples,
        }


class Recorder:
    """Times every request; any non-2xx (or a dropped connection, status 0) is an error."""

    def __init__(self) -> None:
        self.kinds: dict[str, Kind] = {}
        self.checkouts = 0

    async def call(
        self, kind: str, conn: Connection, method: str, path: str, body: bytes, headers: str
    ) -> tuple[int, Any]:
        stats = self.kinds.setdefault(kind, Kind())
        started = time.perf_counter()
        try:
            status, payload = await asyncio.wait_for(
                conn.request(method, path, body, headers), REQUEST_TIMEOUT
            )
        except NETWORK_ERRORS as exc:
            status, payload = 0, repr(exc).encode()
        stats.latencies.append(time.perf_counter() - started)
        stats.statuses[status] += 1
        if not 200 <= status < 300:
            stats.fail(status, payload)
            return status, None
        return status, json.loads(payload) if payload else None


Step = Callable[[Connection, Any], Awaitable[None]]


async def _drive(conn: Connection, work: Iterator[Any], step: Step, deadline: float) -> None:
    """Take items from the shared iterator (each is used once) until it is empty or time is up."""
    while time.monotonic() < deadline and (item := next(work, None)) is not None:
        await step(conn, item)


def _checkout_step(spec: dict[str, Any], rec: Recorder) -> Step:
    """Clerk scans the coupon QR and rings up the order, then scans the shopper's payment code."""
    base = f"Authorization: Bearer {spec['clerk_key']}\r\nContent-Type: application/json\r\n"

    def headers() -> str:
        if spec.get("idempotency_keys"):
            return f"{base}Idempotency-Key: {uuid.uuid4()}\r\n"
        return base

    async def step(conn: Connection, pair: list[str]) -> None:
        qr_token, auth_code = pair
        order_body = json.dumps({"amount": spec["amount"], "qr_token": qr_token}).encode()
        status, order = await rec.call(
            "orders", conn, "POST", "/api/v1/orders", order_body, headers()
        )
        if order is None:
            return
        pay = {
            "method": PaymentMethod.WECHAT_PAY,
            "flow": PaymentFlow.CLERK_SCAN,
            "auth_code": auth_code,
        }
        path = f"/api/v1/orders/{order['id']}/payments"
        status, payment = await rec.call(
            "payments", conn, "POST", path, json.dumps(pay).encode(), headers()
        )
        if payment is not None and payment.get("status") == PaymentStatus.SUCCEEDED:
            rec.checkouts += 1
        elif payment is not None:
            rec.kinds["payments"].fail(status, json.dumps(payment).encode())

    return step


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario over `connections` connections and summarise it."""
    rec = Recorder()
    conns = [Connection(spec["host"], spec["port"]) for _ in range(spec["connections"])]

    async def healthz(conn: Connection, _: Any) -> None:
        await rec.call("healthz", conn, "GET", "/healthz", b"", "")

    work: Iterator[Any]
    step: Step
    if spec["scenario"] == "healthz":
        work, step = iter(range(spec.get("max_requests", 10**9))), healthz
    else:
        work, step = iter(spec["pairs"]), _checkout_step(spec, rec)
    started = time.perf_counter()
    deadline = time.monotonic() + spec["duration"]
    await asyncio.gather(*(_drive(conn, work, step, deadline) for conn in conns))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return {
        "scenario": spec["scenario"],
        "elapsed_s": round(elapsed, 3),
        "kinds": {name: kind.summary(elapsed) for name, kind in rec.kinds.items()},
        "checkouts": rec.checkouts,
        "checkouts_per_s": round(rec.checkouts / elapsed, 1) if elapsed else 0.0,
        "unused_work": sum(1 for _ in work) if spec["scenario"] == "checkout" else None,
    }


def main(argv: list[str]) -> int:
    """`python -m bench.load SPEC.json`: run one scenario, write its JSON summary to stdout.

    A spec is `{host, port, connections, duration, scenario: "healthz" | "checkout",
    max_requests?}`, plus `{clerk_key, amount, pairs: [[qr_token, auth_code], ...],
    idempotency_keys?}` for checkouts. Each connection stops at the deadline or when the shared
    work runs out, whichever comes first. Responses are Flask's JSON with a Content-Length, so
    chunked bodies are not supported.
    """
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    try:  # the load shares the machine with the server: the less CPU it takes, the better
        import uvloop
    except ImportError:
        result = {**asyncio.run(run(spec)), "event_loop": "asyncio"}
    else:
        result = {**uvloop.run(run(spec)), "event_loop": "uvloop"}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
