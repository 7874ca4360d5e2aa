"""The tunnel's bounds, in process: a CONNECT head trickled too slowly is answered 408 within
its deadline, and a connection beyond the open slots gets 503 with no thread of its own."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from o2o.wechatpay import tunnel


def test_a_head_that_does_not_end_in_time_is_refused_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tunnel, "OPENING_SECONDS", 0.3)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"CONNECT api.mch.weixin.qq.com:443 HTTP/1.1\r\n")  # and never the end
        started = time.monotonic()
        with pytest.raises(tunnel.Refused) as refused:
            tunnel.read_head(ours)
        assert refused.value.status == 408
        assert time.monotonic() - started < 5


@pytest.fixture
def full_tunnel() -> Iterator[tuple[tunnel.TunnelServer, list[str]]]:
    """A tunnel on 127.0.0.1 whose one slot is taken; what it logs. Stopped after the test."""
    said: list[str] = []
    server = tunnel.TunnelServer(
        ("127.0.0.1", 0),
        tunnel.Upstream("127.0.0.1", 9),
        tunnel.Certificates("unused", "unused"),
        said.append,
    )
    server.slots = threading.BoundedSemaphore(1)
    assert server.slots.acquire(blocking=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, said
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_connection_beyond_the_open_slots_is_answered_503_without_a_thread(
    full_tunnel: tuple[tunnel.TunnelServer, list[str]],
) -> None:
    server, said = full_tunnel
    threads = threading.active_count()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert threading.active_count() == threads
    assert said == ["refused (503): Too many tunnels open."]
