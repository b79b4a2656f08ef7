"""The date range of an import: the wizard's history step and Manage Integrations' manual import
post the same two fields, ``start`` and ``end`` (YYYY-MM-DD), read by one form; each page words
its messages in its own way (``RangeWording``). Whether the range is allowed (90 days, not in
the future) is ``plugin.work.imports``'s to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from wtforms import Field
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput

from plugin.infra.forms import PostForm


@dataclass(frozen=True)
class RangeWording:
    """How a page words a refused date: ``{what}`` is "start" or "end", ``{text}`` what was
    typed (quoted, 20 characters at most). With ``together``, one message covers both dates and
    a missing date is reported before a malformed one."""

    missing: str
    malformed: str
    together: bool = False


HISTORY_WORDING = RangeWording(
    missing="Enter the {what} date.",
    malformed="The {what} date {text} is not a date: choose it in the calendar.",
)


class IsoDateField(Field):
    """A date typed as YYYY-MM-DD: ``text`` is what was typed (trimmed), ``data`` the date, or
    None when nothing or no date was typed (the form says which)."""

    widget = DateInput()
    data: date | None
    text: str = ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the first value sent, as ``date.fromisoformat`` does."""
        self.text = str(valuelist[0]).strip() if valuelist else ""
        try:
            self.data = date.fromisoformat(self.text) if self.text else None
        except ValueError:
            self.data = None

    def _value(self) -> str:
        return str(self.raw_data[0]) if self.raw_data else ""


class DateRangeForm(PostForm):
    """The start and end dates of an import."""

    start = IsoDateField("From")
    end = IsoDateField("To")

    def __init__(self, *args: Any, wording: RangeWording = HISTORY_WORDING, **kwargs: Any) -> None:
        self.wording = wording
        super().__init__(*args, **kwargs)

    def validate_start(self, field: IsoDateField) -> None:
        """The start date: there, and a date."""
        self._check(field, "start")

    def validate_end(self, field: IsoDateField) -> None:
        """The end date: there, and a date."""
        self._check(field, "end")

    def _check(self, field: IsoDateField, what: str) -> None:
        required = (self.start, self.end) if self.wording.together else (field,)
        if any(not date_field.text for date_field in required):
            raise StopValidation(self.wording.missing.format(what=what))
        if field.data is None:
            text = repr(field.text[:20])
            raise ValidationError(self.wording.malformed.format(what=what, text=text))

    def chosen(self) -> tuple[date, date]:
        """The (start, end) dates, once ``validate()`` has passed."""
        if self.start.data is None or self.end.data is None:
            raise ValueError("the date range was not validated")
        return self.start.data, self.end.data

    def entered(self) -> dict[str, str]:
        """What was typed, as it was typed, to show in the form again (fields not sent: absent)."""
        return {field.name: field._value() for field in (self.start, self.end) if field.raw_data}
