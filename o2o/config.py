"""Configuration: defaults, overridden by O2O_* environment variables, then by explicit config."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_INT_SETTINGS = {
    "O2O_QR_TOKEN_TTL": 300,
    "O2O_ORDER_TTL": 900,
    "O2O_PAYMENT_CODE_TTL": 60,
    "O2O_MOCK_PAYING_SECONDS": 5,
    "O2O_IDEMPOTENCY_TTL": 24 * 3600,
    # How long a looked-up API key is trusted without a query: a revoked key stops working
    # within this many seconds on every worker. 0 looks every key up on every request.
    "O2O_AUTH_CACHE_SECONDS": 10,
    # How long a rotated-out API key keeps working beside its successor.
    "O2O_KEY_OVERLAP_SECONDS": 0,
    # POST /scans/image: the largest photo accepted (bytes, else 413), and its most pixels
    # (a decompression bomb is refused before it is decompressed).
    "O2O_SCAN_IMAGE_MAX_BYTES": 8 * 1024 * 1024,
    "O2O_SCAN_IMAGE_MAX_PIXELS": 50_000_000,
}

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
DEFAULT_TIMEZONE = "Asia/Shanghai"  # the seed's stores are in Hangzhou

# Webhooks: the waits between a failed attempt and the next (service time), then `failed`.
DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"
# WeChat Pay notifications to a merchant's notify_url: WeChat's own schedule (24 h 4 min).
DEFAULT_NOTIFY_SCHEDULE = "15s,15s,30s,3m,10m,20m,30m,30m,30m,60m,3h,3h,3h,6h,6h"
# WeChat Pay merchant-coupon (商家券) notifications: retried every minute, eleven times.
DEFAULT_COUPON_NOTIFY_SCHEDULE = ",".join(["60s"] * 11)
# The settings holding a delivery channel's schedule: a comma list of waits, or a tuple of seconds.
SCHEDULES = (
    "O2O_WEBHOOK_RETRY_SCHEDULE",
    "O2O_WECHATPAY_NOTIFY_SCHEDULE",
    "O2O_WECHATPAY_COUPON_NOTIFY_SCHEDULE",
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path) -> str:
    """A development secret kept in the instance folder, so tokens survive restarts.

    Written whole and private: a temporary file opened 0600 is renamed into place, so no
    reader ever sees a half-written secret and no other user can read it; of two processes
    starting at once, the first rename wins and both read the winner's secret.
    """
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        temporary = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def _worker_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The delivery loop's settings (o2o.worker), refused at startup when they cannot work."""
    settings = {
        # `o2o worker` and the loop of `o2o run`: the pause after a tick that found nothing
        # due, and how often lapsed reservations, coupons and mock payments get recorded.
        "O2O_WORKER_POLL_SECONDS": float(env.get("O2O_WORKER_POLL_SECONDS") or 1),
        "O2O_WORKER_SWEEP_SECONDS": float(env.get("O2O_WORKER_SWEEP_SECONDS") or 5),
        # `o2o run` delivers webhooks from a thread of its own unless this is 0 (production
        # serves with gunicorn, which never starts it, and runs `o2o worker` processes).
        "O2O_EMBEDDED_WORKER": _truthy(env.get("O2O_EMBEDDED_WORKER", "1")),
        # Tests in process: deliver right after each request (and so each clock move).
        "O2O_DELIVER_AFTER_REQUEST": _truthy(env.get("O2O_DELIVER_AFTER_REQUEST")),
    }
    for name in ("O2O_WORKER_POLL_SECONDS", "O2O_WORKER_SWEEP_SECONDS"):
        if not 0 < settings[name] < 86400:
            raise ValueError(f"{name} ({settings[name]} s) must be more than 0 and under a day")
    return settings


