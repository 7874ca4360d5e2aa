"""The development secret in the instance folder is private, whole, and one for everyone."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from o2o.config import build_config

READ_SECRET = (
    "import sys; from o2o.config import build_config; "
    "print(build_config(sys.argv[1], environ={})['O2O_SECRET_KEY'])"
)


def test_the_instance_secret_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    secret = build_config(str(tmp_path), environ={})["O2O_SECRET_KEY"]

    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == secret
    assert len(secret) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_processes_starting_at_once_all_read_the_one_secret(tmp_path: Path) -> None:
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", READ_SECRET, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    secrets = {start.communicate(timeout=60)[0].strip() for start in starts}

    assert secrets == {(tmp_path / "secret_key").read_text()}


def test_a_secret_from_the_environment_writes_no_file(tmp_path: Path) -> None:
    config = build_config(str(tmp_path), environ={"O2O_SECRET_KEY": "from-the-environment"})

    assert config["O2O_SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
