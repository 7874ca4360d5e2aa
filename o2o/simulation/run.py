"""`o2o simulate`: set up the service (in process or live), run, report, check."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from o2o.client import InProcess, OverHttp, Service
from o2o.simulation.engine import simulate
from o2o.simulation.report import (
    build_report,
    check_invariants,
    render,
    render_webhooks,
    to_json,
)
from o2o.simulation.scenario import load_scenario
from o2o.simulation.webhooks import WebhookAudit

# What the simulation relies on (the documented defaults: POLL_AFTER_SECONDS follows the mock's
# paying delay), passed to the in-process app so that exported O2O_* variables do not change it.
SETTINGS = {
    "O2O_SANDBOX": True,
    "O2O_QR_TOKEN_TTL": 300,
    "O2O_ORDER_TTL": 900,
    "O2O_PAYMENT_CODE_TTL": 60,
    "O2O_MOCK_PAYING_SECONDS": 5,
}


@contextmanager
def _service(url: str | None, admin_key: str | None, database_url: str | None) -> Iterator[Service]:
    """A live service over HTTP, or a fresh in-process one in sandbox mode."""
    if url:
        if not admin_key:
            raise click.UsageError("--url needs --admin-key (or O2O_ADMIN_KEY)")
        yield Service(OverHttp(url), admin_key)
        return
    from o2o import create_app
    from o2o.extensions import db

    with tempfile.TemporaryDirectory(prefix="o2o-simulate-") as workdir:
        key = f"simulate-{secrets.token_hex(8)}"
        app = create_app(
            {
                **SETTINGS,
                "SQLALCHEMY_DATABASE_URI": database_url
                or f"sqlite:///{Path(workdir) / 'sim.sqlite3'}",
                "O2O_ADMIN_KEY": key,
                "O2O_SECRET_KEY": secrets.token_hex(16),
            }
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
        try:
            yield Service(InProcess(app.test_client()), key)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _audit(service: Service, webhooks: bool, wait: float) -> AbstractContextManager[Any]:
    return WebhookAudit(service, wait) if webhooks else nullcontext()


def _run(
    scenario: dict[str, Any], service: Service, console: Console, **options: Any
) -> tuple[dict[str, Any], list[str]]:
    """Simulate (under a progress bar), then the report and the broken invariants."""
    days = options["days"]
    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        TextColumn("day {task.fields[day]}/" + str(days)),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("run", total=days * 100, day=0)
        world = simulate(
            scenario,
            service,
            **options,
            progress=lambda day, pct: bar.update(task, completed=day * 100 + pct, day=day + 1),
        )
    report = build_report(world, scenario, **options)
    return report, check_invariants(world)


def run_simulation(
    scenario_path: Path,
    *,
    shoppers: int,
    days: int,
    seed: int,
    url: str | None = None,
    admin_key: str | None = None,
    database_url: str | None = None,
    report_path: Path | None = None,
    console: Console | None = None,
    webhooks: bool = False,
    webhook_wait: float = 30.0,
) -> list[str]:
    """Run, print the report, write it as JSON; returns the broken invariants."""
    console = console or Console()
    try:
        scenario = load_scenario(scenario_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    options = {"shoppers": shoppers, "days": days, "seed": seed}
    with _service(url, admin_key, database_url) as service:
        with _audit(service, webhooks, webhook_wait) as audit:
            report, broken = _run(scenario, service, console, **options)
            if audit is not None:
                report["webhooks"], broken_webhooks = audit.check()
                broken += broken_webhooks
    report["invariants"] = {"hold": not broken, "broken": broken}
    render(report, console)
    if "webhooks" in report:
        render_webhooks(report["webhooks"], console)
    if report_path:
        report_path.write_text(to_json(report), encoding="utf-8")
        console.print(f"Report written to {report_path}")
    _conclude(broken, console, webhooks)
    return broken


def _conclude(broken: list[str], console: Console, webhooks: bool) -> None:
    if broken:
        console.print("[bold red]Invariants broken:[/]")
        for line in broken:
            console.print(f"  - {line}")
        return
    console.print("[green]Invariants hold:[/] no coupon redeemed twice, no campaign over budget,")
    console.print("payments and refunds add up to the stats.")
    if webhooks:
        console.print(
            "Every event written was delivered, every signature verified, every body is the "
            "event, nothing came again once acknowledged."
        )
