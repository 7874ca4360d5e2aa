"""The zero-change route: a merchant's script with no override at all — plain `WeChatPay(...)` —
pays and queries against a live `o2o run` through `o2o wechatpay tunnel`, given only
HTTPS_PROXY and REQUESTS_CA_BUNDLE. Real processes (the server, the tunnel, a fresh `python`
for each merchant run), on SQLite and PostgreSQL; every wait bounded, every process stopped by
its pid."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import pytest

from o2o.client import OverHttp, Service
from tests.conftest import DATABASES
from tests.live import O2O, free_port, serving, stop, subprocess_environment
from tests.unit.test_import_graph import PACKAGE_DIR, build_import_graph

ADMIN = "zero-change-admin-key"
BOUND = 30.0  # seconds any one process may take to start or to run
HOST = "api.mch.weixin.qq.com"

# The merchant's own code, unchanged: nothing here knows about the sandbox.
MERCHANT_SCRIPT = """
import json, sys
from wechatpayv3 import WeChatPay, WeChatPayType

config, out_trade_no, step = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
wxpay = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, **config)
if step == "pay":
    code, text = wxpay.pay(description="GXG 衬衫", out_trade_no=out_trade_no,
                           amount={"total": 39900})
    print(code, json.loads(text)["code_url"])
code, text = wxpay.query(out_trade_no=out_trade_no)
print(code, json.loads(text)["trade_state"])
"""


@dataclass
class Route:
    """A live service and a tunnel in front of it."""

    base: str
    proxy_port: int
    bundle: Path
    tunnel_out: Path
    tunnel_err: Path
    workdir: Path

    @property
    def admin(self) -> Service:
        return Service(OverHttp(self.base), ADMIN)


def _database(request: pytest.FixtureRequest, workdir: Path) -> str:
    """SQLite: a file of the live server's own; PostgreSQL: a throwaway database. Both migrated
    by `o2o db upgrade`, as `make run` does."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_server")())
    else:
        url = f"sqlite:///{workdir / 'live.sqlite3'}"
    environment = subprocess_environment(O2O_DATABASE_URL=url)
    subprocess.run(
        [O2O, "db", "upgrade"], env=environment, cwd=workdir, check=True, capture_output=True
    )
    return url


def wait_for(predicate: Any, process: subprocess.Popen[bytes], what: str) -> None:
    """Until `predicate()` holds (bounded); fails at once if the process has exited."""
    deadline = time.monotonic() + BOUND
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start within {BOUND:g} s")
        time.sleep(0.1)


@pytest.fixture(scope="module", params=DATABASES)
def route(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Route]:
    """`o2o run` on the database, and `o2o wechatpay tunnel` on a free port pointing at it,
    reading the platform CA from the same database; both stopped by pid after the module."""
    workdir = tmp_path_factory.mktemp("zero-change")
    url = _database(request, workdir)
    environment = subprocess_environment(O2O_DATABASE_URL=url, O2O_ADMIN_KEY=ADMIN)
    port, proxy_port = free_port(), free_port()
    server = [O2O, "run", "--host", "127.0.0.1", "--port", str(port)]
    with serving(server, environment, workdir, port) as base:
        route = Route(
            base,
            proxy_port,
            workdir / "bundle.pem",
            workdir / "out.txt",
            workdir / "err.txt",
            workdir,
        )
        command = [
            *(O2O, "wechatpay", "tunnel", "--port", str(proxy_port)),
            *("--upstream", base, "--ca-bundle", str(route.bundle)),
        ]
        with route.tunnel_out.open("wb") as out, route.tunnel_err.open("wb") as err:
            tunnel = subprocess.Popen(command, env=environment, cwd=workdir, stdout=out, stderr=err)
        try:
            wait_for(lambda: "REQUESTS_CA_BUNDLE" in route.tunnel_out.read_text(), tunnel, "tunnel")
            yield route
        finally:
            stop(tunnel)


def register(route: Route, mode: str) -> dict[str, Any]:
    """A merchant registered through the admin API, for a store of its own."""
    admin = route.admin
    body = {
        "appid": "wx8888888888888888",
        "name": "GXG 杭州",
        "store_ids": [admin.store(name="GXG 西湖店")["id"]],
        "mode": mode,
    }
    return dict(admin.post("/wechatpay/merchants", body))


def merchant_config(registered: dict[str, Any], cert_dir: Path) -> dict[str, Any]:
    """What the merchant passes to `WeChatPay(...)`, from what registering answered."""
    config = {
        key: registered[key] for key in ("mchid", "appid", "private_key", "cert_serial_no")
    } | {"apiv3_key": registered["apiv3_key"], "notify_url": "http://127.0.0.1:9/notify"}
    if registered["mode"] == "public_key":
        platform = registered["platform"]
        return config | {
            "public_key": platform["public_key"],
            "public_key_id": platform["public_key_id"],
        }
    return config | {"cert_dir": str(cert_dir)}


def merchant_environment(**env: str) -> dict[str, str]:
    """The merchant's shell: no proxy, CA bundle or NO_PROXY inherited, then `env`."""
    own = ("_proxy", "_ca_bundle")
    return {
        name: value
        for name, value in subprocess_environment().items()
        if not name.lower().endswith(own)
    } | env


