"""`make bench`: prepare checkouts, serve with gunicorn, drive it from a load process, report."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import create_engine, text

from bench.prepare import METHODS, ROOT, bench_database, migrate, prepare

RESULTS = ROOT / "bench-results" / "latest.json"
TTL = 3600  # QR tokens and payment codes must outlive preparation plus the run
# Every limit the checkout passes, each far above what a run sends: the limiter still counts.
BENCH_RATE_LIMITS = ";".join(
    f"{name}=10000000/minute" for name in ("auth_failures", "orders", "payments", "scans")
)
AMOUNT = 39900  # ¥399.00: clears the campaign's ¥300 minimum, pays ¥349.00
Cpu = dict[str, dict[int, float]]


DESCRIPTION = """\
The checkout hot path under gunicorn, driven from a separate load process.

Steps: create a throwaway database (PostgreSQL if one answers, else a SQLite file) and migrate
it; prepare --checkouts checkouts (a store, a clerk and a campaign through o2o.client, then
one shopper per checkout with a claimed coupon, its QR token and a payment code); serve the
app with gunicorn on 127.0.0.1; time GET /healthz for --duration seconds (the framework's
ceiling), then POST /orders with the QR token followed by its clerk_scan payment for up to
--duration seconds; print req/s, p50/p99 and CPU per paid checkout; drop the database.

A default run prepares 9000 checkouts in seconds and takes about a minute in all; results go
to bench-results/latest.json (--output)."""

EPILOG = """\
database: O2O_BENCH_DATABASE_URL, else O2O_TEST_DATABASE_URL, else
postgres@127.0.0.1:5432/test; a fresh database is created on that server and dropped at the end.

examples:
  python -m bench.run --checkouts 2000 --duration 5
  python -m bench.run --port 5055 --idempotency-keys
  make bench BENCH_ARGS='--checkouts 2000 --port 5055'"""


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _positive(text: str) -> int:
    value = int(_number(text, int))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    value = int(_number(text, int))
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 (a free port) to 65535, not {value}")
    return value


def _seconds(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cpus = os.cpu_count() or 1
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run = p.add_argument_group("the run")
    run.add_argument(
        "--checkouts",
        type=_positive,
        default=9000,
        metavar="N",
        help="checkouts to prepare; the checkout phase stops when they run out (default: 9000)",
    )
    run.add_argument(
        "--duration",
        type=_seconds,
        default=15.0,
        metavar="SECONDS",
        help="length of each phase, healthz and checkout (default: 15)",
    )
    run.add_argument(
        "--connections",
        type=_positive,
        default=16,
        metavar="N",
        help="concurrent keep-alive connections of the load process (default: 16)",
    )
    run.add_argument(
        "--idempotency-keys", action="store_true", help="send an Idempotency-Key on every POST"
    )
    run.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="serve without the rate limiter (by default it runs, with limits no run reaches)",
    )
    server = p.add_argument_group("the server")
    server.add_argument(
        "--port",
        type=_port,
        default=0,
        help="gunicorn's port on 127.0.0.1 (default: 0, a free port)",
    )
    # sync workers, nproc + 1 of them by default. The app is CPU-bound, and a sync worker is one
    # single-threaded process that never queues on the GIL; one more worker than cores keeps
    # the cores busy while a worker waits on PostgreSQL. On 2 cores with PostgreSQL, 10 s runs
    # gave 280-405 checkouts/s with 2 workers and 398-430 with 3 (same code, same machine);
    # gthread (3 x 1 thread, keep-alive) tied sync x3 on throughput with a worse p99; 4 sync
    # workers were no better than 3.
    server.add_argument(
        "--workers",
        type=_positive,
        default=cpus + 1,
        metavar="N",
        help=f"gunicorn workers (default: nproc + 1 = {cpus + 1})",
    )
    server.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="gunicorn worker class (default: sync)",
    )
    server.add_argument(
        "--threads",
        type=_positive,
        default=4,
        metavar="N",
        help="threads per worker, with --worker-class gthread (default: 4)",
    )
    server.add_argument(
        "--sqlite", action="store_true", help="use a SQLite file even if PostgreSQL answers"
    )
    prep = p.add_argument_group("preparation (before gunicorn starts, outside the measured phases)")
    prep.add_argument(
        "--prepare",
        choices=METHODS,
        default="bulk",
        help="bulk: seed the shoppers' rows in this process, seconds (default); "
        "api: four requests per checkout through o2o.client, minutes",
    )
    prep.add_argument(
        "--prep-processes",
        type=_positive,
        default=2 * cpus,
        metavar="N",
        help=f"processes for --prepare api (default: 2 x nproc = {2 * cpus})",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        metavar="PATH",
        help="where the results go as JSON (default: bench-results/latest.json)",
    )
    return p.parse_args(argv)


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:`port` can be bound now (0 always can: the system picks one)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text(errors="replace").splitlines() if cpuinfo.exists() else []
    models = [line.partition(":")[2].strip() for line in lines if line.startswith("model name")]
    cpu = models[0] if models else platform.processor() or "unknown"
    load = [round(x, 2) for x in os.getloadavg()]
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "load": load}


def _cpu_seconds(pids: list[int], comm: str | None = None) -> dict[int, float]:
    """User + system CPU of these local processes (only those named `comm`, when given), from
    /proc; a process that is gone, or not local, is skipped."""
    seconds = {}
    for pid in pids:
        try:
            if comm and not Path(f"/proc/{pid}/comm").read_text().startswith(comm):
                continue
            stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        seconds[pid] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def cpu_sample(server_pid: int, database_url: str) -> Cpu:
    """CPU used so far by the gunicorn workers and by the bench database's local backends."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    backends: list[int] = []
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.connect() as conn:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            backends = list(conn.execute(text(query)).scalars())
        engine.dispose()
    # Every child of the master is a worker. Not by name: a venv at a long path gets a /bin/sh
    # trampoline instead of a shebang, and its processes are then named python, not gunicorn.
    return {"app": _cpu_seconds(workers), "db": _cpu_seconds(backends, "postgres")}


