"""O2O coupon-and-payment service: create_app() builds the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify

from o2o import api, cli, errors
from o2o.config import build_config
from o2o.extensions import db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(
    config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app: configuration, extensions, blueprints, error envelope, CLI."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.update(build_config(app.instance_path, config, environ))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    api.register(app)
    errors.register_error_handlers(app)
    cli.register(app)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness: touches no table."""
        return jsonify(status="ok")

    return app
