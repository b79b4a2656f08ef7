"""``flask`` commands, one module per command group; ``init_app`` registers them all.

Run them as ``flask --app wsgi <command>``: ``database`` (db-upgrade, db-current), ``doctor``
(the configuration checked end to end), ``workers`` (worker, cron), ``organisations`` (import,
sync, status), ``mapping`` (preview, mapping-export, mapping-import).
"""

from __future__ import annotations

from flask import Flask

from plugin.cli.database import db_current
from plugin.cli.database import db_upgrade
from plugin.cli.doctor import doctor
from plugin.cli.mapping import mapping_export
from plugin.cli.mapping import mapping_import
from plugin.cli.mapping import preview
from plugin.cli.organisations import import_command
from plugin.cli.organisations import status_command
from plugin.cli.organisations import sync_command
from plugin.cli.workers import cron
from plugin.cli.workers import worker

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Register every command."""
    for command in (
        db_upgrade,
        db_current,
        doctor,
        worker,
        cron,
        import_command,
        sync_command,
        status_command,
        preview,
        mapping_export,
        mapping_import,
    ):
        app.cli.add_command(command)
