"""The sdist and the wheel carry the migrations and the sample data, and a wheel installed into a
fresh venv outside the checkout migrates, seeds and simulates from any directory.

Slow (a venv, an install of the dependencies): marked `slow`, and run by `make test` and CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIRS = ("migrations", "sample_data")
TIMEOUT = 300

pytestmark = pytest.mark.slow


def _run(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def _ok(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = _run(command, cwd)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def _new_user_environment(**env: str) -> dict[str, str]:
    """os.environ minus the caller's O2O_*/FLASK_* variables and PYTHONPATH: a new user's shell."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("O2O_", "FLASK_")) and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**inherited, **env}


def _source_files() -> list[str]:
    """What a clone holds (tracked, plus new files not ignored): never .venv, build/ or caches."""
    listed = _ok(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO).stdout
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _data_files() -> set[str]:
    return {
        path.relative_to(REPO).as_posix()
        for top in DATA_DIRS
        for path in (REPO / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the checkout's files → sdist → wheel built from that sdist, and a fresh venv
    (outside the checkout) with the wheel and its dependencies installed."""
    root = tmp_path_factory.mktemp("packaging")
    assert not root.resolve().is_relative_to(REPO)
    source = root / "source"
    for name in _source_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name).read_bytes())

    venv = root / "venv"
    _ok([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    _ok([python, "-m", "pip", "install", "-q", "setuptools>=65"])  # for the sdist (3.12+: none)
    dist = root / "dist"
    sdist_script = (
        "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    )
    sdist = dist / _ok([python, "-c", sdist_script, str(dist)], cwd=source).stdout.split()[-1]
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    (unpacked,) = (root / "unpacked").iterdir()
    _ok([python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(unpacked)])
    (wheel,) = dist.glob("o2o-*.whl")
    _ok([python, "-m", "pip", "install", "-q", str(wheel)])
    return {"sdist": sdist, "wheel": wheel, "venv": venv, "root": root}


def test_the_sdist_carries_the_migrations_and_the_sample_data(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert _data_files() <= names, sorted(_data_files() - names)


def test_the_wheel_carries_them_inside_the_package_and_every_module(
    built: dict[str, Path],
) -> None:
    with zipfile.ZipFile(built["wheel"]) as archive:
        names = set(archive.namelist())
    packaged = {f"o2o/_data/{name}" for name in _data_files()}
    assert packaged <= names, sorted(packaged - names)
    assert "o2o/_data/migrations/alembic.ini" in names
    assert any(name.startswith("o2o/_data/migrations/versions/") for name in names)
    # pyproject.toml lists the packages one by one: a new one under o2o/ must be listed too.
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "o2o").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not any(name.startswith(("migrations/", "sample_data/", "tests/")) for name in names)


def test_the_installed_wheel_migrates_seeds_and_simulates_from_any_directory(
    built: dict[str, Path], tmp_path: Path
) -> None:
    o2o = str(built["venv"] / "bin" / "o2o")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    environment = _new_user_environment(O2O_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")

    def o2o_run(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([o2o, *args], cwd=workdir, env=environment)

    early = o2o_run("seed")  # before any migration: the command to run, not a traceback
    assert early.returncode != 0
    assert "o2o db upgrade" in early.stderr + early.stdout
    assert "Traceback" not in early.stderr + early.stdout

    for args in (["db", "upgrade"], ["seed"], ["simulate", "--shoppers", "20", "--days", "2"]):
        result = o2o_run(*args)
        assert result.returncode == 0, f"o2o {' '.join(args)}\n{result.stdout}\n{result.stderr}"
        if args == ["seed"]:  # the sample from the installed package, not from this checkout
            assert "site-packages/o2o/_data/sample_data/hangzhou.json" in result.stdout
    assert list(workdir.iterdir()) == []  # nothing written to the working directory
