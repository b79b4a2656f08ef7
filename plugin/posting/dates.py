"""Calendar dates in the organisation's own time zone.

Xero's document dates, lock dates, due dates and payment dates are calendar dates of the
organisation. ``GET /Organisation`` names the zone Windows-style, in capitals without spaces
(``GMTSTANDARDTIME``, ``EASTERNSTANDARDTIME``); the CLDR Windows-zone table shipped by
``tzlocal`` (``tzlocal.windows_tz``) turns it into an IANA zone for the standard library's
``zoneinfo``. Amazon's timestamps are UTC instants; ``calendar_date`` gives the org's date.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import tzinfo
from functools import cache
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz


def _squashed(name: str) -> str:
    """``"GMT Standard Time"`` and ``"GMTSTANDARDTIME"`` both become ``"GMTSTANDARDTIME"``."""
    return re.sub(r"[^0-9A-Z+-]", "", name.upper())


@cache
def _windows_table() -> dict[str, str]:
    return {_squashed(windows): iana for windows, iana in win_tz.items()}


def xero_zone(name: str | None) -> tzinfo | None:
    """The zone Xero's ``Organisation.Timezone`` names, or ``None`` when it names none we know.

    Accepts Xero's squashed Windows names, Windows names as Microsoft writes them, and IANA
    names (``Europe/London``) as they are.
    """
    if not name or not name.strip():
        return None
    iana = _windows_table().get(_squashed(name))
    for candidate in (iana, name.strip()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return None


def calendar_date(moment: datetime, zone: tzinfo | None) -> date:
    """The calendar date of ``moment`` in ``zone`` (a naive moment is taken as UTC).

    Without a zone the date is the UTC date, which is what Xero would show for a UTC org.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or UTC).date()


def today_in(zone: tzinfo | None, now: datetime | None = None) -> date:
    """Today's date in ``zone`` (``now`` defaults to the current UTC instant)."""
    return calendar_date(now or datetime.now(UTC), zone)
