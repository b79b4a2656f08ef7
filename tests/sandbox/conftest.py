"""Fixtures for the sandbox's own tests: the app, a test client, its clock, a connected UK buyer.

The live threaded server is the shared ``sandbox`` fixture (``tests/conftest.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import create_sandbox_app
from tests.sandbox.amazon_helpers import all_transactions
from tests.sandbox.amazon_helpers import connect


@pytest.fixture
def sandbox_app():
    """A fresh sandbox app with its seeded state (small volumes for speed)."""
    return create_sandbox_app({"SANDBOX_AMAZON_TRANSACTIONS": 40})


@pytest.fixture
def sandbox_client(sandbox_app):
    """A Flask test client for the sandbox."""
    return sandbox_app.test_client()


@pytest.fixture
def clock(sandbox_app) -> Any:
    """The sandbox's own clock (here it stands in for the shared fake clock)."""
    return sandbox_app.extensions["sandbox"].clock


@pytest.fixture
def uk(sandbox_client) -> tuple[str, list[dict[str, Any]]]:
    """A UK access token and every UK transaction."""
    token = connect(sandbox_client, "UK")["access_token"]
    return token, all_transactions(sandbox_client, "UK", token)
