"""The Contacts endpoints: search, read, create, update and archive."""

from __future__ import annotations

import copy
from typing import Any

from flask import Response
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import invalid_body
from sandbox.xero.api import not_found
from sandbox.xero.api import paginate
from sandbox.xero.api import request_elements
from sandbox.xero.api import respond
from sandbox.xero.api import summarize_errors
from sandbox.xero.reference import query_error
from sandbox.xero.where import WhereError
from sandbox.xero.where import compile_where
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import validation_exception

bp = api_blueprint("xero_contacts", __name__)

WRITABLE_FIELDS = (
    "ContactNumber",
    "AccountNumber",
    "FirstName",
    "LastName",
    "EmailAddress",
    "TaxNumber",
    "AccountsPayableTaxType",
    "PurchasesDefaultAccountCode",
    "DefaultCurrency",
    "Website",
)
SEARCHED_FIELDS = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")


@bp.get("/Contacts")
def list_contacts() -> Any:
    """Contacts by ``where``, ``IDs``, ``searchTerm``; archived ones only with includeArchived."""
    where = request.args.get("where", "")
    try:
        predicate = compile_where(where)
    except WhereError as exc:
        return query_error(str(exc))
    include_archived = request.args.get("includeArchived", "").lower() == "true"
    ids = {i.strip().lower() for i in request.args.get("IDs", "").split(",") if i.strip()}
    term = request.args.get("searchTerm", "").strip().lower()
    with current_sandbox().lock:
        tenant = current_tenant()
        found = [
            copy.deepcopy(c)
            for c in sorted(tenant.contacts.values(), key=lambda c: c["Name"].lower())
            if predicate(c)
            and (include_archived or c["ContactStatus"] == "ACTIVE" or "ContactStatus" in where)
            and (not ids or c["ContactID"] in ids)
            and (not term or any(term in str(c.get(f, "")).lower() for f in SEARCHED_FIELDS))
        ]
    page, extra = paginate(found)
    return respond("Contacts", page, **extra)


def _find(tenant: Tenant, id_or_number: str) -> dict[str, Any] | None:
    contact = tenant.contacts.get(id_or_number.lower())
    if contact is None:
        contact = next(
            (c for c in tenant.contacts.values() if c.get("ContactNumber") == id_or_number), None
        )
    return contact


@bp.get("/Contacts/<contact_id>")
def get_contact(contact_id: str) -> Any:
    """One contact by ContactID or ContactNumber (archived and merged ones too)."""
    with current_sandbox().lock:
        contact = _find(current_tenant(), contact_id)
        if contact is None:
            return not_found()
        return respond("Contacts", [copy.deepcopy(contact)])


def _name_taken(tenant: Tenant, name: str, except_id: str | None = None) -> bool:
    return any(
        c["Name"].lower() == name.lower()
        and c["ContactStatus"] == "ACTIVE"
        and c["ContactID"] != except_id
        for c in tenant.contacts.values()
    )


def _check_contact(
    tenant: Tenant, element: dict[str, Any], existing: dict[str, Any] | None
) -> list[str]:
    errors = []
    name = str(element.get("Name", existing["Name"] if existing else "")).strip()
    status = element.get("ContactStatus")
    if not name:
        errors.append("The contact name must be specified.")
    elif _name_taken(tenant, name, existing["ContactID"] if existing else None) and (
        status != "ARCHIVED"
    ):
        errors.append(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    if status is not None and status not in ("ACTIVE", "ARCHIVED"):
        errors.append(f"ContactStatus '{status}' is not valid. Use ACTIVE or ARCHIVED.")
    return errors


def _apply(contact: dict[str, Any], element: dict[str, Any]) -> None:
    if element.get("Name"):
        contact["Name"] = str(element["Name"]).strip()
    if element.get("ContactStatus") in ("ACTIVE", "ARCHIVED"):
        contact["ContactStatus"] = element["ContactStatus"]
    for key in WRITABLE_FIELDS:
        if key in element:
            contact[key] = element[key]


def _write(elements: list[dict[str, Any]], allow_update: bool) -> Response:
    sandbox = current_sandbox()
    summarize = summarize_errors()
    with sandbox.lock:
        world = xero_world()
        tenant = current_tenant()
        now = sandbox.clock.now()
        checked = []
        for element in elements:
            existing = None
            if element.get("ContactID"):
                existing = tenant.contacts.get(str(element["ContactID"]).lower())
                if existing is None or not allow_update:
                    checked.append(
                        (
                            element,
                            None,
                            ["The contact with the specified ContactID does not exist."],
                        )
                    )
                    continue
            checked.append((element, existing, _check_contact(tenant, element, existing)))
        if summarize and any(errors for _, _, errors in checked):
            return error_response(
                validation_exception(
                    [
                        {**element, "ValidationErrors": [{"Message": m} for m in errors]}
                        for element, _, errors in checked
                        if errors
                    ]
                )
            )
        results = []
        for element, existing, errors in checked:
            if errors:
                results.append(
                    {
                        **element,
                        "StatusAttributeString": "ERROR",
                        "ValidationErrors": [{"Message": m} for m in errors],
                        "HasValidationErrors": True,
                    }
                )
                continue
            if existing is None:
                fields = {k: element[k] for k in WRITABLE_FIELDS if k in element}
                contact = books.store_contact(
                    tenant,
                    {"ContactID": world.new_id(), "Name": str(element["Name"]).strip(), **fields},
                    now,
                )
            else:
                contact = existing
                _apply(contact, element)
                books.touch("Contacts", contact, now)
                books.add_history(tenant, contact["ContactID"], "Updated", "Contact updated", now)
            results.append({**copy.deepcopy(contact), "StatusAttributeString": "OK"})
        return respond("Contacts", results)


@bp.put("/Contacts")
def create_contacts() -> Any:
    """Create contacts (names must be unique among active contacts)."""
    elements = request_elements("Contacts")
    if elements is None:
        return invalid_body()
    return _write(elements, allow_update=False)


@bp.post("/Contacts")
def upsert_contacts() -> Any:
    """Create contacts, or update those given with a ContactID."""
    elements = request_elements("Contacts")
    if elements is None:
        return invalid_body()
    return _write(elements, allow_update=True)


@bp.post("/Contacts/<contact_id>")
def update_contact(contact_id: str) -> Any:
    """Update one contact (rename, archive with ``ContactStatus: ARCHIVED``, ...)."""
    elements = request_elements("Contacts")
    if not elements:
        return invalid_body()
    with current_sandbox().lock:
        if current_tenant().contacts.get(contact_id.lower()) is None:
            return not_found()
    return _write([{**elements[0], "ContactID": contact_id.lower()}], allow_update=True)
