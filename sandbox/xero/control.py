"""Test and demo controls for the Xero sandbox (``/_sandbox/xero/...``): stats, orgs, documents,
changing a contact the way a Xero user would, and disconnecting from Xero's side."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero.world import DOCUMENT_ENDPOINTS
from sandbox.xero.world import Tenant
from sandbox.xero.world import XeroWorld
from sandbox.xero.world import xero_world

bp = Blueprint("xero_control", __name__, url_prefix="/_sandbox/xero")


def _bad_request(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


@bp.get("/stats")
def stats() -> Any:
    """Counters: token requests per grant type, API calls per tenant, 429s, replays, ..."""
    with current_sandbox().lock:
        return jsonify(xero_world().stats.as_json())


def org_summary(world: XeroWorld, tenant: Tenant) -> dict[str, Any]:
    """A tenant with its users and connections, for ``/_sandbox/xero/orgs``."""
    organisation = tenant.organisation or {}
    return {
        "tenantId": tenant.tenant_id,
        "tenantName": tenant.name,
        "tenantType": tenant.tenant_type,
        "countryCode": organisation.get("CountryCode"),
        "baseCurrency": organisation.get("BaseCurrency"),
        "users": [u.email for u in world.users.values() if tenant.tenant_id in u.tenant_ids],
        "connections": [
            {
                "id": c.connection_id,
                "user": world.users[c.user_id].email,
                "authEventId": c.auth_event_id,
            }
            for c in world.connections.values()
            if c.tenant_id == tenant.tenant_id
        ],
    }


@bp.get("/orgs")
def orgs() -> Any:
    """Every tenant with its id, type, users and current connections."""
    with current_sandbox().lock:
        world = xero_world()
        return jsonify({"orgs": [org_summary(world, t) for t in world.tenants.values()]})


def documents_of(tenant: Tenant) -> dict[str, Any]:
    """Everything the app created in a tenant, rendered, with attachment metadata."""
    body: dict[str, Any] = {"tenantId": tenant.tenant_id, "tenantName": tenant.name}
    for endpoint in DOCUMENT_ENDPOINTS:
        shown = []
        for document in tenant.documents[endpoint].values():
            item = books.render(tenant, endpoint, document)
            item_id = document[books.ID_KEYS[endpoint]]
            item["Attachments"] = [
                {
                    "AttachmentID": a.attachment_id,
                    "FileName": a.file_name,
                    "MimeType": a.mime_type,
                    "ContentLength": len(a.content),
                }
                for a in tenant.attachments.get(item_id, [])
            ]
            shown.append(item)
        body[endpoint] = shown
    body["Contacts"] = list(tenant.contacts.values())
    return body


@bp.get("/documents")
def documents() -> Any:
    """``?tenant=<tenantId>``: every BankTransaction, Invoice, CreditNote and Payment."""
    tenant_id = request.args.get("tenant", "").lower()
    with current_sandbox().lock:
        tenant = xero_world().tenants.get(tenant_id)
        if tenant is None or tenant.organisation is None:
            return _bad_request("unknown tenant", 404)
        return jsonify(documents_of(tenant))


@bp.post("/documents/by-hand")
def document_by_hand() -> Any:
    """Create a document as a Xero user would, not through the app: entered by hand, or made
    from a bank-feed statement line or a bank rule (what the bank-feed guard must notice).
    ``{"tenant": "<tenantId>", "endpoint": "BankTransactions", "document": {...}}``: the
    document as the Accounting API takes it (checked the same way); no ``Url`` is added."""
    from sandbox.xero.documents import CHECKERS
    from sandbox.xero.validation import BatchContext

    body = request.get_json(silent=True) or {}
    endpoint = str(body.get("endpoint", "BankTransactions"))
    element = body.get("document")
    if endpoint not in CHECKERS or not isinstance(element, dict):
        return _bad_request("give an endpoint (BankTransactions, Invoices) and a document")
    sandbox = current_sandbox()
    with sandbox.lock:
        world = xero_world()
        tenant = world.tenants.get(str(body.get("tenant", "")).lower())
        if tenant is None or tenant.organisation is None:
            return _bad_request("unknown tenant", 404)
        context = BatchContext(today=sandbox.clock.now().date(), new_id=world.new_id)
        draft = CHECKERS[endpoint](tenant, dict(element), context)
        if draft.errors:
            return _bad_request("; ".join(draft.errors), 400)
        stored = books.commit(tenant, endpoint, draft, sandbox.clock.now())
        return jsonify(books.render(tenant, endpoint, stored))


@bp.post("/contacts/<contact_id>")
def change_contact(contact_id: str) -> Any:
    """Change a contact as a Xero user would: ``{"name": ...}``, ``{"status": "ARCHIVED"}``,
    ``{"merged_into": "<ContactID>"}`` (archives it and sets MergedToContactID) or
    ``{"delete": true}``."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    with sandbox.lock:
        world = xero_world()
        tenant = world.tenant_for_contact(contact_id)
        if tenant is None:
            return _bad_request("unknown contact", 404)
        contact = tenant.contacts[contact_id.lower()]
        now = sandbox.clock.now()
        if body.get("delete"):
            del tenant.contacts[contact["ContactID"]]
            return jsonify({"deleted": contact["ContactID"]})
        if "merged_into" in body:
            target = tenant.contacts.get(str(body["merged_into"]).lower())
            if target is None:
                return _bad_request("unknown merge target", 404)
            contact["MergedToContactID"] = target["ContactID"]
            contact["ContactStatus"] = "ARCHIVED"
        if "status" in body:
            if body["status"] not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
                return _bad_request("status must be ACTIVE, ARCHIVED or GDPRREQUEST")
            contact["ContactStatus"] = body["status"]
        if body.get("name"):
            contact["Name"] = str(body["name"])
        books.touch("Contacts", contact, now)
        books.add_history(tenant, contact["ContactID"], "Updated", "Contact edited in Xero", now)
        return jsonify(contact)


