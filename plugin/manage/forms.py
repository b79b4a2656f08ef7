"""The forms of Manage Integrations: the entries filter (a GET form), retrying entries, sync on
or off, the digest email on or off, and the wording of the manual import's date range (the form
itself is ``plugin.onboarding.forms.DateRangeForm``, shared with the wizard).

Filter values the list does not know are read as the default, as the page always did; only a
cursor or entry id that no database could hold is refused (400).
"""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import ValidationError

from plugin.infra.forms import FlagField
from plugin.infra.forms import IdField
from plugin.infra.forms import PostForm
from plugin.infra.forms import QueryForm
from plugin.manage.entries import ATTENTION
from plugin.manage.entries import STATE_FILTERS
from plugin.manage.entries import EntryFilter
from plugin.manage.tie_out import valid_month
from plugin.onboarding.forms import RangeWording

REASON_LENGTH = 2000  # a reason code, or a cause (``held_groups.Cause.param``: code and key)
BAD_CURSOR = "That page of entries does not exist. Go back to the newest entries."
BAD_ENTRY = "That is not an entry that can be retried."
NOTHING_TO_RETRY = "Choose an entry or a reason to retry."

MANUAL_IMPORT_WORDING = RangeWording(
    missing="Choose both a start date and an end date.",
    malformed="Those are not dates: choose both in the calendar.",
    together=True,
)


def _state(value: Any) -> str:
    """A state filter the list knows; anything else is the default (held and failed)."""
    state = str(value or ATTENTION)
    return state if state in STATE_FILTERS else ATTENTION


def _reason_code(value: Any) -> str | None:
    """A reason code or cause to filter by (trimmed, ``REASON_LENGTH`` at most), or None."""
    return str(value or "").strip()[:REASON_LENGTH] or None


def _stripped(value: Any) -> str | None:
    return str(value or "").strip() or None


def _month(value: Any) -> str | None:
    """A month ``YYYY-MM`` (or "undated"); anything else is no month filter."""
    return valid_month(str(value or ""))


def _method(value: Any) -> str | None:
    """A payment method key (255 characters at most), or None."""
    return str(value or "").strip()[:255] or None


def _finder(value: Any) -> str | None:
    """Part of a purchase order number or a buyer's name (trimmed, 100 characters at most)."""
    return str(value or "").strip()[:100] or None


class EntryFilterForm(QueryForm):
    """``?state=&reason=&po=&buyer=&month=&method=&before=``: which entries the list shows,
    and from where (``month`` in the organisation's time zone: ``entry_filter(timezone)``)."""

    state = StringField(filters=[_state])
    reason = StringField(filters=[_reason_code])
    po = StringField(filters=[_finder])
    buyer = StringField(filters=[_finder])
    month = StringField(filters=[_month])
    method = StringField(filters=[_method])
    before = IdField(invalid=BAD_CURSOR)

    def entry_filter(self, timezone: str = "") -> EntryFilter:
        """The filter the form asks for (months in the organisation's ``timezone``)."""
        return EntryFilter(
            state=self.state.data or ATTENTION,
            reason_code=self.reason.data,
            before=self.before.data,
            purchase_order=self.po.data,
            buyer=self.buyer.data,
            month=self.month.data,
            method=self.method.data,
            timezone=timezone,
        )


class RetryForm(PostForm):
    """Retry one entry (``entry_id``) or every entry of a reason code (``reason``); ``state``
    and ``reason_filter`` are the list's filter, kept for the list that comes back."""

    entry_id = IdField(invalid=BAD_ENTRY)
    reason = StringField(filters=[_stripped])
    state = StringField(filters=[_state])
    reason_filter = StringField(filters=[_reason_code])

    def validate_entry_id(self, field: IdField) -> None:
        """An entry or a reason: one of the two."""
        if field.data is None and self.reason.data is None and not field.errors:
            raise ValidationError(NOTHING_TO_RETRY)

    def entry_ids(self) -> list[int] | None:
        """The one entry to retry, or None to retry by reason."""
        return None if self.entry_id.data is None else [self.entry_id.data]

    def reason_code(self) -> str | None:
        """The reason code to retry, unless one entry was chosen."""
        return self.reason.data if self.entry_id.data is None else None

    def entry_filter(self) -> EntryFilter:
        """The list's filter, as the page showed it."""
        return EntryFilter(state=self.state.data or ATTENTION, reason_code=self.reason_filter.data)


class SyncEnabledForm(PostForm):
    """Scheduled syncing on (``enabled=1``) or off."""

    enabled = FlagField()


class NotifyForm(PostForm):
    """The signed-in member's daily digest on (``notify=1``) or off."""

    notify = FlagField()
