"""Oversize URLs and headers are refused by the app, in the envelope, also under real gunicorn."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from o2o.api import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES
from tests.api.hostile import assert_envelope
from tests.builders import ADMIN_KEY, API, Api
from tests.live import O2O, free_port, subprocess_environment

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def coupon_url(length: int) -> str:
    """A coupon's URL exactly `length` bytes long (the coupon does not exist)."""
    prefix = f"{API}/coupons/"
    return prefix + "A" * (length - len(prefix))


def test_a_url_over_the_limit_is_a_414_in_the_envelope(api: Api) -> None:
    response = api.client.get(coupon_url(MAX_URL_BYTES + 1), headers={"Authorization": "x"})
    assert response.status_code == 414
    assert assert_envelope(response)["code"] == "uri_too_long"


def test_a_url_at_the_limit_is_served(api: Api) -> None:
    response = api.client.get(coupon_url(MAX_URL_BYTES), headers={"Authorization": "x"})
    assert response.status_code == 401


def test_a_query_string_counts_toward_the_url_limit(api: Api) -> None:
    response = api.get("/stores", ADMIN_KEY, query_string={"cursor": "a" * MAX_URL_BYTES})
    assert response.status_code == 414


def test_a_header_over_the_limit_is_a_431_in_the_envelope(api: Api) -> None:
    value = "x" * (MAX_HEADER_BYTES - len("X-Note: ") + 1)
    response = api.get("/stores", ADMIN_KEY, headers={"X-Note": value})
    assert response.status_code == 431
    error = assert_envelope(response)
    assert (error["code"], error["details"]["header"]) == ("request_header_too_large", "X-Note")


def test_a_header_at_the_limit_is_served(api: Api) -> None:
    value = "x" * (MAX_HEADER_BYTES - len("X-Note: "))
    assert api.get("/stores", ADMIN_KEY, headers={"X-Note": value}).status_code == 200


def test_more_headers_than_the_limit_is_a_431_in_the_envelope(api: Api) -> None:
    headers = {f"X-Note-{index}": "x" for index in range(MAX_HEADERS)}
    response = api.get("/stores", ADMIN_KEY, headers=headers)
    assert response.status_code == 431
    assert assert_envelope(response)["details"] == {"max_headers": MAX_HEADERS}


# -- under gunicorn, with the shipped gunicorn.conf.py -----------------------------------------


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn -c gunicorn.conf.py on a migrated SQLite file, one worker; stopped by its pid."""
    workdir = tmp_path_factory.mktemp("gunicorn")
    env = subprocess_environment(O2O_DATABASE_URL=f"sqlite:///{workdir / 'o2o.sqlite3'}")
    upgrade = [O2O, "db", "upgrade"]
    subprocess.run(upgrade, env=env, cwd=workdir, check=True, capture_output=True, timeout=120)
    port = free_port()
    command = [GUNICORN, "-c", str(GUNICORN_CONF), "-b", f"127.0.0.1:{port}", "-w", "1"]
    log = workdir / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=workdir, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield port
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(timeout=20)


def _healthy(port: int) -> bool:
    try:
        return _send(port, "/healthz", {})[0] == 200
    except OSError:
        return False


def _send(port: int, target: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """GET `target` over a raw connection: status, Content-Type and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target, headers={"Authorization": "Bearer x", **headers})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_gunicorn_lets_the_app_refuse_a_5000_byte_request_line_in_the_envelope(
    gunicorn_port: int,
) -> None:
    target = coupon_url(5000 - len("GET  HTTP/1.1"))
    status, content_type, body = _send(gunicorn_port, target, {})
    assert (status, content_type) == (414, "application/json"), body[:300]
    assert json.loads(body)["error"]["code"] == "uri_too_long"


def test_gunicorn_lets_the_app_refuse_a_9000_byte_header_in_the_envelope(
    gunicorn_port: int,
) -> None:
    value = "x" * (9000 - len("X-Note: "))
    status, content_type, body = _send(gunicorn_port, f"{API}/stores", {"X-Note": value})
    assert (status, content_type) == (431, "application/json"), body[:300]
    assert json.loads(body)["error"]["details"]["header"] == "X-Note"


def test_gunicorn_lets_the_app_refuse_a_nul_in_the_path_in_the_envelope(
    gunicorn_port: int,
) -> None:
    status, content_type, body = _send(gunicorn_port, f"{API}/coupons/AB%00C", {})
    assert (status, content_type) == (422, "application/json"), body[:300]
    assert list(json.loads(body)["error"]["details"]) == ["code"]
