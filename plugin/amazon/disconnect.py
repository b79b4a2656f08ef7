"""Disconnecting one Amazon Business store from an organisation.

Amazon Business documents no endpoint that revokes an LWA refresh token (its specs list only
the token endpoint; ``specs/amazon-business-api.md`` §1.4), so disconnecting deletes the
store's tokens here: nothing can call Amazon for it again. The consent itself is withdrawn in
the Amazon Business account (the page says so). The ledger is kept: the store's purchases
stay, posted or not, and connecting the store again reuses the same connection row (one per
organisation and store), so a re-import recognises every purchase and posts none twice.
"""

from __future__ import annotations

from sqlmodel import Session

from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import utcnow

WITHDRAW_AT_AMAZON = (
    "To withdraw the app's access at Amazon too, remove it from the apps connected to your "
    "Amazon Business account."
)


def disconnect_store(session: Session, connection: AmazonConnection, actor: str) -> None:
    """Delete the store's tokens, mark it disconnected (with when and by whom) and commit."""
    now = utcnow()
    connection.refresh_token_encrypted = None
    connection.access_token_encrypted = None
    connection.access_token_expires_at = None
    connection.status = ConnectionStatus.DISCONNECTED
    connection.status_reason = (
        f"Disconnected on {now.day} {now:%b %Y}. Its purchases already imported are kept; "
        "connect it again to import new ones (nothing is imported or posted twice)."
    )
    connection.updated_at = now
    session.add(connection)
    session.add(
        AuditEvent(
            organisation_id=connection.organisation_id,
            actor=actor,
            action="amazon_disconnected",
            detail={"store": connection.store, "name": connection.name},
        )
    )
    session.commit()
