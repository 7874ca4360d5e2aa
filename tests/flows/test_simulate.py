"""`o2o simulate`: deterministic reports, invariant checks that can fail, live mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from o2o.extensions import db
from o2o.models import Payment
from o2o.resources import DEFAULT_SCENARIO
from o2o.simulation import run as simulation_run
from o2o.simulation import webhooks as simulation_webhooks
from o2o.simulation.command import simulate_command
from o2o.testing.webhooks import Receiver
from tests.live import live_server

SMALL = ["--shoppers", "60", "--days", "4"]


def simulate(*args: str) -> Any:
    return CliRunner().invoke(simulate_command, [*SMALL, *args], catch_exceptions=False)


def test_the_same_seed_gives_a_byte_identical_report(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    for path, seed in ((first, "3"), (second, "3"), (other, "4")):
        result = simulate("--seed", seed, "--report", str(path))
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    report = json.loads(first.read_text())
    assert report["invariants"] == {"hold": True, "broken": []}
    assert set(report["campaigns"]) == {"20pct", "50off300", "tote", "westlake80"}
    assert sum(c["claimed"] for c in report["campaigns"].values()) > 0
    assert report["payments"]["by_status"]["succeeded"] > 0
    assert "Invariants hold" in CliRunner().invoke(simulate_command, SMALL).output


def test_a_broken_invariant_makes_the_run_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    honest_check = simulation_run.check_invariants

    def tamper_then_check(world: Any) -> list[str]:
        app = world.service.transport.client.application
        with app.app_context():  # a refund that no API call made
            db.session.execute(
                update(Payment)
                .where(Payment.status == "succeeded", Payment.refunded_amount == 0)
                .values(refunded_amount=1)
            )
            db.session.commit()
        return honest_check(world)

    monkeypatch.setattr(simulation_run, "check_invariants", tamper_then_check)
    result = simulate("--seed", "5")
    assert result.exit_code == 1
    assert "Invariants broken" in result.output
    assert "refunds made 0, payment shows 1" in result.output


def test_a_scenario_that_does_not_validate_is_a_clear_error(tmp_path: Path) -> None:
    scenario = json.loads(DEFAULT_SCENARIO.read_text())
    scenario["campaigns"][0]["stores"] = ["atlantis"]
    del scenario["arrivals"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    result = CliRunner().invoke(simulate_command, ["--scenario", str(path)])
    assert result.exit_code == 1
    assert "arrivals" in result.output
    assert "Traceback" not in result.output


def test_it_drives_a_live_server_through_the_public_api(tmp_path: Path) -> None:
    key = "live-admin"
    settings = {name: str(int(value)) for name, value in simulation_run.SETTINGS.items()}
    with live_server(tmp_path, seed=False, **settings, O2O_ADMIN_KEY=key) as url:
        result = CliRunner().invoke(
            simulate_command,
            ["--shoppers", "15", "--days", "2", "--url", url, "--admin-key", key],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    assert "Invariants hold" in result.output


def test_with_webhooks_every_event_is_delivered_verified_and_counted_per_type(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report.json"

    result = simulate("--seed", "2", "--webhooks", "--report", str(path))

    assert result.exit_code == 0, result.output
    figures = json.loads(path.read_text())["webhooks"]
    assert figures["events_written"] == figures["events_delivered"] > 0
    assert figures["signatures_invalid"] == 0
    assert sum(figures["delivered_by_type"].values()) == figures["events_written"]
    assert {"campaign.created", "coupon.claimed", "order.paid"} <= set(figures["delivered_by_type"])
    assert "Webhooks delivered, per event type" in result.output


class TamperingReceiver(Receiver):
    """Alters one byte of the third delivery's body on its way in."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.seen = 0

        def tamper(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
            self.seen += 1
            return (body.replace(b"}", b" }", 1) if self.seen == 3 else body), headers

        self.tamper = tamper


def test_a_delivery_tampered_with_on_the_way_makes_the_webhook_run_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(simulation_webhooks, "Receiver", TamperingReceiver)

    result = simulate("--seed", "2", "--webhooks")

    assert result.exit_code == 1
    assert "Invariants broken" in result.output
    assert "webhooks: 1 delivery(ies) failed signature verification" in result.output
    assert "1 signature(s) invalid" in result.output  # refused with 400, so retried later


def test_with_webhooks_against_a_live_server_its_own_loop_delivers_every_event(
    tmp_path: Path,
) -> None:
    key = "live-admin"
    settings = {name: str(int(value)) for name, value in simulation_run.SETTINGS.items()}
    settings["O2O_WORKER_POLL_SECONDS"] = "0.1"
    report = tmp_path / "report.json"
    with live_server(tmp_path, seed=False, **settings, O2O_ADMIN_KEY=key) as url:
        arguments = ["--shoppers", "15", "--days", "2", "--url", url, "--admin-key", key]
        result = CliRunner().invoke(
            simulate_command,
            [*arguments, "--webhooks", "--report", str(report)],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())["webhooks"]
    assert figures["events_written"] == figures["events_delivered"] > 0
