"""The Redis the rate-limit tests count in: O2O_TEST_REDIS_URL, else the local one.

Without a Redis that answers, those tests skip; in CI (CI=true, O2O_REQUIRE_POSTGRES=1 or
O2O_REQUIRE_REDIS=1) they fail instead, as the PostgreSQL suites do. Each test counts under a
key prefix of its own and deletes only that prefix's keys, so parallel runs never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis

REDIS_URL = os.environ.get("O2O_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
REQUIRE_REDIS = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("O2O_REQUIRE_POSTGRES") == "1"
    or os.environ.get("O2O_REQUIRE_REDIS") == "1"
)


def redis_url() -> str:
    """REDIS_URL if it answers PING; otherwise skip the test (fail it in CI)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"Redis at {REDIS_URL} does not answer ({error})"
        if REQUIRE_REDIS:
            pytest.fail(f"{reason}, and CI requires the Redis rate-limit tests")
        pytest.skip(f"{reason}: set O2O_TEST_REDIS_URL to run the Redis rate-limit tests")
    return REDIS_URL


@contextmanager
def redis_storage() -> Iterator[dict[str, Any]]:
    """App settings that count rate limits in Redis under a fresh prefix; its keys deleted after."""
    url = redis_url()
    prefix = f"o2o-test-{uuid.uuid4().hex}"
    try:
        yield {"O2O_RATE_LIMIT_STORAGE": url, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix}}
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
