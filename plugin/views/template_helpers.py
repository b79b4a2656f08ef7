"""Template helpers every page may use (registered app-wide by this small blueprint):
``background_paused()`` for the banner, the ``when`` and ``hhmm`` time filters, and
``month_words`` and ``tie_money`` for the tie-out report; ``picked_day``: a date picker's value
said back as every page writes dates ("8 Oct 2026")."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import current_app

from plugin.infra.background import background_available
from plugin.manage.entry_names import day_text
from plugin.manage.tie_out import month_label
from plugin.posting.amounts import CENT

bp = Blueprint("template_helpers", __name__)


@bp.app_context_processor
def _background() -> dict[str, Any]:
    """``background_paused()`` for the banner (evaluated only where a template asks)."""
    return {"background_paused": lambda: not background_available(current_app)}


@bp.app_template_filter("when")
def _when(moment: datetime | None) -> str:
    """A time as "23 Nov 2026, 14:32 UTC" (or "never")."""
    return moment.strftime("%d %b %Y, %H:%M UTC").lstrip("0") if moment else "never"


@bp.app_template_global("month_words")
def _month_words(month: str) -> str:
    """``"2026-03"`` as "Mar 2026" (the tie-out report's months)."""
    return month_label(month)


@bp.app_template_filter("tie_money")
def _tie_money(amount: Decimal) -> str:
    """An amount to the cent with thousands separators: "-1,234.50"."""
    return f"{amount.quantize(CENT):,.2f}"


@bp.app_template_filter("hhmm")
def _hhmm(moment: datetime | None) -> str:
    """A time as "14:32"."""
    return moment.strftime("%H:%M") if moment else ""


@bp.app_template_filter("picked_day")
def _picked_day(value: str | None) -> str:
    """A date input's value (always YYYY-MM-DD, whatever the browser shows) as "8 Oct 2026",
    so the page says the chosen date in its own words beside a picker that follows the
    browser's locale (``static/js/forms.js`` keeps it up to date); "" for no date."""
    try:
        return day_text(date.fromisoformat(str(value or "")))
    except ValueError:
        return ""
