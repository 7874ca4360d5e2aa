"""The `o2o` command line: Flask's (run, db …) plus seed, reset, housekeeping and worker."""

from __future__ import annotations

import json
import os
import shlex
import signal
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import marshmallow as ma
from flask import Flask
from flask.cli import ScriptInfo, get_debug_flag, with_appcontext
from flask.cli import run_command as flask_run_command
from rich.console import Console
from rich.table import Table

from o2o.resources import DEFAULT_SEED


def cli_console() -> Console:
    """The commands' console. Piped or redirected output keeps whole lines: no wrapping at a
    guessed terminal's width (COLUMNS, or whatever terminal the other streams are on), and
    tables at their own width, so what lands in a file is what the user can grep."""
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = 10_000
    return console


def _campaign_fields(raw: dict[str, Any], now: Any) -> dict[str, Any]:
    """Validate a scenario campaign with the API's own schema; `valid_for_days` is relative."""
    from o2o.api.schemas import CampaignCreateSchema

    raw = dict(raw)
    campaign_id = raw.pop("id")
    days = raw.pop("valid_for_days", None)
    if days is not None:
        raw["valid_until"] = (now + timedelta(days=days)).isoformat()
    try:
        fields: dict[str, Any] = CampaignCreateSchema().load(raw)
    except ma.ValidationError as exc:
        raise click.ClickException(f"campaign {campaign_id}: {exc.messages}") from exc
    return {**fields, "id": campaign_id}


def _require_schema() -> None:
    """Refuse, with the command to run, on a database the migrations have not been run on."""
    import sqlalchemy as sa

    from o2o.extensions import db

    present = set(sa.inspect(db.engine).get_table_names())
    missing = [table for table in db.metadata.tables if table not in present]
    if missing:
        which = "tables" if not present else "table(s) " + ", ".join(sorted(missing))
        raise click.ClickException(
            f"The database has no {which} yet: run `o2o db upgrade` first, then `o2o seed`."
        )


@click.command("seed")
@with_appcontext
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
def seed_command(path: Path | None) -> None:
    """Load a scenario's stores, clerks, shoppers and campaigns (default: the Hangzhou sample)."""
    from o2o import clock
    from o2o.services.seed import seed

    _require_schema()
    source = path or DEFAULT_SEED
    data = json.loads(source.read_text(encoding="utf-8"))
    key_files = {}
    for row in data.get("wechatpay_merchants", []):  # a demo merchant's key, beside the seed
        key_files[row["mchid"]] = source.parent / row["private_key_file"]
        row["private_key"] = key_files[row["mchid"]].read_text(encoding="utf-8")
    now = clock.now()
    campaigns = [_campaign_fields(raw, now) for raw in data.get("campaigns", [])]
    report = seed(data, campaigns)
    console = cli_console()
    created = ", ".join(f"{n} {kind}" for kind, n in report.created.items()) or "nothing new"
    console.print(f"Seeded {path or DEFAULT_SEED}: {created}.")
    table = Table(title="Demo API keys (Authorization: Bearer <key>)")
    for column in ("role", "who", "key"):
        table.add_column(column)
    for role, who, key in report.keys:
        table.add_row(role, who, key)
    console.print(table)
    for merchant in report.wechatpay_merchants:
        _print_wechatpay_merchant(console, merchant, key_files[merchant.mchid])


def _print_wechatpay_merchant(console: Any, merchant: Any, key_file: Path) -> None:
    """The demo merchant as the call a merchant writes for `WeChatPay(...)` (the platform's
    public key is public: GET /api/v1/wechatpay/platform shows it)."""
    from o2o.wechatpay import merchants

    platform = merchants.platform()
    arguments = [
        "wechatpay_type=WeChatPayType.NATIVE",
        f"mchid={merchant.mchid!r}",
        f"appid={merchant.appid!r}",
        f"private_key=open({str(key_file)!r}).read()",
        f"cert_serial_no={merchant.cert_serial_no!r}",
        f"apiv3_key={merchants.apiv3_key(merchant)!r}",
        "notify_url='https://your.shop/wechatpay/notify'",
        "public_key=<public_key of GET /api/v1/wechatpay/platform>",
        f"public_key_id={platform.public_key_id!r}",
    ]
    console.print(f"WeChat Pay demo merchant {merchant.name} ({merchant.mchid}), for the SDK:")
    call = "WeChatPay(\n    " + ",\n    ".join(arguments) + ",\n)"
    console.print(call, markup=False, highlight=False)


