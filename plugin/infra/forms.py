"""What every area's forms share: the GET-form base (no CSRF token), the bare confirmation form,
the id and on/off fields, and answering 400 with a form's first problem.

CSRF stays with ``CSRFProtect`` (``plugin.security``), which checks every POST before a view
runs; a POST form here checks the token again only when that has not happened.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol
from typing import TypeVar

from flask import abort
from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from wtforms import Field

MAX_ID = 2**31 - 1
"""The largest id the tables hold: ids are ``INTEGER``, 32-bit on PostgreSQL (a larger value in
a query is refused by the database there, so it is refused here first, on every backend)."""


class _Validates(Protocol):
    def validate(self, extra_validators: Any = None) -> bool: ...


FormT = TypeVar("FormT", bound=_Validates)


class QueryForm(FlaskForm):
    """A GET form, such as a list's filters: read from the query string, no CSRF token."""

    class Meta:
        csrf = False

    def __init__(self, formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(formdata=request.args if formdata is None else formdata, **kwargs)


class PostForm(FlaskForm):
    """A POST form: read from the form body (and its files), never from a JSON body, which no
    page sends (Flask-WTF on its own would parse one)."""

    def __init__(self, formdata: Any = None, **kwargs: Any) -> None:
        if formdata is None:
            formdata = CombinedMultiDict((request.files, request.form))
        super().__init__(formdata=formdata, **kwargs)


class ConfirmForm(PostForm):
    """A button that posts nothing but its CSRF token (disconnect, posted by hand, ...)."""


class IdField(Field):
    """A row id sent in a URL or a hidden input; ``data`` is the id, or None.

    Text that is no number at all (``abc``, ``-5``, nothing) is no id and gives None, as the pages
    always read it; digits that make no usable id (too large for the database, or digits
    ``int`` cannot read such as ``²``) are refused with ``invalid``.
    """

    data: int | None

    def __init__(self, label: str | None = None, *, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the first value sent (see the class docstring)."""
        text = str(valuelist[0]) if valuelist else ""
        self.data = None
        if not text.isdigit():
            return
        try:
            value = int(text)
        except ValueError:
            raise ValueError(self.invalid) from None
        if value > MAX_ID:
            raise ValueError(self.invalid)
        self.data = value

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class FlagField(Field):
    """An on/off switch posted as a hidden ``1`` (on); anything else, or nothing, is off."""

    data: bool | None  # None when nothing at all was posted

    def process_formdata(self, valuelist: list[Any]) -> None:
        """On only for exactly ``1``."""
        self.data = bool(valuelist) and valuelist[0] == "1"

    def _value(self) -> str:
        return "1" if self.data else "0"


def first_error(form: Any) -> str:
    """The first problem of a validated form, in the order of its fields."""
    for field in form:
        if field.errors:
            return str(field.errors[0])
    for message in getattr(form, "form_errors", ()):
        return str(message)
    return "The form is not filled in right."


def valid_or_400(form: FormT) -> FormT:
    """Validate ``form``; answer 400 with its first problem when it is not valid."""
    if not form.validate():
        abort(400, description=first_error(form))
    return form
