"""The forms of the review page: approving (all, a selection, or one), changing one purchase's
coding, and the posting mode. Flask-WTF forms, their CSRF token checked with every POST."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from wtforms import Field
from wtforms import FieldList
from wtforms import Form
from wtforms import FormField
from wtforms import StringField

from plugin.infra.forms import MAX_ID
from plugin.infra.forms import FlagField
from plugin.infra.forms import IdField
from plugin.infra.forms import PostForm
from plugin.infra.forms import QueryForm
from plugin.manage.review_coding import LineChoice

BAD_ENTRY = "That is not a purchase waiting for your review."
BAD_MOMENT = "That page is too old to approve from. Reload it."
MAX_SELECTED = 200


class IdsField(Field):
    """Several row ids sent under one name (checkboxes); ``data`` is the list."""

    data: list[int]

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Every value sent, each a usable id."""
        ids = []
        for value in valuelist[:MAX_SELECTED]:
            text = str(value)
            if not text.isdigit() or int(text) > MAX_ID:
                raise ValueError(BAD_ENTRY)
            ids.append(int(text))
        self.data = ids

    def _value(self) -> str:
        return ""


class MomentField(Field):
    """A moment the page was rendered for (ISO 8601, UTC); ``data`` None when none was sent."""

    data: datetime | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read an ISO moment; anything else is refused."""
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(BAD_MOMENT) from None
        self.data = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class ReviewListForm(QueryForm):
    """``?before=``: where the page of the review list starts."""

    before = IdField(invalid="That page of the review list does not exist.")


class ApproveForm(PostForm):
    """Approve one purchase (``only``), the ticked ones (``entry_ids``), or all that were in
    review when the page was shown (``all=1`` with ``as_of``)."""

    entry_ids = IdsField()
    only = IdField(invalid=BAD_ENTRY)
    all = FlagField()
    as_of = MomentField()

    def chosen(self) -> list[int] | None:
        """The ids to approve, or None for "all" (as of ``as_of``)."""
        if self.only.data is not None:
            return [self.only.data]
        if self.all.data:
            return None
        return list(self.entry_ids.data or [])


class LineForm(Form):
    """One Amazon line item's coding: account, tax type, and one option per category."""

    account = StringField()
    tax_type = StringField()
    tracking = FieldList(StringField())


class CodingForm(PostForm):
    """One purchase's coding: ``categories-<k>`` name the tracking categories the page showed,
    ``lines-<i>-tracking-<k>`` the option chosen in each (empty: none); ``action`` is ``save``
    or ``approve`` (save, then approve)."""

    categories = FieldList(StringField())
    lines = FieldList(FormField(LineForm))
    action = StringField()

    def choices(self) -> list[LineChoice]:
        """What was chosen, line by line."""
        names = [str(name or "") for name in self.categories.data]
        found = []
        for line in self.lines.data:
            options = list(line.get("tracking") or [])
            tracking = tuple(
                (name, str(option).strip())
                for name, option in zip(names, options, strict=False)
                if name and str(option or "").strip()
            )
            found.append(
                LineChoice(
                    str(line.get("account") or "").strip() or None,
                    str(line.get("tax_type") or "").strip() or None,
                    tracking,
                )
            )
        return found

    @property
    def then_approve(self) -> bool:
        """Approve the purchase once its coding is saved."""
        return self.action.data == "approve"


class ModeForm(PostForm):
    """Review before posting on (``review=1``) or off."""

    review = FlagField()
