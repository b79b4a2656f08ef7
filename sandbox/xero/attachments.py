"""Attachments (raw file bodies, at most 10 per document, 10 MB each) and History notes."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from flask import Response
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero.api import API_PREFIX
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import invalid_body
from sandbox.xero.api import not_found
from sandbox.xero.api import request_elements
from sandbox.xero.api import respond
from sandbox.xero.seed import PROVIDER_NAME
from sandbox.xero.world import Attachment
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import problem
from sandbox.xero.xerojson import validation_exception

bp = api_blueprint("xero_attachments", __name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_NOTE_LENGTH = 2500
BAD_FILENAME_CHARACTERS = set('<>:"/\\|?*+')
ATTACHABLE = "any(BankTransactions,Invoices,CreditNotes,Contacts)"
WITH_HISTORY = "any(BankTransactions,Invoices,CreditNotes,Payments,Contacts)"


def _record(tenant: Tenant, endpoint: str, record_id: str) -> dict[str, Any] | None:
    if endpoint == "Contacts":
        return tenant.contacts.get(record_id.lower())
    return tenant.document(endpoint, record_id)


def _attachment_json(endpoint: str, record_id: str, attachment: Attachment) -> dict[str, Any]:
    base = str(current_sandbox().config["SANDBOX_BASE_URL"])
    name = quote(attachment.file_name)
    shown: dict[str, Any] = {
        "AttachmentID": attachment.attachment_id,
        "FileName": attachment.file_name,
        "Url": f"{base}{API_PREFIX}/{endpoint}/{record_id}/Attachments/{name}",
        "MimeType": attachment.mime_type,
        "ContentLength": len(attachment.content),
    }
    if attachment.include_online:
        shown["IncludeOnline"] = True
    return shown


def _rejected(message: str) -> Response:
    return error_response(validation_exception([{"ValidationErrors": [{"Message": message}]}]))


@bp.route(
    f"/<{ATTACHABLE}:endpoint>/<record_id>/Attachments/<path:file_name>", methods=["PUT", "POST"]
)
def upload(endpoint: str, record_id: str, file_name: str) -> Any:
    """Attach the raw request body as ``file_name`` (POST replaces a file of the same name)."""
    if (request.content_length or 0) > MAX_ATTACHMENT_BYTES:
        return error_response(
            problem(413, "Request Entity Too Large", "Attachments can be at most 10 MB."), 413
        )
    content = request.get_data()
    if len(content) > MAX_ATTACHMENT_BYTES:
        return error_response(
            problem(413, "Request Entity Too Large", "Attachments can be at most 10 MB."), 413
        )
    if BAD_FILENAME_CHARACTERS & set(file_name) or not file_name.strip():
        return _rejected(f"The file name '{file_name}' contains characters that are not allowed.")
    if not content:
        return _rejected("The attachment is empty.")
    mime_type = (request.mimetype or "").strip()
    if not mime_type or mime_type == "application/octet-stream":
        mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        record = _record(tenant, endpoint, record_id)
        if record is None:
            return not_found()
        record_id = record_id.lower()
        attached = tenant.attachments.setdefault(record_id, [])
        same_name = next((a for a in attached if a.file_name == file_name), None)
        if same_name is None and len(attached) >= MAX_ATTACHMENTS:
            return _rejected(
                f"A maximum of {MAX_ATTACHMENTS} attachments can be added to a document."
            )
        attachment = Attachment(
            attachment_id=same_name.attachment_id if same_name else xero_world().new_id(),
            file_name=file_name,
            mime_type=mime_type,
            content=content,
            include_online=request.args.get("IncludeOnline", "").lower() == "true",
        )
        if same_name:
            attached[attached.index(same_name)] = attachment
        else:
            attached.append(attachment)
        if endpoint == "Contacts":
            record["HasAttachments"] = True
        now = sandbox.clock.now()
        books.add_history(
            tenant,
            record_id,
            "Attached a file",
            f"Attached the file {file_name} through the Xero API using {PROVIDER_NAME}",
            now,
        )
        return respond("Attachments", [_attachment_json(endpoint, record_id, attachment)])


@bp.get(f"/<{ATTACHABLE}:endpoint>/<record_id>/Attachments")
def list_attachments(endpoint: str, record_id: str) -> Any:
    """The files attached to a document."""
    with current_sandbox().lock:
        tenant = current_tenant()
        if _record(tenant, endpoint, record_id) is None:
            return not_found()
        attached = tenant.attachments.get(record_id.lower(), [])
        return respond(
            "Attachments", [_attachment_json(endpoint, record_id.lower(), a) for a in attached]
        )


@bp.get(f"/<{ATTACHABLE}:endpoint>/<record_id>/Attachments/<path:name_or_id>")
def download(endpoint: str, record_id: str, name_or_id: str) -> Any:
    """One attached file's bytes, by file name or AttachmentID."""
    with current_sandbox().lock:
        tenant = current_tenant()
        attached = tenant.attachments.get(record_id.lower(), [])
        found = next((a for a in attached if name_or_id in (a.file_name, a.attachment_id)), None)
        if found is None:
            return not_found()
        return Response(found.content, mimetype=found.mime_type)


@bp.get(f"/<{WITH_HISTORY}:endpoint>/<record_id>/History")
def history(endpoint: str, record_id: str) -> Any:
    """The history and notes of a document or contact."""
    with current_sandbox().lock:
        tenant = current_tenant()
        if _record(tenant, endpoint, record_id) is None:
            return not_found()
        records = [dict(r) for r in tenant.history.get(record_id.lower(), [])]
        return respond("HistoryRecords", records)


@bp.put(f"/<{WITH_HISTORY}:endpoint>/<record_id>/History")
def add_note(endpoint: str, record_id: str) -> Any:
    """Add notes (``{"HistoryRecords": [{"Details": "..."}]}``)."""
    elements = request_elements("HistoryRecords")
    if elements is None:
        return invalid_body()
    failed = []
    for element in elements:
        details = str(element.get("Details") or "").strip()
        if not details:
            failed.append(
                {**element, "ValidationErrors": [{"Message": "Details must be specified."}]}
            )
        elif len(details) > MAX_NOTE_LENGTH:
            failed.append(
                {
                    **element,
                    "ValidationErrors": [
                        {"Message": f"Details must be {MAX_NOTE_LENGTH} characters or fewer."}
                    ],
                }
            )
    if failed:
        return error_response(validation_exception(failed))
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        if _record(tenant, endpoint, record_id) is None:
            return not_found()
        now = sandbox.clock.now()
        added = []
        for element in elements:
            record = books.add_history(
                tenant, record_id.lower(), "Note", str(element["Details"]).strip(), now
            )
            added.append({**record, "ValidationErrors": []})
        return respond("HistoryRecords", added)
