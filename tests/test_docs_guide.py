"""The user reference in docs/ says what the code says: error codes, reasons, state diagrams,
mock outcomes, make targets, and links that lead somewhere."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest

from o2o.vocabulary import (
    CAMPAIGN_TRANSITIONS,
    COUPON_MOVES,
    COUPON_MOVES_OUTSIDE_ORDERS,
    CampaignStatus,
    CouponStatus,
    ErrorCode,
    MockOutcome,
    OrderStatus,
    PaymentStatus,
    Reason,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
START = "[*]"

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)
TRANSITION = re.compile(r"^\s*(\S+)\s*-->\s*([^\s:]+)\s*(?::.*)?$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def tables(markdown: str) -> list[list[list[str]]]:
    """Every Markdown table outside code blocks, as rows of cells (header row first, the
    separator row left out)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*FENCE.sub("", markdown).splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def table_headed(markdown: str, first_column: str) -> list[list[str]]:
    """The body rows of the one table whose first header cell is `first_column`."""
    [table] = [table for table in tables(markdown) if table[0][0] == first_column]
    return table[1:]


def code_in(cell: str) -> str:
    """The `code` a table cell names."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"not a single `code`: {cell!r}"
    return match.group(1)


def state_diagrams() -> dict[str, str]:
    """Every stateDiagram-v2 of docs/*.md, by the enum its `%% EnumName` comment names."""
    diagrams: dict[str, str] = {}
    for page in sorted(DOCS.glob("*.md")):
        for diagram in MERMAID.findall(read(page)):
            lines = diagram.strip().splitlines()
            if lines[0].strip() != "stateDiagram-v2":
                continue
            comment = re.match(r"\s*%%\s*(\w+)", lines[1])
            assert comment, f"{page.name}: a state diagram without its `%% EnumName` comment"
            assert comment.group(1) not in diagrams, f"two diagrams of {comment.group(1)}"
            diagrams[comment.group(1)] = diagram
    return diagrams


def transitions(diagram: str) -> set[tuple[str, str]]:
    return {
        (match.group(1), match.group(2))
        for line in diagram.splitlines()
        if (match := TRANSITION.match(line))
    }


def states(diagram: str) -> set[str]:
    return {state for edge in transitions(diagram) for state in edge} - {START}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", read(page)))}


def checked_pages() -> list[Path]:
    return [*sorted(DOCS.glob("*.md")), ROOT / "CONTRIBUTING.md"]


def test_the_error_table_lists_exactly_the_error_codes_with_their_statuses() -> None:
    rows = table_headed(read(DOCS / "errors.md"), "code")
    listed = [(code_in(row[0]), int(row[1])) for row in rows]

    assert len(listed) == len({code for code, _ in listed}), "a code is listed twice"
    assert dict(listed) == {error.code: error.status for error in ErrorCode}
    assert all(row[2] for row in rows), "every code says when it happens"


def test_the_reason_table_lists_exactly_the_reason_codes() -> None:
    rows = table_headed(read(DOCS / "errors.md"), "reason")

    assert sorted(code_in(row[0]) for row in rows) == sorted(Reason)


@pytest.mark.parametrize("statuses", [CouponStatus, OrderStatus, PaymentStatus, CampaignStatus])
def test_each_state_diagram_draws_every_status_of_its_enum_and_no_other(
    statuses: type[Enum],
) -> None:
    diagram = state_diagrams()[statuses.__name__]

    assert states(diagram) == {status.value for status in statuses}


def test_the_coupon_diagram_draws_exactly_the_coupon_moves_after_the_claim() -> None:
    edges = transitions(state_diagrams()["CouponStatus"])
    tables = (*COUPON_MOVES.values(), *COUPON_MOVES_OUTSIDE_ORDERS.values())
    moves = {(start, end) for starts, end in tables for start in starts}

    assert edges == {(START, CouponStatus.AVAILABLE), *moves}


def test_the_campaign_diagram_draws_exactly_the_campaign_transitions() -> None:
    edges = transitions(state_diagrams()["CampaignStatus"])
    allowed = {(old, new) for old, news in CAMPAIGN_TRANSITIONS.items() for new in news}

    assert {(old, new) for old, new in edges if START not in (old, new)} == {
        (old, new) for old, new in allowed if old != new
    }


def test_the_mock_outcome_table_lists_exactly_the_mock_outcomes() -> None:
    rows = table_headed(read(DOCS / "guide.md"), "outcome")

    assert sorted(code_in(row[0]) for row in rows) == sorted(MockOutcome)


def test_every_relative_link_of_the_docs_and_contributing_leads_to_a_file_and_heading() -> None:
    checked = 0
    for page in checked_pages():
        for link in LINK.findall(FENCE.sub("", read(page))):
            if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
                continue
            target, _, anchor = link.partition("#")
            resolved = (page.parent / target).resolve() if target else page
            assert resolved.is_relative_to(ROOT), f"{page.name} links out: {link}"
            assert resolved.exists(), f"{page.name} links to nothing: {link}"
            if anchor and resolved.suffix == ".md":
                assert anchor in anchors(resolved), f"{page.name}: no heading for {link}"
            checked += 1
    assert checked >= 40  # the check must have links to look at


def test_the_docs_index_links_every_page_of_docs() -> None:
    index = read(DOCS / "README.md")
    linked = {link.partition("#")[0] for link in LINK.findall(index)}
    pages = {page.name for page in DOCS.iterdir() if page.is_file() and page.name != "README.md"}

    assert pages - linked == set()


def test_contributing_describes_every_make_target() -> None:
    phony = re.search(r"^\.PHONY:(.*)$", read(ROOT / "Makefile"), re.MULTILINE)
    assert phony
    described = set(re.findall(r"`make (\w+)", read(ROOT / "CONTRIBUTING.md")))

    assert set(phony.group(1).split()) - described == set()
