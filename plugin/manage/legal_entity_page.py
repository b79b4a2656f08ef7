"""The Legal entities section (set-up review and Manage Integrations, issue 16 point 3): which
legal entities of the Amazon Business account this organisation takes, and saving a choice.

Shown when there is a choice to make or to see: the account has several legal entities, or one
this organisation does not take. An account with one legal entity, taken by its one
organisation at its first import, shows nothing (no step for the common case).

Taking goes through ``plugin.amazon.legal_entities.take`` (the database decides when two
organisations ask at once); releasing holds the organisation's work lock, so no import or
posting run of it is part-way through deciding with the old choice. Either way, held purchases
are checked again (``recheck_after_change``: queued once set-up is finished).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flask import Flask
from sqlmodel import Session

from plugin.amazon.legal_entities import EntityRow
from plugin.amazon.legal_entities import EntityTaken
from plugin.amazon.legal_entities import release
from plugin.amazon.legal_entities import rows_for
from plugin.amazon.legal_entities import take
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import get_redis
from plugin.mapping.sections import recheck_after_change
from plugin.models import Organisation
from plugin.posting.legal_entities import display_name

BUSY = (
    "An import or posting run of this organisation is going: try again to stop taking "
    "{name} when it has finished (in a minute or so)."
)


@dataclass
class Outcome:
    """What saving a choice did: messages for the member."""

    taken: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """One sentence of what changed."""
        parts = []
        if self.taken:
            parts.append("now takes " + ", ".join(display_name(n) for n in self.taken))
        if self.released:
            parts.append("no longer takes " + ", ".join(display_name(n) for n in self.released))
        if not parts:
            return "" if self.refused else "Nothing to change."
        return "Saved: this organisation " + " and ".join(parts) + "."


def shown(rows: list[EntityRow]) -> bool:
    """Whether the section has something to show."""
    return len(rows) > 1 or any(not row.taken_here for row in rows)


def section_context(session: Session, org: Organisation, user_id: int) -> dict[str, object]:
    """What the section's template needs."""
    rows = rows_for(session, int(org.id or 0), user_id)
    return {
        "org": org,
        "entity_rows": rows,
        "entities_shown": shown(rows),
        "untaken": [row for row in rows if row.untaken],
    }


def save_choice(
    app: Flask, session: Session, org: Organisation, chosen: set[str], actor: str
) -> Outcome:
    """Take the chosen legal entities and release the others this organisation takes."""
    org_id = int(org.id or 0)
    outcome = Outcome()
    for row in rows_for(session, org_id, 0):
        if row.name in chosen and not row.taken_here:
            try:
                if take(session, org_id, row.name, actor):
                    outcome.taken.append(row.name)
            except EntityTaken as refused:
                outcome.refused.append(refused.message)
        elif row.name not in chosen and row.taken_here:
            try:
                with org_lock(get_redis(app), org_id, f"legal-entities:{actor}", lock_seconds(app)):
                    if release(session, org_id, row.name, actor):
                        outcome.released.append(row.name)
            except AlreadyRunning:
                outcome.refused.append(BUSY.format(name=display_name(row.name)))
    if outcome.taken or outcome.released:
        recheck_after_change(session, org)
    return outcome