def cpu_used(before: Cpu, after: Cpu) -> dict[str, float]:
    return {k: sum(s - before[k].get(pid, 0.0) for pid, s in v.items()) for k, v in after.items()}


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every process), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def gunicorn(args: argparse.Namespace, env: dict[str, str], log: Path) -> Iterator[tuple[int, int]]:
    """Serve the app on --port (else a free one) until the block ends, then stop it: (port, pid)."""
    port: int = args.port
    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    # The shipped settings (request-line and header limits among them); -b and -w win over it.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{port}",
    ]
    command += ["-w", str(args.workers), "-k", args.worker_class]
    command += ["--threads", str(args.threads)] if args.worker_class == "gthread" else []
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, "o2o:create_app()"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


PLAIN_EVERY = 5.0  # seconds between progress lines when the output is not a terminal


@contextmanager
def progress(console: Console, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, else a plain line every PLAIN_EVERY seconds (and at
    the end); yields the function that advances it by so many checkouts."""
    if console.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    console.print(f"{label} ...")
    started = last = time.monotonic()
    done = 0

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if done >= total or now - last >= PLAIN_EVERY:
            last = now
            console.print(f"  {done}/{total} ready after {now - started:.0f} s")

    yield advance


def measure(spec: dict[str, Any], server_pid: int, db_url: str, workdir: Path) -> dict[str, Any]:
    """One phase, run by a separate load process (`python -m bench.load`), and its CPU cost."""
    path = workdir / f"{spec['scenario']}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    command, timeout = [sys.executable, "-m", "bench.load", str(path)], spec["duration"] + 180
    server_before = cpu_sample(server_pid, db_url)
    load_before, busy_before = _children_cpu(), _busy_seconds()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    busy, load_cpu = _busy_seconds() - busy_before, _children_cpu() - load_before
    if done.returncode != 0:
        raise RuntimeError(f"load process failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    used = cpu_used(server_before, cpu_sample(server_pid, db_url))
    others = max(0.0, busy - load_cpu - sum(used.values()))
    result["cpu_s"] = {**used, "load_generator": load_cpu, "other_processes": others}
    result["cpu_s"] = {k: round(v, 2) for k, v in result["cpu_s"].items()}
    # CPU per request moves much less than req/s when other processes share the machine.
    count = result["checkouts"] or sum(k["requests"] for k in result["kinds"].values())
    per = {k: round(1000 * v / count, 2) if count and v else None for k, v in used.items()}
    result["server_cpu_ms"] = {**per, "per": "paid checkout" if result["checkouts"] else "request"}
    return result


def report(results: dict[str, Any], console: Console, output: Path) -> None:
    """The table: each request's rate, latency and errors, against the healthz ceiling."""
    healthz, hot = results["healthz"], results["checkout"]
    ceiling = healthz["kinds"].get("healthz", {}).get("rps") or 0.0
    table = Table(title=f"{results['server']}, {results['connections']} connections")
    for column in ("request", "req/s", "p50 ms", "p99 ms", "errors", "vs healthz"):
        table.add_column(column, justify="left" if column == "request" else "right")
    rows = [("GET /healthz", healthz["kinds"].get("healthz"))]
    rows += [("POST /orders", hot["kinds"].get("orders"))]
    rows += [("POST /orders/{id}/payments", hot["kinds"].get("payments"))]
    for label, k in rows:
        if k is None:
            table.add_row(label, *["-"] * 5)
            continue
        ratio = f"{k['rps'] / ceiling:.1%}" if ceiling else "-"
        errors = f"[red]{k['errors']}[/]" if k["errors"] else "0"
        table.add_row(label, f"{k['rps']:.1f}", f"{k['p50_ms']}", f"{k['p99_ms']}", errors, ratio)
    console.print(table)
    console.print(
        f"Paid checkouts: {hot['checkouts']} in {hot['elapsed_s']} s = "
        f"[bold]{hot['checkouts_per_s']} checkouts/s[/] ({hot['unused_work']} prepared unused)"
    )
    if hot["unused_work"] == 0 and hot["elapsed_s"] < results["duration_s"]:
        console.print(
            "[yellow]The prepared checkouts ran out before the duration: raise --checkouts."
        )
    cpu, hz, used = hot["server_cpu_ms"], healthz["server_cpu_ms"], hot["cpu_s"]
    pg = f", PostgreSQL {cpu['db']} ms" if cpu["db"] else ""
    console.print(
        f"Server CPU per paid checkout: app {cpu['app']} ms{pg} (per healthz: app {hz['app']} ms)."
        f" CPU seconds in the checkout phase: app {used['app']}, PostgreSQL {used['db']}, "
        f"load generator {used['load_generator']} ({hot['event_loop']} event loop), "
        f"other processes {used['other_processes']}."
    )
    m = results["machine"]
    console.print(f"Database: {results['database']}")
    console.print(f"Machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}")
    for name, phase in (("healthz", healthz), ("checkout", hot)):
        share = phase["cpu_s"]["other_processes"] / ((m["nproc"] or 1) * phase["elapsed_s"])
        if share > 0.1:
            console.print(
                f"[yellow]Other processes took {share:.0%} of the machine during the {name} phase:"
                " its req/s are pessimistic (CPU per request is less affected)."
            )
    for phase in (healthz, hot):
        for name, kind in phase["kinds"].items():
            for sample in kind["error_samples"]:
                console.print(f"{name} error: {sample}", markup=False, style="red")
    console.print(
        f"Time: preparation {results['prepare_s']} s ({results['prepared_checkouts']} checkouts,"
        f" {results['prepare_method']}; schema {results['migrate_s']} s before it),"
        f" [bold]total {results['total_s']} s[/]"
    )
    shown = output.resolve()
    console.print(f"Written to {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")


def _terminate(signum: int, _frame: Any) -> NoReturn:
    sys.exit(128 + signum)  # unwinds the finally blocks: gunicorn stops, the database is dropped


def _running_for() -> float:
    """Seconds since this process started (Linux /proc; else 0), so the total has the imports."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter() - _running_for()
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    console = Console(soft_wrap=True)
    if not port_is_free(args.port):
        console.print(f"[red]Port {args.port} on 127.0.0.1 is in use: pick another --port.")
        return 2
    server = f"gunicorn -w {args.workers} -k {args.worker_class}"
    server += f" --threads {args.threads}" if args.worker_class == "gthread" else ""
    results: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds")}
    results.update(machine=machine(), server=server, connections=args.connections)
    results.update(duration_s=args.duration, idempotency_keys=args.idempotency_keys)
    admin_key, secret = f"bench-admin-{secrets.token_urlsafe(16)}", secrets.token_urlsafe(32)
    with bench_database(args.sqlite) as database, tempfile.TemporaryDirectory() as tmp:
        console.print(f"Database: {database.description}")
        results["database"] = database.description
        config: dict[str, Any] = {"O2O_ADMIN_KEY": admin_key, "O2O_SECRET_KEY": secret}
        # The production path, limiter included, with limits no bench run reaches (one clerk
        # places every order); --no-rate-limits measures without the limiter.
        config["O2O_RATE_LIMITS"] = "" if args.no_rate_limits else BENCH_RATE_LIMITS
        config.update(O2O_QR_TOKEN_TTL=TTL, O2O_PAYMENT_CODE_TTL=TTL)
        env = {k: v for k, v in os.environ.items() if k != "O2O_SANDBOX"}
        env.update({k: str(v) for k, v in config.items()}, O2O_DATABASE_URL=database.url)
        migrate_started = time.perf_counter()
        migrate(env)
        migrate_s = time.perf_counter() - migrate_started
        app_config = {**config, "SQLALCHEMY_DATABASE_URI": database.url, "O2O_SANDBOX": False}
        # One checkout per shopper: a shopper holds one unused payment code at a time (a new
        # code retires the last), and every code is minted before the run starts.
        label = f"Preparing {args.checkouts} checkouts ({args.prepare})"
        with progress(console, label, args.checkouts) as advance:
            prep = prepare(app_config, args.checkouts, args.prepare, args.prep_processes, advance)
        console.print(
            f"Prepared {len(prep.pairs)} checkouts ({prep.method}) in {prep.seconds:.1f} s"
            f" (schema, o2o db upgrade: {migrate_s:.1f} s)"
        )
        results.update(prepared_checkouts=len(prep.pairs), prepare_method=prep.method)
        results.update(prepare_s=round(prep.seconds, 1), migrate_s=round(migrate_s, 1))
        spec: dict[str, Any] = {
            "host": "127.0.0.1",
            "connections": args.connections,
            "duration": args.duration,
        }
        with gunicorn(args, env, Path(tmp) / "gunicorn.log") as (port, pid):
            console.print(f"{server} on port {port}, {args.connections} connections:")
            console.print(f"  GET /healthz for {args.duration:g} s ...")
            phase = {**spec, "port": port, "scenario": "healthz"}
            results["healthz"] = measure(phase, pid, database.url, Path(tmp))
            console.print(f"  POST /orders, then its payment, for up to {args.duration:g} s ...")
            phase = {**spec, "port": port, "scenario": "checkout", "clerk_key": prep.clerk_key}
            phase.update(amount=AMOUNT, pairs=prep.pairs, idempotency_keys=args.idempotency_keys)
            results["checkout"] = measure(phase, pid, database.url, Path(tmp))
    results["total_s"] = round(time.perf_counter() - started, 1)
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report(results, console, output)
    kinds = [*results["healthz"]["kinds"].values(), *results["checkout"]["kinds"].values()]
    errors, paid = sum(k["errors"] for k in kinds), results["checkout"]["checkouts"]
    if errors or not paid:
        console.print(f"[red]FAILED: {errors} request errors, {paid} checkouts paid.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
