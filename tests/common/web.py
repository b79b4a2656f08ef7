"""Helpers for talking to our app as a browser would: signing in, reading redirect URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit


def sign_in_on(app: Any, client: Any, user: Any) -> Any:
    """Sign ``user`` in on a test client, as flask-login's strong session protection expects."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token  # what SignedInUser.get_id() gives
        session["_fresh"] = True
        session["_id"] = identifier
    return client


def query_of(url: str) -> dict[str, str]:
    """A URL's query parameters (single values)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
