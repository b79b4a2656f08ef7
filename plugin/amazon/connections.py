"""An organisation's Amazon Business store connections: list, look up, rename, mark for reconnect.

The default name is the store's display name ("Amazon Business UK"); names are 1-120
characters of the user's choosing, trimmed. A connection whose authorisation stopped working
is set to ``needs_reconnect`` with a sentence saying what to do (``reconnect_reason``).
"""

from __future__ import annotations

from sqlmodel import Session
from sqlmodel import select

from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import utcnow

MAX_NAME_LENGTH = 120


def connections_of(session: Session, org_id: int) -> list[AmazonConnection]:
    """The organisation's store connections, oldest first."""
    statement = (
        select(AmazonConnection)
        .where(AmazonConnection.organisation_id == org_id)
        .order_by(AmazonConnection.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def connection_of(session: Session, org_id: int, connection_id: int) -> AmazonConnection | None:
    """The organisation's connection ``connection_id``, or None (also for other orgs' ones)."""
    connection = session.get(AmazonConnection, connection_id)
    if connection is None or connection.organisation_id != org_id:
        return None
    return connection


class InvalidName(ValueError):
    """A connection name that cannot be used; the message says why."""


def rename_connection(session: Session, connection: AmazonConnection, name: str) -> None:
    """Give a connection the user's name for it (1-120 characters) and commit."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidName("Give the connection a name, for example 'Amazon Business UK'.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName(f"Keep the name to {MAX_NAME_LENGTH} characters or fewer.")
    connection.name = cleaned
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()


def mark_needs_reconnect(session: Session, connection: AmazonConnection, reason: str) -> None:
    """Set the connection to ``needs_reconnect`` with a reason the user can act on; commit."""
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = reason
    connection.access_token_encrypted = None
    connection.access_token_expires_at = None
    connection.updated_at = utcnow()
    session.add(connection)
    session.add(
        AuditEvent(
            organisation_id=connection.organisation_id,
            actor="amazon",
            action="amazon_needs_reconnect",
            detail={"store": connection.store, "reason": reason},
        )
    )
    session.commit()


def reconnect_reason(connection: AmazonConnection, why: str) -> str:
    """The sentence shown when a store must be connected again."""
    name = connection.name or f"Amazon Business {connection.store}"
    return (
        f"{name} must be connected again: {why} Connect it again as an Amazon Business "
        "administrator of every legal entity; nothing already imported is lost."
    )
