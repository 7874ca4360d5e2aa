"""What a reader of the repository is pointed at exists in the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask

from tests.conftest import build_app

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(markdown: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(markdown.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
    ]


def test_every_relative_link_of_the_readme_and_docs_stays_in_the_repository() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        for target in relative_links(page):
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{page.name} links out: {target}"
            assert resolved.exists(), f"{page.name} links to nothing: {target}"
            checked += 1
    assert checked >= 5  # the check must have links to look at


def test_docs_openapi_json_is_what_the_app_serves() -> None:
    app: Flask = build_app("sqlite://")  # the sandbox's routes included, as `make openapi` does
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    kept = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))

    assert kept == served, "docs/openapi.json is stale: run `make openapi`"
