"""The WeChat Pay sandbox under the official SDK: the app served on 127.0.0.1 in a thread (on
the test's database), merchants registered through the admin API, and `WeChatPay` clients
pointed at it the one-line way (the gateway attribute overridden before construction)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core
from werkzeug.serving import make_server

from tests.builders import Api


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    """The app on a free port of 127.0.0.1; its base URL. Stopped after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def pointed_here(gateway: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The README's one line: every WeChatPay built from now on talks to the sandbox."""
    here = property(lambda self: gateway, lambda self, value: None)
    monkeypatch.setattr(Core, "_gate_way", here, raising=False)
    return gateway


@dataclass
class Merchant:
    """A registered merchant: what the admin API answered, and its stores."""

    registered: dict[str, Any]
    store_ids: list[str]

    @property
    def mchid(self) -> str:
        return str(self.registered["mchid"])


def register(api: Api, mode: str = "certificate", **fields: Any) -> Merchant:
    store_ids = fields.pop("store_ids", None) or [api.store(name="GXG 西湖店")["id"]]
    body = {"appid": "wx8888888888888888", "name": "GXG 杭州", "store_ids": store_ids, "mode": mode}
    response = api.post("/wechatpay/merchants", api.admin_key, json={**body, **fields})
    assert response.status_code == 201, response.get_json()
    return Merchant(response.get_json(), store_ids)


def sdk(
    merchant: Merchant,
    cert_dir: Path,
    pay_type: WeChatPayType = WeChatPayType.NATIVE,
    notify_url: str = "http://127.0.0.1:9/notify",
) -> WeChatPay:
    """The merchant's own WeChatPay, configured from what registering it answered."""
    registered = merchant.registered
    platform = registered["platform"]
    keys: dict[str, Any] = {}
    if registered["mode"] == "public_key":
        keys = {"public_key": platform["public_key"], "public_key_id": platform["public_key_id"]}
    else:
        keys = {"cert_dir": str(cert_dir)}
    return WeChatPay(
        wechatpay_type=pay_type,
        mchid=registered["mchid"],
        private_key=registered["private_key"],
        cert_serial_no=registered["cert_serial_no"],
        appid=registered["appid"],
        apiv3_key=registered["apiv3_key"],
        notify_url=notify_url,
        **keys,
    )


@pytest.fixture(params=["certificate", "public_key"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


SdkFactory = Callable[..., WeChatPay]


@dataclass
class NotifyUrl:
    """A merchant's notify_url on 127.0.0.1: what it received, and the status it answers."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def notify_url() -> Iterator[NotifyUrl]:
    receiver = Flask("merchant")
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    found = NotifyUrl(f"http://127.0.0.1:{server.server_port}/wechatpay/notify")

    @receiver.post("/wechatpay/notify")
    def notify() -> Any:
        found.received.append((dict(request.headers), request.get_data()))
        return "", found.status

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        thread.join(timeout=10)
