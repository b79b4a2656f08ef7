"""Fixtures for the mapping layer: the shared ``xero`` client, whose tokens must never be marked
for reconnect (the chart code never gives up on a connection)."""

from __future__ import annotations

import pytest

from tests.common.fakes import FakeXeroTokens


@pytest.fixture
def xero_tokens() -> FakeXeroTokens:
    """A token source that fails the test on any reconnect mark."""
    return FakeXeroTokens(reconnect_allowed=False)
