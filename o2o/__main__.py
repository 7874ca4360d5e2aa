"""The `o2o` command (and `python -m o2o`): Flask's CLI (run, db …) over create_app, the app's
own commands (o2o.cli: seed, housekeeping) and `simulate`, a client of the service."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from o2o import create_app
from o2o.simulation.command import simulate_command


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """O2O coupon-and-payment service."""


main.add_command(simulate_command)


if __name__ == "__main__":
    main()