@bp.route("/idempotency", methods=["GET", "POST"])
def idempotency() -> Any:
    """How the sandbox remembers ``Idempotency-Key``: ``{"seconds": 0}`` makes it forget every
    answer at once (a Xero whose memory is shorter than the app assumes); ``{"concurrent":
    "process" | "conflict"}`` says what a second request with a key still in flight gets."""
    body = request.get_json(silent=True) or {}
    with current_sandbox().lock:
        world = xero_world()
        if request.method == "POST":
            if "seconds" in body:
                try:
                    world.idempotency_seconds = max(float(body["seconds"]), 0.0)
                except (TypeError, ValueError):
                    return _bad_request("seconds must be a number")
                if world.idempotency_seconds == 0:
                    world.idempotency.clear()
            if "concurrent" in body:
                if body["concurrent"] not in ("process", "conflict"):
                    return _bad_request('concurrent must be "process" or "conflict"')
                world.concurrent_same_key = str(body["concurrent"])
        return jsonify(
            {"seconds": world.idempotency_seconds, "concurrent": world.concurrent_same_key}
        )


@bp.post("/disconnect")
def disconnect() -> Any:
    """Remove connections as if the user disconnected the app in Xero:
    ``{"tenant": "<tenantId>", "user": "<email>" (optional)}``."""
    body = request.get_json(silent=True) or {}
    tenant_id = str(body.get("tenant", "")).lower()
    email = str(body.get("user", "")).lower()
    with current_sandbox().lock:
        world = xero_world()
        removed = [
            c.connection_id
            for c in world.connections.values()
            if c.tenant_id == tenant_id and (not email or world.users[c.user_id].email == email)
        ]
        for connection_id in removed:
            del world.connections[connection_id]
        return jsonify({"removed": removed})
