"""Flashed messages shown next to the form they answer (a plain post, then a redirect back).

``flash_at(message, "success", "import")`` flashes with the category ``success@import``; a page
that shows the ``import`` place (``{% set message_places = [...] %}`` in the page template, and
``partials/_placed_messages.html`` by the form) shows it there, and the layout leaves it out of
the top of the page. A page that does not know the place shows it at the top, as any flash.
"""

from __future__ import annotations

from flask import flash


def flash_at(message: str, category: str, place: str) -> None:
    """Flash ``message`` for the form at ``place`` (``category``: success or error)."""
    flash(message, f"{category}@{place}")
