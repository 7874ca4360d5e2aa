"""The ten-line receiver of docs/webhooks.md, run as written, accepts real deliveries and refuses
a tampered one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.builders import Api, deliver, recorded_event, webhook_endpoint
from tests.webhooks.receiver import receiving

PAGE = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def docs_receiver() -> str:
    section = PAGE.read_text(encoding="utf-8").split("## Verifying a delivery", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "docs/webhooks.md lost its receiver"
    return found.group(1)


def test_the_docs_receiver_is_ten_lines_of_code() -> None:
    lines = [line for line in docs_receiver().splitlines() if line.strip()]
    assert len(lines) <= 14  # ten lines of logic, and its imports


def test_the_docs_receiver_verifies_deliveries_and_refuses_a_tampered_one(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving() as receiver:
        endpoint = webhook_endpoint(api, receiver.url, ["campaign.exhausted"])
        recorded_event(app, api)
        deliver(app)
    monkeypatch.setenv("O2O_WEBHOOK_SECRET", endpoint["secret"])
    namespace: dict[str, Any] = {"__name__": "docs_receiver"}
    exec(compile(docs_receiver(), str(PAGE), "exec"), namespace)  # noqa: S102 - our own docs
    client = namespace["app"].test_client()
    [request] = receiver.received

    accepted = client.post("/hooks", data=request.body, headers=request.headers)
    tampered = client.post("/hooks", data=request.body + b" ", headers=request.headers)

    assert accepted.status_code == 204
    assert tampered.status_code == 400
