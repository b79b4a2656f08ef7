"""The forms of connecting Amazon Business: the store picker (which store to connect, or
reconnect) and renaming a connection. The rules and their messages stay where they live:
``plugin.amazon.regions.store_for`` for stores, ``rename_connection`` for names.
"""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import ValidationError

from plugin.amazon.regions import Store
from plugin.amazon.regions import UnknownStore
from plugin.amazon.regions import store_for
from plugin.infra.forms import PostForm


class StoreForm(PostForm):
    """``store``: the country code of the store to connect (``UK``, ``US``, ...)."""

    store = StringField()
    chosen: Store | None = None

    def validate_store(self, field: StringField) -> None:
        """A store this app can connect."""
        try:
            self.chosen = store_for(field.data or "")
        except UnknownStore as exc:
            raise ValidationError(str(exc)) from None


class RenameConnectionForm(PostForm):
    """``name``: the user's name for a store connection (checked by ``rename_connection``)."""

    name = StringField()
