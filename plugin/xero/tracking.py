"""Tracking options written to Xero: ``PUT TrackingCategories/{id}/Options`` through the one
client (its limits, retries and error mapping). Reading categories is the client's own
``tracking_categories``.

Creating an option needs the ``accounting.settings`` scope (reading needs only
``accounting.settings.read``): an organisation consented without it is refused by Xero, the
error is logged by the caller and the purchases stay held with their reason.
"""

from __future__ import annotations

from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.models import XeroTrackingOption
from plugin.xero.models import parse_items
from plugin.xero.wire import json_or_none

__all__ = ["create_tracking_option"]


def create_tracking_option(client: XeroClient, category_id: str, name: str) -> XeroTrackingOption:
    """Create the option ``name`` in the category ``category_id``; return it as Xero wrote it."""
    response = client.request(
        "PUT", f"TrackingCategories/{category_id}/Options", json_body={"Name": name}
    )
    found = parse_items(XeroTrackingOption, json_or_none(response), "Options")
    if not found:
        raise XeroMalformedResponse("Xero returned no option for PUT TrackingCategories/Options")
    return found[0]
