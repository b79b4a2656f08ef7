"""The "Amazon Business" supplier contact every posted document refers to (by ContactID only).

``ensure_contact`` adopts an existing active contact of that name, else creates it.
``check_contact`` re-reads it before posting (and on a CONTACT webhook) and reports a typed
``ContactProblem`` when it was renamed, archived, merged or deleted, so the UI can explain it and
``repair_contact`` can fix it in one click.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlmodel import Session

from plugin.models import Organisation
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroNotFound

CONTACT_NAME = "Amazon Business"


class ContactProblemKind(enum.StrEnum):
    RENAMED = "renamed"
    ARCHIVED = "archived"
    MERGED = "merged"
    DELETED = "deleted"
    MISSING = "missing"  # we never had one


@dataclass(frozen=True)
class ContactProblem:
    """Why posting must wait for the contact to be repaired, in words for the user."""

    kind: ContactProblemKind
    message: str
    merged_into: str | None = None


def ensure_contact(client: XeroClient, currency: str = "") -> str:
    """The ContactID of the active "Amazon Business" contact (adopted, or created)."""
    for contact in client.contacts_named(CONTACT_NAME):
        if contact.contact_status == "ACTIVE" and contact.contact_id:
            return contact.contact_id
    body: dict[str, str] = {"Name": CONTACT_NAME}
    if currency:
        body["DefaultCurrency"] = currency
    return client.create_contact(body).contact_id


def check_contact(client: XeroClient, contact_id: str | None) -> ContactProblem | None:
    """None when the contact is fit to post to, else what is wrong with it."""
    if not contact_id:
        return ContactProblem(
            ContactProblemKind.MISSING, "No Amazon Business contact is set up in Xero yet."
        )
    try:
        contact = client.get_contact(contact_id)
    except XeroNotFound:
        return ContactProblem(
            ContactProblemKind.DELETED,
            "The Amazon Business contact was deleted in Xero. Repair creates a new one.",
        )
    merged_into = contact.merged_to_contact_id
    if merged_into and merged_into != "00000000-0000-0000-0000-000000000000":
        return ContactProblem(
            ContactProblemKind.MERGED,
            "The Amazon Business contact was merged into another contact in Xero. Repair "
            "switches to the contact it was merged into.",
            merged_into=merged_into,
        )
    if contact.contact_status != "ACTIVE":
        return ContactProblem(
            ContactProblemKind.ARCHIVED,
            "The Amazon Business contact is archived in Xero, so Xero refuses new documents for "
            "it. Repair uses an active contact named Amazon Business (creating one if needed).",
        )
    if contact.name != CONTACT_NAME:
        return ContactProblem(
            ContactProblemKind.RENAMED,
            f'The Amazon Business contact was renamed to "{contact.name}" in Xero. '
            "Repair renames it back.",
        )
    return None


def repair_contact(client: XeroClient, contact_id: str | None, problem: ContactProblem) -> str:
    """Fix the problem and return the ContactID to use from now on."""
    if problem.kind == ContactProblemKind.MERGED and problem.merged_into:
        return problem.merged_into
    if problem.kind == ContactProblemKind.RENAMED and contact_id:
        client.update_contact(contact_id, {"ContactID": contact_id, "Name": CONTACT_NAME})
        return contact_id
    return ensure_contact(client)


def refresh_contact_status(
    session: Session, org: Organisation, client: XeroClient
) -> ContactProblem | None:
    """Set up the contact if the org has none, else check it; remember any problem on the org.

    Posting for the organisation waits while a problem is recorded (``contact_problem_of``).
    """
    problem: ContactProblem | None
    if not org.amazon_contact_id:
        org.amazon_contact_id = ensure_contact(client, org.base_currency)
        problem = None
    else:
        problem = check_contact(client, org.amazon_contact_id)
    settings = dict(org.settings or {})
    if problem is None:
        settings.pop("contact_problem", None)
    else:
        settings["contact_problem"] = {
            "kind": problem.kind.value,
            "message": problem.message,
            "merged_into": problem.merged_into,
        }
    org.settings = settings
    session.add(org)
    session.commit()
    return problem


def contact_problem_of(org: Organisation) -> ContactProblem | None:
    """The contact problem recorded on the organisation, if any."""
    stored = (org.settings or {}).get("contact_problem")
    if not stored:
        return None
    return ContactProblem(
        ContactProblemKind(stored["kind"]), stored["message"], stored.get("merged_into")
    )


def repair_and_record(session: Session, org: Organisation, client: XeroClient) -> str:
    """Repair the recorded problem (if any), store the contact to use, clear the problem."""
    problem = contact_problem_of(org) or check_contact(client, org.amazon_contact_id)
    if problem is not None:
        org.amazon_contact_id = repair_contact(client, org.amazon_contact_id, problem)
    settings = dict(org.settings or {})
    settings.pop("contact_problem", None)
    org.settings = settings
    session.add(org)
    session.commit()
    return str(org.amazon_contact_id)
