"""Fixtures for the posting end-to-end tests: a live sandbox and a connected organisation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.models import Organisation
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import THAMES


@pytest.fixture
def sandbox_config():
    """The shared live ``sandbox``, with 60 Amazon transactions."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 60}


@pytest.fixture
def pipeline(app_config, make_app, sandbox, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app_config.update(sandbox_settings(sandbox.url))
    app = make_app(app_config)
    client = xero_install(app, sandbox.url, "alice@example.com", [THAMES])
    with session_scope(app) as db:
        org = db.exec(select(Organisation)).one()
    answer = amazon_connect(client, org.id, "UK", "buyer-admin-uk@example.com")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return app, client, org