def _database_url() -> Any:
    """The configured database's URL (sqlalchemy's URL object: it renders without a password)."""
    from flask import current_app
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _drop_every_table() -> list[str]:
    """Drop every table the database has (alembic_version and tables no model knows too)."""
    import sqlalchemy as sa

    from o2o.extensions import db

    db.session.remove()  # the command's own session holds no connection while tables go
    found = sa.MetaData()
    found.reflect(db.engine)
    found.drop_all(db.engine)
    return sorted(found.tables)


@click.command("reset")
@with_appcontext
@click.option(
    "--force", is_flag=True, help="Reset a database that is not SQLite (PostgreSQL) as well."
)
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.pass_context
def reset_command(ctx: click.Context, force: bool, path: Path | None) -> None:
    """Start the demo database over: drop every table, migrate to the latest schema and seed
    (default: the Hangzhou sample). Only SQLite without --force."""
    from flask_migrate import upgrade

    url = _database_url()
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "sqlite" and not force:
        raise click.ClickException(
            f"Refusing to reset {shown}: not a SQLite database. `o2o reset` drops every table "
            "and all their rows; pass --force (make reset: FORCE=1 make reset) if this "
            "database is really a throwaway one. Nothing was changed."
        )
    console = cli_console()
    console.print(
        f"Resetting {shown}: dropping every table, migrating to the latest schema, "
        f"seeding {path or DEFAULT_SEED}."
    )
    dropped = _drop_every_table()
    console.print(f"Dropped {len(dropped)} table(s){': ' if dropped else '.'}{', '.join(dropped)}")
    upgrade()
    ctx.invoke(seed_command, path=path)


def _housekeeping() -> None:
    from o2o.services.housekeeping import housekeeping

    report = housekeeping()
    click.echo(f"Recorded {report.moves} release(s) and expiries.")
    click.echo(f"Purged {report.payment_codes} payment code(s), used or expired.")
    click.echo(f"Purged {report.idempotency_records} idempotency record(s) past their retention.")


@click.command("housekeeping")
@with_appcontext
def housekeeping_command() -> None:
    """Release lapsed reservations, expire lapsed coupons, purge used or expired payment codes
    and idempotency records past their retention, in batches (run it from cron)."""
    _housekeeping()


@click.command("expire-coupons")
@with_appcontext
def expire_coupons_command() -> None:
    """The former name of `housekeeping`, which it runs whole."""
    _housekeeping()


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Deliver webhooks and record what time has done (lapsed reservations and coupons), until
    SIGTERM or Ctrl-C, which finish the attempts in hand. Run any number on PostgreSQL; on
    SQLite one (a second is refused)."""
    from flask import current_app

    from o2o.worker import DeliveryLoop, WorkerRefused, sole_sqlite_worker

    _require_schema()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    loop = DeliveryLoop(app)
    try:
        with sole_sqlite_worker(app):
            _stop_on_signals(loop.stop)
            click.echo(
                f"o2o worker {loop.worker_id}: delivering for "
                f"{_database_url().render_as_string(hide_password=True)} (poll "
                f"{loop.poll_seconds:g} s, sweep every {loop.sweep_seconds:g} s); "
                "stop with SIGTERM or Ctrl-C.",
                err=True,
            )
            loop.run()
    except WorkerRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"o2o worker {loop.worker_id}: stopped after {loop.delivered} delivery(ies) queued or "
        "attempted.",
        err=True,
    )


def _stop_on_signals(stop: Any) -> None:
    """SIGTERM and SIGINT stop the loop after its tick; a second SIGINT interrupts at once."""

    def handle(signum: int, frame: Any) -> None:
        stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@click.group("wechatpay")
def wechatpay_group() -> None:
    """The WeChat Pay APIv3 sandbox's tools: the zero-change route (docs/wechatpay.md)."""


def _platform_ca() -> tuple[str, str]:
    """The platform CA (private key, certificate) of the database `o2o run` serves, made there
    on first use: the service's /v3/ and the tunnel share one platform identity."""
    from o2o.extensions import db
    from o2o.wechatpay import merchants

    _require_schema()
    platform = merchants.platform()
    db.session.remove()  # nothing of the database is held while a tunnel serves
    return platform.ca_private_key, platform.ca_certificate


def _write_bundle(path: Path | None, ca_certificate: str) -> Path:
    """The CA bundle, at `path` or in the instance folder."""
    from flask import current_app

    from o2o.wechatpay import tunnel

    default = Path(current_app.instance_path) / "wechatpay-ca-bundle.pem"
    return tunnel.write_ca_bundle(path or default, ca_certificate)


