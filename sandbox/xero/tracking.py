"""The TrackingCategories endpoints: read categories with their options, create and update
categories, create and update options (Xero's rules in ``tracking_rules``).

``GET /TrackingCategories`` leaves out ARCHIVED categories and options unless
``includeArchived=true``; DELETED ones are never shown. Writes answer Xero's 400
``ValidationException`` with the element and its ``ValidationErrors``.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Response
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import invalid_body
from sandbox.xero.api import not_found
from sandbox.xero.api import respond
from sandbox.xero.reference import filtered
from sandbox.xero.tracking_rules import category_by_id
from sandbox.xero.tracking_rules import category_write_errors
from sandbox.xero.tracking_rules import live_categories
from sandbox.xero.tracking_rules import option_by_id
from sandbox.xero.tracking_rules import option_write_errors
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import validation_exception

bp = api_blueprint("xero_tracking", __name__)


def _shown(category: dict[str, Any], include_archived: bool) -> dict[str, Any]:
    shown = copy.deepcopy(category)
    shown["Options"] = [
        o
        for o in shown["Options"]
        if o["Status"] == "ACTIVE" or (include_archived and o["Status"] == "ARCHIVED")
    ]
    return shown


def _include_archived() -> bool:
    return request.args.get("includeArchived", "").lower() == "true"


def _element() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        for key in ("TrackingCategories", "Options"):
            if isinstance(body.get(key), list) and body[key] and isinstance(body[key][0], dict):
                return dict(body[key][0])
        return body
    return None


def _refused(element: dict[str, Any], errors: list[str]) -> Response:
    return error_response(
        validation_exception(
            [{**element, "ValidationErrors": [{"Message": message} for message in errors]}]
        )
    )


@bp.get("/TrackingCategories")
def categories() -> Any:
    """Categories with their options (``where`` on Name, Status, ...)."""
    include = _include_archived()
    with current_sandbox().lock:
        wanted = [
            c for c in live_categories(current_tenant()) if include or c["Status"] == "ACTIVE"
        ]
        found = filtered(wanted)
    if isinstance(found, Response):
        return found
    return respond("TrackingCategories", [_shown(c, include) for c in found])


@bp.get("/TrackingCategories/<category_id>")
def category(category_id: str) -> Any:
    """One category by id (archived options included, as Xero does for a single read)."""
    with current_sandbox().lock:
        found = category_by_id(current_tenant(), category_id)
        if found is None:
            return not_found()
        return respond("TrackingCategories", [_shown(found, True)])


@bp.put("/TrackingCategories")
def create_category() -> Any:
    """Create a category: a unique name, and at most 2 ACTIVE per organisation."""
    element = _element()
    if element is None:
        return invalid_body()
    with current_sandbox().lock:
        tenant = current_tenant()
        errors = category_write_errors(tenant, element, None)
        if errors:
            return _refused(element, errors)
        created = {
            "TrackingCategoryID": xero_world().new_id(),
            "Name": str(element["Name"]).strip(),
            "Status": "ACTIVE",
            "Options": [],
        }
        tenant.tracking_categories.append(created)
        return respond("TrackingCategories", [copy.deepcopy(created)])


@bp.post("/TrackingCategories/<category_id>")
def update_category(category_id: str) -> Any:
    """Rename, archive (``Status: ARCHIVED``) or reactivate a category."""
    element = _element()
    if element is None:
        return invalid_body()
    with current_sandbox().lock:
        tenant = current_tenant()
        found = category_by_id(tenant, category_id)
        if found is None:
            return not_found()
        errors = category_write_errors(tenant, element, found)
        if errors:
            return _refused(element, errors)
        if "Name" in element:
            found["Name"] = str(element["Name"]).strip()
        found["Status"] = element.get("Status", found["Status"])
        return respond("TrackingCategories", [_shown(found, True)])


@bp.put("/TrackingCategories/<category_id>/Options")
def create_option(category_id: str) -> Any:
    """Create an option in a category (names unique within it)."""
    element = _element()
    if element is None:
        return invalid_body()
    with current_sandbox().lock:
        found = category_by_id(current_tenant(), category_id)
        if found is None:
            return not_found()
        errors = option_write_errors(found, element, None)
        if errors:
            return _refused(element, errors)
        option = {
            "TrackingOptionID": xero_world().new_id(),
            "Name": str(element["Name"]).strip(),
            "Status": "ACTIVE",
            "IsDeleted": False,
            "IsArchived": False,
            "IsActive": True,
        }
        found["Options"].append(option)
        return respond("Options", [copy.deepcopy(option)])


@bp.post("/TrackingCategories/<category_id>/Options/<option_id>")
def update_option(category_id: str, option_id: str) -> Any:
    """Rename an option, or archive (``Status: ARCHIVED``) or reactivate it."""
    element = _element()
    if element is None:
        return invalid_body()
    with current_sandbox().lock:
        found = category_by_id(current_tenant(), category_id)
        option = option_by_id(found, option_id) if found else None
        if found is None or option is None:
            return not_found()
        errors = option_write_errors(found, element, option)
        if errors:
            return _refused(element, errors)
        if "Name" in element:
            option["Name"] = str(element["Name"]).strip()
        status = element.get("Status", option["Status"])
        option.update(
            {
                "Status": status,
                "IsArchived": status == "ARCHIVED",
                "IsActive": status == "ACTIVE",
            }
        )
        return respond("Options", [copy.deepcopy(option)])
