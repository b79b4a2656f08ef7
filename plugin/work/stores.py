"""The Amazon Business stores a run works through: a client per store connection, and the
ledger entries of a run grouped by the store they came from."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session

from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.settings import AmazonSettings
from plugin.db import session_scope
from plugin.infra.queues import get_redis
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import LedgerEntry
from plugin.security import token_cipher


def amazon_client(app: Flask, connection: AmazonConnection) -> AmazonBusinessClient:
    """The Amazon Business client of one store connection (use it as a context manager)."""
    return AmazonBusinessClient.for_connection(
        connection,
        AmazonSettings.from_config(app.config),
        lambda: session_scope(app),
        token_cipher(app),
        get_redis(app),
    )


def by_connection(entries: list[LedgerEntry]) -> dict[int, list[LedgerEntry]]:
    """The entries grouped by their store connection (entries without one are left out)."""
    groups: dict[int, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.amazon_connection_id is not None:
            groups.setdefault(entry.amazon_connection_id, []).append(entry)
    return groups


def active_connection(session: Session, connection_id: int) -> AmazonConnection | None:
    """The store connection, when it exists and is active (else there is nothing to ask)."""
    connection = session.get(AmazonConnection, connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    return connection
