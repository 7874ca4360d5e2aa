"""The import graph of o2o/ runs one way: no cycles, no leaf reaching up into api/ or services/."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import o2o

PACKAGE_DIR = Path(o2o.__file__).resolve().parent

# Leaves and the hot path stand below the use cases: they never import api/ or services/.
LOWER = (
    "o2o.models",
    "o2o.clock",
    "o2o.tokens",
    "o2o.errors",
    "o2o.qr",
    "o2o.qr_reader",
    "o2o.gateway",
    "o2o.vocabulary",
    "o2o.principal",
    "o2o.store",
    "o2o.events",
)
UPPER = ("o2o.api", "o2o.services")
# Plain-Python leaves: usable without a web framework.
FRAMEWORK_FREE = ("o2o.errors", "o2o.tokens", "o2o.vocabulary", "o2o.gateway", "o2o.qr_reader")
FRAMEWORKS = ("flask", "flask_sqlalchemy", "werkzeug")

Graph = dict[str, set[str]]


def _modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name; a package is named by its __init__."""
    root = package_dir.parent
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def _imported(module: str, is_package: bool, tree: ast.AST, known: set[str]) -> Iterator[str]:
    """Every module one file imports, anywhere in it (inside functions too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                # `from pkg import sub` imports the submodule; `from pkg import name`, the package
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def build_import_graph(package_dir: Path) -> Graph:
    """Module → the modules it imports (external ones by their dotted name as written)."""
    modules = _modules(package_dir)
    known = set(modules)
    graph: Graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = set(_imported(name, is_package, tree, known)) - {name}
    return graph


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _path_back(graph: Graph, start: str, scc: set[str]) -> tuple[str, ...]:
    """A shortest walk start → … → start inside one strongly connected component."""
    previous: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for target in sorted(graph[node] & scc):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return (*reversed(path), start)
            if target not in previous:
                previous[target] = node
                queue.append(target)
    raise AssertionError(f"{start} is not on a cycle")  # pragma: no cover


def find_cycles(graph: Graph) -> list[tuple[str, ...]]:
    """One cycle per strongly connected group of modules (Tarjan), as a → b → … → a."""
    internal = {name: targets & graph.keys() for name, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(internal[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(internal):
        if node not in index:
            visit(node)
    cycles = [_path_back(internal, min(group), group) for group in groups]
    return sorted(cycles)


def forbidden_imports(
    graph: Graph, importers: Iterable[str], imported: Iterable[str]
) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a module under `importers` imports one under `imported`."""
    importers, imported = tuple(importers), tuple(imported)
    return sorted(
        (name, target)
        for name, targets in graph.items()
        if _within(name, importers)
        for target in targets
        if _within(target, imported)
    )


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_import_graph(PACKAGE_DIR)


# --- the checker itself, proven on a planted package ------------------------------------------


def _plant(root: Path, files: dict[str, str]) -> Graph:
    """Write a small package named o2o under `root` and build its graph."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return build_import_graph(root / "o2o")


PLANTED = {
    "o2o/__init__.py": "def create_app():\n    from o2o import api\n",
    "o2o/api/__init__.py": "from . import views\n",
    "o2o/api/views.py": "from o2o.services import orders\n",
    "o2o/services/__init__.py": "",
    # a sibling through the package: an import of o2o.services.coupons only, not a cycle
    "o2o/services/orders.py": "from o2o.services import coupons\nfrom o2o import clock\n",
    "o2o/services/coupons.py": "from .. import clock\n",
    # the lazy import inside a function closes the cycle clock → sandbox → clock, upwards
    "o2o/clock.py": "def now():\n    from .services.sandbox import read_clock\n",
    "o2o/services/sandbox.py": "import flask\nfrom ..clock import now\n",
    "o2o/errors.py": "from werkzeug.exceptions import HTTPException\n",
}


def test_the_graph_resolves_relative_lazy_and_package_imports_to_module_names(
    tmp_path: Path,
) -> None:
    assert _plant(tmp_path, PLANTED) == {
        "o2o": {"o2o.api"},
        "o2o.api": {"o2o.api.views"},
        "o2o.api.views": {"o2o.services.orders"},
        "o2o.services": set(),
        "o2o.services.orders": {"o2o.services.coupons", "o2o.clock"},
        "o2o.services.coupons": {"o2o.clock"},
        "o2o.clock": {"o2o.services.sandbox"},
        "o2o.services.sandbox": {"flask", "o2o.clock"},
        "o2o.errors": {"werkzeug.exceptions"},
    }


def test_a_planted_cycle_is_reported_as_the_walk_around_it(tmp_path: Path) -> None:
    assert find_cycles(_plant(tmp_path, PLANTED)) == [
        ("o2o.clock", "o2o.services.sandbox", "o2o.clock")
    ]


def test_importing_a_name_from_a_package_imports_the_package_itself(tmp_path: Path) -> None:
    planted = {
        **PLANTED,
        "o2o/services/__init__.py": "from o2o.services import orders\n",
        "o2o/services/coupons.py": "from o2o.services import HELPER\n",
    }
    cycles = find_cycles(_plant(tmp_path, planted))

    assert ("o2o.services", "o2o.services.orders", "o2o.services.coupons", "o2o.services") in (
        cycles
    )


def test_a_planted_upward_import_and_framework_import_break_the_real_rules(
    tmp_path: Path,
) -> None:
    graph = _plant(tmp_path, PLANTED)

    assert forbidden_imports(graph, LOWER, UPPER) == [("o2o.clock", "o2o.services.sandbox")]
    assert forbidden_imports(graph, FRAMEWORK_FREE, FRAMEWORKS) == [
        ("o2o.errors", "werkzeug.exceptions")
    ]


def test_a_lower_package_that_does_not_exist_yet_has_nothing_to_report(tmp_path: Path) -> None:
    graph = _plant(tmp_path, PLANTED)

    assert not any(_within(name, ("o2o.store",)) for name in graph)
    assert forbidden_imports(graph, ["o2o.store"], UPPER) == []


# --- the real tree ----------------------------------------------------------------------------


def test_the_graph_sees_the_whole_package(graph: Graph) -> None:
    assert {"o2o", "o2o.clock", "o2o.api", "o2o.services.sandbox"} <= graph.keys()
    assert "o2o.services.sandbox" in graph["o2o"]  # create_app installs the sandbox clock


def test_o2o_modules_import_one_another_without_a_cycle(graph: Graph) -> None:
    cycles = find_cycles(graph)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_leaves_and_the_hot_path_never_import_api_or_services(graph: Graph) -> None:
    assert forbidden_imports(graph, LOWER, UPPER) == []


def test_plain_python_leaves_never_import_a_web_framework(graph: Graph) -> None:
    assert forbidden_imports(graph, FRAMEWORK_FREE, FRAMEWORKS) == []


def test_the_delivery_loop_stands_above_the_use_cases_and_the_delivery_engine(
    graph: Graph,
) -> None:
    """o2o.worker calls both services (the sweep) and events (run_once): neither imports it."""
    assert {"o2o.services.housekeeping", "o2o.events.delivery"} <= graph["o2o.worker"]
    assert forbidden_imports(graph, (*LOWER, *UPPER), ("o2o.worker",)) == []
