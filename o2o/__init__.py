"""O2O coupon-and-payment service: create_app() builds the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from o2o.resources import MIGRATIONS_DIR

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["MIGRATIONS_DIR", "create_app"]


def create_app(
    config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app: configuration, extensions, clock, blueprints, probes, docs pages, rate
    limits, security headers, error envelope, CLI, delivery after requests (tests)."""
    # Imported here, so that importing o2o (e.g. o2o.testing.plugin) stays cheap and no module
    # below the factory reaches back up through the package.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from o2o import api, cli, clock, web, worker
    from o2o.api import docs_ui, headers, health, limits
    from o2o.api.errors import register_error_handlers
    from o2o.config import build_config
    from o2o.extensions import db, migrate
    from o2o.services.sandbox import DatabaseClock
    from o2o.wechatpay import gateway as wechatpay_gateway

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.url_map.merge_slashes = False  # `/coupons//events` is a JSON 404, not a 308 HTML page
    app.config.update(build_config(app.instance_path, config, environ))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # UTF-8: 西湖店, not \u897f…
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    if app.config["O2O_SANDBOX"]:
        clock.install(app, DatabaseClock())  # every worker reads the one clock row
    if proxies := app.config["O2O_PROXY_FIX"]:
        # Behind that many trusted proxies: the client's address (which rate limits count by),
        # scheme, host and prefix come from their X-Forwarded-* headers. URLs never use them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    api.register(app)
    health.register(app)
    app.register_blueprint(docs_ui.blp)  # / and /api/v1/docs: outside the spec
    web.register(app)  # /till and /wallet: pages that are clients of /api/v1
    wechatpay_gateway.install(app)  # /v3/: WeChat Pay APIv3 as its SDK speaks it
    limits.install(app)  # after every view it wraps, and after the probes it leaves alone
    headers.register(app)
    register_error_handlers(app)
    cli.register(app)
    worker.install(app)  # delivers after each request only with O2O_DELIVER_AFTER_REQUEST
    return app
