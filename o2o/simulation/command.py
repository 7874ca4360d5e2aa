"""`o2o simulate`: a client of the service, so a command of the `o2o` group, not of the app."""

from __future__ import annotations

from pathlib import Path

import click

from o2o.cli import cli_console
from o2o.resources import DEFAULT_SCENARIO


@click.command("simulate")
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_SCENARIO,
    show_default=True,
)
@click.option("--shoppers", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=14, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--url", help="Drive a live service (started with O2O_SANDBOX=1) instead.")
@click.option("--admin-key", envvar="O2O_ADMIN_KEY", help="Admin key of the live service.")
@click.option(
    "--database-url", help="In process: the database to use (default: a throwaway SQLite file)."
)
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--webhooks",
    is_flag=True,
    help="Register a webhook receiver for the run and check that every event written was "
    "delivered, signed and unaltered; the report counts deliveries per event type.",
)
@click.option(
    "--webhook-wait",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="With --url: how long to wait for the live service's workers to deliver.",
)
def simulate_command(
    *,
    scenario_path: Path,
    shoppers: int,
    days: int,
    seed: int,
    url: str | None,
    admin_key: str | None,
    database_url: str | None,
    report_path: Path | None,
    webhooks: bool,
    webhook_wait: float,
) -> None:
    """Simulate shoppers and clerks through the public API; report, then check invariants."""
    from o2o.simulation.run import run_simulation

    broken = run_simulation(
        scenario_path,
        shoppers=shoppers,
        days=days,
        seed=seed,
        url=url,
        admin_key=admin_key,
        database_url=database_url,
        report_path=report_path,
        console=cli_console(),
        webhooks=webhooks,
        webhook_wait=webhook_wait,
    )
    if broken:
        raise SystemExit(1)
