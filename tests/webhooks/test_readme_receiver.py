"""The README's receiver, written with the `standardwebhooks` package and served over HTTP as it
is, verifies every delivery of a whole in-store purchase and an online one with its refund."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.builders import Api, deliver, deliveries, webhook_endpoint

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "webhooks.md"


def receiver_code(page: Path, heading: str) -> str:
    section = page.read_text(encoding="utf-8").split(heading, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, f"{page.name} lost its receiver"
    return found.group(1)


def readme_receiver() -> str:
    return receiver_code(README, "## Being told: events and webhooks")


@contextmanager
def serving(apps: dict[str, Any]) -> Iterator[str]:
    """What `apps["app"]` holds, on 127.0.0.1 (a free port) in a thread, shut down after: the
    URL is known before the app is made (it needs the secret, which needs the URL)."""

    def wsgi(environ: Any, start_response: Any) -> Any:
        return apps["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_readme_and_the_webhooks_guide_show_the_same_receiver() -> None:
    assert readme_receiver() == receiver_code(DOCS, "## Verifying a delivery")


def test_the_readme_receiver_verifies_every_delivery_of_a_purchase_in_store_and_online(
    api: Api, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace: dict[str, Any] = {"__name__": "readme_receiver"}
    with serving(namespace) as url:
        endpoint = webhook_endpoint(api, url, ["*"])
        monkeypatch.setenv("O2O_WEBHOOK_SECRET", endpoint["secret"])
        exec(compile(readme_receiver(), str(README), "exec"), namespace)  # noqa: S102 - README
        before = {event["id"] for event in api.all_events()}

        api.checkout()  # in store: the clerk scans the coupon, then the shopper's payment code
        shopper = api.shopper()
        coupon = api.coupon(shopper)
        order = api.online_order(shopper, 39900, coupon["code"])
        paid = api.pay(order, shopper)
        assert paid.status_code == 201, paid.get_json()
        api.refund(paid.get_json()["id"])
        while deliver(app):
            pass

    written = {
        event["id"]: event["type"] for event in api.all_events() if event["id"] not in before
    }
    log = deliveries(api, endpoint["id"])
    assert {d["event_id"] for d in log} == set(written)
    assert {d["status"] for d in log} == {"succeeded"}
    assert {a["status_code"] for d in log for a in d["attempts"]} == {204}  # verified: 204
    assert {
        "coupon.claimed", "coupon.reserved", "coupon.redeemed", "coupon.restored",
        "order.created", "order.paid", "order.refunded",
        "payment.succeeded", "refund.succeeded",
    } <= set(written.values())  # fmt: skip
