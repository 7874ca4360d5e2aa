"""A client that openapi-python-client generates from the served spec walks the README's flows,
and the typed code that drives it passes `mypy --strict`.

The client is generated into a temporary directory for each run (about two seconds); the flows
(`typed_flows/readme_flows.py`) are written as an integrator would write them against that
client, so a loose spec shows up as a type error or a failed parse here.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

from tests.conftest import build_app

FLOWS = Path(__file__).resolve().parent / "typed_flows" / "readme_flows.py"
PACKAGE = "o2o_api_client"
BASE_URL = "http://o2o.test"
# The generator has no model for image bodies; as octet streams they come back as bytes.
GENERATOR_CONFIG = {
    "project_name_override": PACKAGE,
    "package_name_override": PACKAGE,
    "content_type_overrides": {
        "image/png": "application/octet-stream",
        "image/svg+xml": "application/octet-stream",
    },
    "post_hooks": [],
}


def _generator_missing() -> bool:
    return importlib.util.find_spec("openapi_python_client") is None


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The generated package and the flows beside it, in a fresh directory on sys.path."""
    if _generator_missing():
        if os.environ.get("CI"):
            pytest.fail("openapi-python-client is a dev dependency: CI must have it")
        pytest.skip("openapi-python-client is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("generated")
    app = build_app("sqlite://")
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    (root / "openapi.json").write_text(json.dumps(spec), encoding="utf-8")
    (root / "config.json").write_text(json.dumps(GENERATOR_CONFIG), encoding="utf-8")
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    command += ["--path", "openapi.json", "--config", "config.json", "--output-path", PACKAGE]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    shutil.copy(FLOWS, root / FLOWS.name)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] in (PACKAGE, FLOWS.stem)]:
            del sys.modules[name]


@pytest.fixture
def flows(generated: Path) -> ModuleType:
    return importlib.import_module(FLOWS.stem)


@pytest.fixture
def connect(app: Flask, flows: ModuleType) -> Callable[[str], Any]:
    """A generated client with this key, over WSGI to the test's app (no server, no sockets)."""
    import httpx

    transport = httpx.WSGITransport(app=app)

    def client(key: str) -> Any:
        client_class = importlib.import_module(PACKAGE).AuthenticatedClient
        return client_class(
            base_url=BASE_URL,
            token=key,
            raise_on_unexpected_status=True,
            httpx_args={"transport": transport},
        )

    return client


def test_the_typed_flows_pass_mypy_strict_with_no_errors(generated: Path) -> None:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    command += ["--config-file", os.devnull, "--cache-dir", os.devnull, FLOWS.name]
    done = subprocess.run(command, cwd=generated, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_the_generated_client_walks_the_readme_in_store_flow(
    app: Flask, flows: ModuleType, connect: Callable[[str], Any]
) -> None:
    receipt = flows.in_store_purchase(connect, app.config["O2O_ADMIN_KEY"])
    assert receipt.order_status == "paid"
    assert receipt.coupon_status == "redeemed"
    assert receipt.paid_amount == 34900
    assert receipt.history[-1] == "redeemed"
    assert receipt.qr_png.startswith(b"\x89PNG")


def test_the_generated_client_pays_online_and_refunds_the_whole_payment(
    app: Flask, flows: ModuleType, connect: Callable[[str], Any]
) -> None:
    receipt = flows.online_purchase_refunded(connect, app.config["O2O_ADMIN_KEY"])
    assert receipt.order_status == "refunded"
    assert receipt.refund_status == "succeeded"
    assert receipt.refunded_amount == receipt.paid_amount
    assert receipt.coupon_status == "available"  # a full refund gives the coupon back