BUNDLE_PATH = click.Path(dir_okay=False, path_type=Path)


@wechatpay_group.command("ca-bundle")
@with_appcontext
@click.argument("path", type=BUNDLE_PATH, required=False)
def ca_bundle_command(path: Path | None) -> None:
    """Write the bundle for REQUESTS_CA_BUNDLE — certifi's public roots, then this database's
    platform CA — to PATH (default: instance/wechatpay-ca-bundle.pem); print its export line."""
    written = _write_bundle(path, _platform_ca()[1])
    click.echo(f"export REQUESTS_CA_BUNDLE={shlex.quote(str(written))}")


@wechatpay_group.command("tunnel")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", default=8443, show_default=True, type=click.IntRange(0, 65535), help="Its port."
)
@click.option(
    "--upstream",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="This service, as `o2o run` serves it.",
)
@click.option(
    "--ca-bundle",
    "bundle",
    type=BUNDLE_PATH,
    help="Where to write the CA bundle (default: instance/wechatpay-ca-bundle.pem).",
)
def tunnel_command(host: str, port: int, upstream: str, bundle: Path | None) -> None:
    """Answer for api.mch.weixin.qq.com: an HTTPS proxy for WeChat Pay's API hosts only, its
    TLS certificate signed by the platform CA, relaying the SDK's requests to the service
    unchanged. A merchant's unchanged code reaches the sandbox with the two printed exports.
    Stop with SIGTERM or Ctrl-C."""
    from o2o.wechatpay import tunnel

    try:
        target = tunnel.Upstream.parse(upstream)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--upstream") from None
    ca_key, ca_certificate = _platform_ca()
    written = _write_bundle(bundle, ca_certificate)
    certificates = tunnel.Certificates(ca_key, ca_certificate)
    certificates.context()  # the first leaf now: a broken CA fails here, not at a connection
    server = _listen(tunnel, (host, port), target, certificates)
    stop = threading.Event()
    _stop_on_signals(stop.set)
    click.echo(f"export HTTPS_PROXY=http://{host}:{server.port}")
    click.echo(f"export REQUESTS_CA_BUNDLE={shlex.quote(str(written))}")
    click.echo(
        f"o2o wechatpay tunnel: answering for {', '.join(tunnel.HOSTS)} on {host}:{server.port}"
        f", relaying to {target}. Give the merchant's shell the two lines above (NO_PROXY "
        "must not match the host; an explicit proxy= in WeChatPay(...) wins over them). "
        "Stop with SIGTERM or Ctrl-C.",
        err=True,
    )
    tunnel.serve_until(server, stop)
    click.echo("o2o wechatpay tunnel: stopped.", err=True)


def _listen(tunnel: Any, address: tuple[str, int], target: Any, certificates: Any) -> Any:
    """The tunnel's listening server; a clear error if the address is taken or not ours."""

    def log(line: str) -> None:
        click.echo(f"o2o wechatpay tunnel: {line}", err=True)

    try:
        return tunnel.TunnelServer(address, target, certificates, log)
    except OSError as exc:
        raise click.ClickException(
            f"Cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}"
        ) from None


def _embedded_loop_wanted(reload: bool | None) -> bool:
    """Whether this `o2o run` process serves requests (under the reloader, the child does; the
    watcher only restarts it) with O2O_EMBEDDED_WORKER on."""
    reloading = get_debug_flag() if reload is None else reload
    return not reloading or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def _run(**options: Any) -> Any:
    """Flask's `run`, with the delivery loop started in this process first."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    if app.config["O2O_EMBEDDED_WORKER"] and _embedded_loop_wanted(options.get("reload")):
        from o2o.worker import start_embedded

        if start_embedded(app) is None:
            click.echo("Another worker delivers for this SQLite database: no embedded loop.")
    assert flask_run_command.callback is not None
    return flask_run_command.callback(**options)


run_command = click.Command(
    "run",
    callback=_run,
    params=flask_run_command.params,
    help=(flask_run_command.help or "")
    + "\n\nIt also delivers webhooks from a thread of its own (O2O_EMBEDDED_WORKER=0 turns "
    "that off; production runs gunicorn and `o2o worker`).",
    short_help=flask_run_command.short_help,
)


def register(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(reset_command)
    app.cli.add_command(housekeeping_command)
    app.cli.add_command(expire_coupons_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(wechatpay_group)
