"""The sandbox clock adds up concurrent advances, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from tests.builders import ADMIN_KEY, Api

THREADS = 10


def test_concurrent_advances_all_count(app: Flask) -> None:
    api = Api(app.test_client())
    api.clock(now="2026-12-01T00:00:00Z")
    start = threading.Barrier(THREADS)

    def advance(_: int) -> int:
        client = app.test_client()
        start.wait()
        return client.post(
            "/api/v1/sandbox/clock",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            json={"advance_seconds": 60},
        ).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        assert set(pool.map(advance, range(THREADS))) == {200}
    assert api.get("/sandbox/clock", ADMIN_KEY).get_json()["now"] == "2026-12-01T00:10:00Z"