def run_merchant(
    route: Route, registered: dict[str, Any], out_trade_no: str, step: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """The merchant's script in a fresh `python`, with a cert_dir of its own."""
    cert_dir = route.workdir / f"certs-{out_trade_no}-{step}"
    cert_dir.mkdir()
    config = route.workdir / f"{out_trade_no}-{step}.json"
    config.write_text(json.dumps(merchant_config(registered, cert_dir)))
    return subprocess.run(
        [sys.executable, "-c", MERCHANT_SCRIPT, str(config), out_trade_no, step],
        env=merchant_environment(**env),
        cwd=route.workdir,
        capture_output=True,
        text=True,
        timeout=BOUND * 2,
    )


def proxied(route: Route) -> dict[str, str]:
    """The two lines the tunnel printed, as the merchant's shell exports them."""
    return {"HTTPS_PROXY": f"http://127.0.0.1:{route.proxy_port}", "NO_PROXY": ""} | {
        "REQUESTS_CA_BUNDLE": str(route.bundle)
    }


@pytest.mark.parametrize("mode", ["certificate", "public_key"])
def test_an_unchanged_merchant_script_pays_and_queries_through_the_tunnel(
    route: Route, mode: str
) -> None:
    registered = register(route, mode)
    out_trade_no = f"ZC{mode[:4].upper()}{time.time_ns()}"

    paying = run_merchant(route, registered, out_trade_no, "pay", **proxied(route))
    assert paying.returncode == 0, paying.stderr
    (pay_code, code_url), (query_code, state) = (
        line.split(" ", 1) for line in paying.stdout.splitlines()
    )
    assert (pay_code, query_code, state) == ("200", "200", "NOTPAY")
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")

    shopper = route.admin.shopper()
    shopper.post("/wechatpay/code-url/pay", {"code_url": code_url})
    querying = run_merchant(route, registered, out_trade_no, "query", **proxied(route))

    assert querying.returncode == 0, querying.stderr
    assert querying.stdout.split() == ["200", "SUCCESS"]
    assert f"CONNECT {HOST}:443 -> {route.base}" in route.tunnel_err.read_text()
    if mode == "certificate":  # the constructor downloaded /v3/certificates through the tunnel
        downloaded = route.workdir / f"certs-{out_trade_no}-pay"
        assert [path.name for path in downloaded.iterdir()] == [
            f"{registered['platform']['serial_no']}.pem"
        ]


def test_the_tunnel_prints_the_exports_and_its_bundle_is_the_public_roots_and_the_services_ca(
    route: Route,
) -> None:
    registered = register(route, "public_key")
    printed = route.tunnel_out.read_text().splitlines()
    bundle = route.bundle.read_text(encoding="utf-8")

    assert printed == [
        f"export HTTPS_PROXY=http://127.0.0.1:{route.proxy_port}",
        f"export REQUESTS_CA_BUNDLE={route.bundle}",
    ]
    assert bundle.startswith(Path(certifi.where()).read_text(encoding="utf-8").rstrip("\n"))
    assert bundle.endswith(registered["platform"]["ca_certificate"])


def test_without_the_ca_bundle_the_sdk_refuses_the_tunnels_certificate(route: Route) -> None:
    registered = register(route, "public_key")
    proxy_only = {"HTTPS_PROXY": f"http://127.0.0.1:{route.proxy_port}", "NO_PROXY": ""}

    run = run_merchant(route, registered, f"ZCNOCA{time.time_ns()}", "pay", **proxy_only)

    assert run.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in run.stderr


def ask(route: Route, request: bytes) -> str:
    """What the tunnel answers a raw request with, up to its closing the connection."""
    with socket.create_connection(("127.0.0.1", route.proxy_port), timeout=BOUND) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer.decode()


@pytest.mark.parametrize(
    "target", ["example.com:443", f"{HOST}:80", f"{HOST}.example.com:443", "127.0.0.1:443"]
)
def test_a_connect_to_any_other_host_is_refused_it_is_not_an_open_proxy(
    route: Route, target: str
) -> None:
    answer = ask(route, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())

    assert answer.startswith("HTTP/1.1 403 Forbidden\r\n")
    assert f"Refused: CONNECT {target}. " in answer
    assert "it is not an open proxy" in answer


def test_a_plain_http_request_to_the_tunnel_is_refused_with_the_reason(route: Route) -> None:
    request = b"GET http://api.mch.weixin.qq.com/v3/certificates HTTP/1.1\r\nHost: x\r\n\r\n"

    answer = ask(route, request)

    assert answer.startswith("HTTP/1.1 405 Method Not Allowed\r\n")
    assert "Allow: CONNECT\r\n" in answer
    assert "Plain HTTP requests are not proxied." in answer


def test_sigterm_stops_the_tunnel_cleanly_frees_its_port_and_leaves_no_key_on_disk(
    tmp_path: Path,
) -> None:
    private = tmp_path / "tmp"  # where the tunnel writes its leaf's key for a moment
    private.mkdir()
    environment = subprocess_environment(
        O2O_DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}", TMPDIR=str(private)
    )
    subprocess.run([O2O, "db", "upgrade"], env=environment, check=True, capture_output=True)
    port, out = free_port(), tmp_path / "out.txt"
    command = [O2O, "wechatpay", "tunnel", "--port", str(port), "--ca-bundle", "b.pem"]
    with out.open("wb") as stdout:
        tunnel = subprocess.Popen(
            command, env=environment, cwd=tmp_path, stdout=stdout, stderr=subprocess.PIPE
        )
    try:
        wait_for(lambda: "REQUESTS_CA_BUNDLE" in out.read_text(), tunnel, "tunnel")
    finally:
        code = stop(tunnel)
    assert tunnel.stderr is not None

    assert code == 0
    assert tunnel.stderr.read().decode().rstrip().endswith("o2o wechatpay tunnel: stopped.")
    assert (tmp_path / "b.pem").exists()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nothing listens there any more
    assert os.listdir(private) == []


def test_only_the_tunnel_imports_certifi() -> None:
    graph = build_import_graph(PACKAGE_DIR)

    importers = [name for name, targets in graph.items() if "certifi" in targets]
    assert importers == ["o2o.wechatpay.tunnel"]
