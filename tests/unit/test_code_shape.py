"""The code keeps the sizes the design asks for: short views and services, short argument lists."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "o2o"
LIMITS = {"view": 12, "service": 30, "function": 40}  # lines of body, docstring excluded
MAX_POSITIONAL = 5


@dataclass(frozen=True)
class Function:
    where: str
    kind: str
    lines: int
    positional: int


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    first = body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start = body[1].lineno if docstring and len(body) > 1 else first.lineno
    return int(node.end_lineno or node.lineno) - start + 1


def _kind(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    if any("route" in ast.unparse(decorator) for decorator in node.decorator_list):
        return "view"
    if "services" in path.parts and not node.name.startswith("_"):
        return "service"
    return "function"


def functions(root: Path) -> list[Function]:
    """Every function under `root`, with its kind, length and positional parameters."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            arguments = [*node.args.posonlyargs, *node.args.args]
            positional = len([a for a in arguments if a.arg not in ("self", "cls")])
            where = f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"
            found.append(Function(where, _kind(path, node), _body_lines(node), positional))
    return found


def test_no_view_service_or_function_outgrows_its_size() -> None:
    too_long = [
        f"{f.where} ({f.kind}, {f.lines} lines)"
        for f in functions(PACKAGE)
        if f.lines > LIMITS[f.kind]
    ]
    assert too_long == []


def test_no_function_takes_more_than_five_positional_parameters() -> None:
    crowded = [f.where for f in functions(PACKAGE) if f.positional > MAX_POSITIONAL]
    assert crowded == []


def test_the_checks_see_a_long_function_and_a_crowded_one(tmp_path: Path) -> None:
    package = tmp_path / "o2o" / "services"
    package.mkdir(parents=True)
    body = "\n".join(f"    x{i} = {i}" for i in range(31))
    (package / "long.py").write_text(f"def use_case(a, b, c, d, e, f):\n{body}\n")
    [found] = functions(tmp_path / "o2o")
    assert (found.kind, found.lines, found.positional) == ("service", 31, 6)


def session_endings(root: Path) -> list[str]:
    """Every `<...>.session.commit()` / `.rollback()` call under `root`, as file:line."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"commit", "rollback"}
                and ast.unparse(node.func.value).endswith("session")
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_only_the_store_ends_a_transaction_so_a_keyed_request_stays_one() -> None:
    """Use cases end their work with store.commit()/store.rollback(), which a request under an
    Idempotency-Key turns into savepoints of its one transaction (o2o/store/transactions.py)."""
    endings = session_endings(PACKAGE / "services") + session_endings(PACKAGE / "api")
    allowed = {"api/errors.py"}  # the error handlers roll back what a failed request left
    assert [where for where in endings if where.split(":")[0] not in allowed] == []
    assert session_endings(PACKAGE / "store"), "the check must see the store's own endings"
