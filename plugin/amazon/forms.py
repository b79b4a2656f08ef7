"""The forms of connecting Amazon Business: the store picker (which store to connect, or
reconnect), renaming a connection, and the legal entities an organisation takes. The rules and
their messages stay where they live: ``plugin.amazon.regions.store_for`` for stores,
``rename_connection`` for names, ``plugin.amazon.legal_entities`` for legal entities.
"""

from __future__ import annotations

from wtforms import SelectMultipleField
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


class LegalEntitiesForm(PostForm):
    """``entity`` (repeated): the legal entities the organisation takes, among ``choices``
    (the account's legal entities, set by the view)."""

    entity = SelectMultipleField(choices=[], validate_choice=True)

    def __init__(self, names: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.entity.choices = [(name, name) for name in names]
