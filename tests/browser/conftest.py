"""Browser-test fixtures: one live sandbox server and one Chromium per module."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import support
from tests.builders import ADMIN_KEY
from tests.live import O2O, free_port, serving, subprocess_environment


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live `o2o run` in sandbox mode on 127.0.0.1, a free port and a throwaway SQLite file."""
    support.require_browser()
    workdir = tmp_path_factory.mktemp("browser")
    port = free_port()
    environment = subprocess_environment(
        O2O_DATABASE_URL=f"sqlite:///{workdir / 'browser.sqlite3'}",
        O2O_SANDBOX="1",
        O2O_ADMIN_KEY=ADMIN_KEY,
        O2O_PUBLIC_URL=f"http://127.0.0.1:{port}",  # the merchant QR's wallet link comes here
    )
    subprocess.run(
        [O2O, "db", "upgrade"], env=environment, check=True, capture_output=True, cwd=workdir
    )
    command = [O2O, "run", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, environment, workdir, port) as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[support.Playwright]:
    support.require_browser()
    with support.playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(driver: support.Playwright) -> Iterator[support.Browser]:
    """Chromium with a fake camera that shows nothing in particular."""
    launched = support.launch(driver)
    yield launched
    launched.close()


@pytest.fixture
def api(base: str) -> support.LiveApi:
    return support.LiveApi(base)


@pytest.fixture
def world(api: support.LiveApi) -> Iterator[support.World]:
    """A fresh store, clerk, shopper and campaign; no page of the test reached outside."""
    made = api.world()
    yield made
    # ended, so that the next test's wallet lists only its own campaign
    api.call("PATCH", f"/campaigns/{made.campaign['id']}", body={"status": "ended"})
    assert made.outside == [], f"requests outside the service: {made.outside}"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """Where the screenshots go: docs/ with O2O_UPDATE_SCREENSHOTS=1 (a run that refreshes the
    README's pictures), else a temporary folder, so that a test run leaves the checkout clean."""
    if os.environ.get("O2O_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parent.parent.parent / "docs"
    return tmp_path
