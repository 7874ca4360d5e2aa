"""Configuration: defaults, overridden by O2O_* environment variables, then by explicit config."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_INT_SETTINGS = {
    "O2O_QR_TOKEN_TTL": 300,
    "O2O_ORDER_TTL": 900,
    "O2O_PAYMENT_CODE_TTL": 60,
    "O2O_MOCK_PAYING_SECONDS": 5,
    "O2O_IDEMPOTENCY_TTL": 24 * 3600,
}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path) -> str:
    """A development secret kept in the instance folder, so tokens survive restarts."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


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
    }
    for name, default in _INT_SETTINGS.items():
        config[name] = int(env.get(name, default))
    config.update(overrides)
    if "O2O_SECRET_KEY" not in config:
        config["O2O_SECRET_KEY"] = env.get("O2O_SECRET_KEY") or _instance_secret(instance)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        instance.mkdir(parents=True, exist_ok=True)
    return config
