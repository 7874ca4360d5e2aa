"""`o2o --help` shows this tool's options and commands, not Flask's app-loading ones."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.live import O2O, subprocess_environment


def test_the_help_lists_the_tools_commands_and_none_of_flasks_app_options(tmp_path: Path) -> None:
    environment = subprocess_environment(O2O_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    shown = subprocess.run(
        [O2O, "--help"], env=environment, cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout

    for command in ("db", "run", "seed", "housekeeping", "simulate", "wechatpay"):
        assert re.search(rf"^  {command}(\s|$)", shown, re.MULTILINE), command
    for hidden in ("--app", "--env-file", "limiter", "expire-coupons"):
        assert hidden not in shown
    still_there = subprocess.run(
        [O2O, "expire-coupons", "--help"], env=environment, cwd=tmp_path, capture_output=True
    )
    assert still_there.returncode == 0


def test_the_wechatpay_commands_say_what_they_do_and_their_defaults(tmp_path: Path) -> None:
    environment = subprocess_environment(O2O_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")

    def shown(*command: str) -> str:
        done = subprocess.run(
            [O2O, "wechatpay", *command, "--help"],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return " ".join(done.stdout.split())  # unwrapped, whatever the terminal's width

    group = shown()  # the list's one-line helps are cut to the terminal's width: names only
    assert "Commands: ca-bundle " in group
    assert " tunnel " in group
    tunnel = shown("tunnel")
    assert "Answer for api.mch.weixin.qq.com" in tunnel
    for option, default in (
        ("--host", "127.0.0.1"),
        ("--port", "8443"),
        ("--upstream", "http://127.0.0.1:5000"),
    ):
        assert option in tunnel
        assert f"default: {default}" in tunnel
    assert "--ca-bundle" in tunnel
    assert "REQUESTS_CA_BUNDLE" in shown("ca-bundle")
