"""Template helpers every page may use (registered app-wide by this small blueprint):
``background_paused()`` for the banner, and the ``when`` and ``hhmm`` time filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import current_app

from plugin.infra.background import background_available

bp = Blueprint("template_helpers", __name__)


@bp.app_context_processor
def _background() -> dict[str, Any]:
    """``background_paused()`` for the banner (evaluated only where a template asks)."""
    return {"background_paused": lambda: not background_available(current_app)}


@bp.app_template_filter("when")
def _when(moment: datetime | None) -> str:
    """A time as "23 Nov 2026, 14:32 UTC" (or "never")."""
    return moment.strftime("%d %b %Y, %H:%M UTC").lstrip("0") if moment else "never"


@bp.app_template_filter("hhmm")
def _hhmm(moment: datetime | None) -> str:
    """A time as "14:32"."""
    return moment.strftime("%H:%M") if moment else ""