def build_config(
    instance_path: str,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the Flask config mapping for one app instance.

    Settings come from `environ` (None: the process environment); pass a mapping, even an
    empty one, to build an app that ignores whatever O2O_* variables the caller exported.
    """
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    overrides = dict(overrides or {})
    config: dict[str, Any] = {
        "O2O_SANDBOX": _truthy(env.get("O2O_SANDBOX")),
        "O2O_ADMIN_KEY": env.get("O2O_ADMIN_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": env.get("O2O_DATABASE_URL")
        or f"sqlite:///{instance / 'o2o.sqlite3'}",
        "API_TITLE": "O2O coupon-and-payment service",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # no request of this API comes near a megabyte
        # Every absolute URL the service hands out starts here; the Host header never counts.
        "O2O_PUBLIC_URL": (env.get("O2O_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
        # Behind a trusted reverse proxy: how many proxies' X-Forwarded-* headers to believe.
        "O2O_PROXY_FIX": int(env.get("O2O_PROXY_FIX") or 0),
        # flask-limiter: None means the defaults (off in sandbox mode), "" turns limits off.
        "O2O_RATE_LIMITS": env.get("O2O_RATE_LIMITS"),
        "O2O_RATE_LIMIT_STORAGE": env.get("O2O_RATE_LIMIT_STORAGE") or "memory://",
        # Test-only: `<point>:<marker file>` ends the process at that point once (o2o.faults).
        "O2O_TEST_CRASH_AT": env.get("O2O_TEST_CRASH_AT") or None,
        # No log line ever carries a bound value: a payment code, a key hash.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
    }
    for name, default in _INT_SETTINGS.items():
        config[name] = int(env.get(name, default))
    config.update(_webhook_settings(env), O2O_TIMEZONE=_timezone(env))
    config.update(_worker_settings(env))
    config.update(overrides)
    _check_webhook_settings(config)
    if "O2O_SECRET_KEY" not in config:
        config["O2O_SECRET_KEY"] = env.get("O2O_SECRET_KEY") or _instance_secret(instance)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        instance.mkdir(parents=True, exist_ok=True)
    return config


def parse_retry_schedule(text: str, name: str = SCHEDULES[0]) -> tuple[int, ...]:
    """`5s,5m,30m,2h` → (5, 300, 1800, 7200) seconds; ValueError naming the setting `name`
    and the bad item."""
    waits = []
    for item in text.split(","):
        item = item.strip().lower()
        number, unit = item[:-1], item[-1:]
        if unit not in _UNITS or not number.isdigit() or int(number) == 0:
            raise ValueError(
                f"{name}: {item!r} is not a wait such as 5s, 5m, 2h or 1d "
                f"(a comma list, e.g. {DEFAULT_RETRY_SCHEDULE})"
            )
        waits.append(int(number) * _UNITS[unit])
    return tuple(waits)


def _webhook_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        # A 2xx within this many seconds acknowledges a delivery.
        "O2O_WEBHOOK_TIMEOUT": float(env.get("O2O_WEBHOOK_TIMEOUT") or 10),
        # How long (real time) a claimed attempt belongs to its worker; longer than the timeout.
        "O2O_WEBHOOK_LEASE_SECONDS": float(env.get("O2O_WEBHOOK_LEASE_SECONDS") or 60),
        "O2O_WEBHOOK_RETRY_SCHEDULE": env.get("O2O_WEBHOOK_RETRY_SCHEDULE")
        or DEFAULT_RETRY_SCHEDULE,
        # The same engine delivers WeChat Pay notifications, on WeChat's schedule.
        "O2O_WECHATPAY_NOTIFY_SCHEDULE": env.get("O2O_WECHATPAY_NOTIFY_SCHEDULE")
        or DEFAULT_NOTIFY_SCHEDULE,
        "O2O_WECHATPAY_COUPON_NOTIFY_SCHEDULE": env.get("O2O_WECHATPAY_COUPON_NOTIFY_SCHEDULE")
        or DEFAULT_COUPON_NOTIFY_SCHEDULE,
        # Loopback, private and link-local receivers, outside sandbox mode too.
        "O2O_WEBHOOK_ALLOW_PRIVATE": _truthy(env.get("O2O_WEBHOOK_ALLOW_PRIVATE")),
        # After a secret rotation, how long (service time) the old secret still signs too.
        "O2O_WEBHOOK_ROTATION_OVERLAP_SECONDS": int(
            env.get("O2O_WEBHOOK_ROTATION_OVERLAP_SECONDS") or 24 * 3600
        ),
    }


def _timezone(env: Mapping[str, str]) -> str:
    """O2O_TIMEZONE, the stores' local time (which day a statement's `date` means); a name
    zoneinfo does not know stops the app from starting."""
    name = env.get("O2O_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"O2O_TIMEZONE: {name!r} is not a time zone name such as Asia/Shanghai"
        ) from error
    return name


def _check_webhook_settings(config: dict[str, Any]) -> None:
    """Parse the retry schedules and refuse settings that cannot work, at startup."""
    for name in SCHEDULES:
        if isinstance(config[name], str):
            config[name] = parse_retry_schedule(config[name], name)
    timeout, lease = config["O2O_WEBHOOK_TIMEOUT"], config["O2O_WEBHOOK_LEASE_SECONDS"]
    if not 0 < timeout < lease:
        raise ValueError(
            f"O2O_WEBHOOK_TIMEOUT ({timeout} s) must be positive and shorter than "
            f"O2O_WEBHOOK_LEASE_SECONDS ({lease} s): a lease must outlast the attempt it covers"
        )
