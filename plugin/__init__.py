"""Amazon Business for Xero: the Flask app factory.

``create_app(config)`` reads settings from the environment (see ``plugin.config``), attaches the
database, Redis + RQ, login, CSRF, HTMX and security headers, registers the blueprints and the
``flask`` commands. The only module-level app is in ``wsgi.py``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` (used by tests) overrides settings from the environment."""
    from flask import Flask

    from plugin import cli
    from plugin import db
    from plugin import security
    from plugin.auth import login as users
    from plugin.config import ROOT
    from plugin.config import UnsafeSettings
    from plugin.config import load_settings
    from plugin.config import settings_problems
    from plugin.infra import error_reporting
    from plugin.infra import errors
    from plugin.infra import log_context
    from plugin.infra import metrics
    from plugin.infra import queues
    from plugin.infra.htmx import htmx
    from plugin.infra.redis_server import resolve_redis_url

    settings = load_settings()
    settings.update(config or {})
    problems = settings_problems(settings)
    if problems:
        raise UnsafeSettings(problems)
    instance_path = Path(settings.get("INSTANCE_PATH") or ROOT / "instance")
    instance_path.mkdir(parents=True, exist_ok=True)

    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings)
    app.config.setdefault("JOB_TIMEOUT", 30 * 60)
    app.config.setdefault("REQUIRE_CURRENT_SCHEMA", True)
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("MAX_CONTENT_LENGTH") or 2 * 1024 * 1024
    _configure_logging(app)
    metrics.configure(instance_path / "prometheus")
    error_reporting.init_app(app)

    app.config["SECRET_KEY"] = security.resolve_secret_key(app.config, instance_path)
    security.init_app(app)
    db.init_app(app)
    if app.config["REQUIRE_CURRENT_SCHEMA"]:
        _check_schema(app)
    app.config["REDIS_URL"] = resolve_redis_url(app.config.get("REDIS_URL"), instance_path)
    queues.init_app(app)
    users.init_app(app)
    htmx.init_app(app)
    errors.init_app(app)
    log_context.init_app(app)

    from plugin.views import amazon
    from plugin.views import entries
    from plugin.views import health
    from plugin.views import legal_entities
    from plugin.views import main
    from plugin.views import manage
    from plugin.views import manage_signal
    from plugin.views import mapping
    from plugin.views import metrics as metrics_views
    from plugin.views import onboarding
    from plugin.views import outbox
    from plugin.views import remaps
    from plugin.views import review
    from plugin.views import rollbacks
    from plugin.views import template_helpers
    from plugin.views import tie_out
    from plugin.views import webhooks
    from plugin.views import xero

    blueprints = (
        health.bp,
        template_helpers.bp,
        metrics_views.bp,
        main.bp,
        xero.bp,
        amazon.bp,
        amazon.callback_bp,
        onboarding.bp,
        mapping.bp,
        entries.bp,
        manage.bp,
        manage_signal.bp,
        legal_entities.bp,
        rollbacks.bp,
        remaps.bp,
        tie_out.bp,
        review.bp,
        outbox.bp,
        webhooks.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    cli.init_app(app)
    return app


def _check_schema(app: Flask) -> None:
    """Refuse to start against a schema that is behind (CLI commands decide for themselves)."""
    import click

    from plugin.db import SchemaBehindError
    from plugin.db import get_engine
    from plugin.db import require_current_schema

    try:
        require_current_schema(get_engine(app))
    except SchemaBehindError:
        if click.get_current_context(silent=True) is not None:
            # Loaded by the `flask` command: db-upgrade must still run; the other commands
            # check again themselves (plugin.cli.database.needs_current_schema).
            app.logger.warning("The database schema is behind; run: flask --app wsgi db-upgrade")
            return
        get_engine(app).dispose()
        raise


def _configure_logging(app: Flask) -> None:
    """Log to stderr at LOG_LEVEL (once per process), as text or JSON (LOG_FORMAT).

    Under the ``flask`` command the default is WARNING, so a command's own output (the preview's
    one-line errors, say) is not buried; long-running commands (worker, cron) raise it to INFO.
    """
    import click

    from plugin.infra import log_context

    context = click.get_current_context(silent=True)
    quiet_command = context is not None and context.info_name != "run"  # `flask run` serves
    name = os.environ.get("LOG_LEVEL") or (
        "WARNING" if quiet_command else str(app.config.get("LOG_LEVEL") or "INFO")
    )
    name = name.upper()
    level = getattr(logging, name, logging.INFO)
    root = logging.getLogger()
    if not root.handlers or any(getattr(h, "_abx_handler", False) for h in root.handlers):
        # One stderr handler of ours: each line with its request/job/organisation ids and never
        # a token (plugin/infra/log_context.py), as JSON when LOG_FORMAT=json.
        log_context.root_handler(str(app.config.get("LOG_FORMAT") or "text"), level)
    logging.getLogger("plugin").setLevel(level)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # The OAuth libraries log whole token responses and request bodies (refresh tokens, client
    # secrets) at DEBUG: keep them at INFO or above whatever LOG_LEVEL says.
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(max(level, logging.INFO))
