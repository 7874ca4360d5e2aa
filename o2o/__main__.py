"""The `o2o` command (and `python -m o2o`): Flask's CLI (run, db …) over create_app, the app's
own commands (o2o.cli: seed, housekeeping, worker; run with its delivery loop) and `simulate`,
a client of the service."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import FlaskGroup

from o2o import create_app
from o2o.cli import run_command
from o2o.simulation.command import simulate_command

# Flask's own options name an app to load, and this tool has one; not listed in --help are
# the libraries' maintenance commands and the old name of housekeeping (all still work).
FLASK_OPTIONS = {"app", "env_file"}
UNLISTED = {"limiter", "expire-coupons"}


class O2OGroup(FlaskGroup):
    """FlaskGroup with only this tool's options and commands in its help."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = [param for param in self.params if param.name not in FLASK_OPTIONS]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in UNLISTED]


@click.group(cls=O2OGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """O2O coupon-and-payment service."""


main.add_command(simulate_command)
main.add_command(run_command)  # Flask's run, which also starts the delivery loop (o2o.worker)


if __name__ == "__main__":
    main()
