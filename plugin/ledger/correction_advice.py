"""What a bookkeeper should do about a correction this app did not make: plain words naming
both versions (the amount as posted, the amount Amazon now says) and the step in Xero; and
``review_note``, the one sentence the entries list and the entry page say about a purchase
Amazon changed after it was posted (what changed, and what happens or what to do)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import Protocol

HELD_CODES = ("changed_after_reconciled", "correction_held")
"""The reason codes of a purchase whose correction was held: its reason is the advice."""


class CorrectionLike(Protocol):
    @property
    def cause(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def endpoint(self) -> str | None: ...
    @property
    def before_payload(self) -> dict[str, Any] | None: ...
    @property
    def after_payload(self) -> dict[str, Any] | None: ...


def amount_text(payload: dict[str, Any] | None) -> str:
    """``GBP 43.18`` from a payload's ``amount`` (absolute: refunds come with either sign)."""
    money = (payload or {}).get("amount") or {}
    try:
        value = abs(Decimal(str(money.get("amount", "0"))))
    except ArithmeticError:
        value = Decimal(0)
    return f"{money.get('currencyCode', '')} {value:.2f}".strip()


def advice(correction: CorrectionLike, why: str, locked: bool = True) -> str:
    """Why the document was left as it is, and what to do in Xero (``locked``: reconciled or
    paid; else the app could not make the change for the reason ``why``)."""
    before, after = amount_text(correction.before_payload), amount_text(correction.after_payload)
    bill = correction.endpoint in ("Invoices", "CreditNotes")
    if str(correction.cause) == "rollback":
        return (
            f"Not rolled back. {why} The document stays in Xero and this purchase stays posted;"
            " correct it in Xero by hand if it was posted wrongly."
        )
    if str(correction.cause) == "remap":
        return (
            f"Not corrected to the new mapping. {why} The document stays as it was posted; "
            "change its accounts or tax in Xero by hand if they must change."
        )
    cancelled = str(correction.cause) == "amazon_cancelled"
    note = correction.endpoint == "CreditNotes"
    kind = "refund" if note or is_refund(correction.before_payload) else "charge"
    if not locked:
        what = (
            f"Amazon cancelled this {kind} of {before} after it was posted."
            if cancelled
            else f"Amazon changed this purchase from {before} to {after} after it was posted."
        )
        todo = (
            "Void or delete the document in Xero by hand."
            if cancelled
            else f"Correct the document in Xero by hand so that it shows {after}."
        )
        return f"{what} {why} This app did not change it. {todo}"
    if note:
        what = (
            f"Amazon cancelled this refund of {before} after it was posted."
            if cancelled
            else f"Amazon changed this refund from {before} to {after} after it was posted."
        )
        todo = (
            "In Xero, remove the credit note's allocation to the bill (or its refund payment), "
            + ("then void the credit note." if cancelled else f"change it to {after}, then ")
            + ("" if cancelled else "allocate it (or record the refund) again.")
        )
    elif cancelled:
        what = f"Amazon cancelled this {kind} of {before} after it was posted."
        if bill:
            todo = (
                "In Xero, remove the payment from the bill (or ask Amazon for the refund and "
                "record it as a credit note), then void the bill."
            )
        else:
            todo = (
                "Check the card statement: if the charge is not on it, un-reconcile the "
                "document in Xero (Remove & Redo) and delete it."
            )
    else:
        what = f"Amazon changed this purchase from {before} to {after} after it was posted."
        if bill:
            todo = (
                f"In Xero, record the difference against the paid bill: a credit note from "
                f"Amazon if it came to less, or a new bill if more, so the total is {after}."
            )
        else:
            todo = (
                f"In Xero, un-reconcile the document (Remove & Redo), change its amount to "
                f"{after} as on the card statement, and reconcile it again."
            )
    return f"{what} {why} This app did not change it. {todo}"


def is_refund(payload: dict[str, Any] | None) -> bool:
    """Whether Amazon's version is a refund (any type but a charge)."""
    kind = str((payload or {}).get("transactionType") or "CHARGE").upper()
    return kind != "CHARGE"


def review_note(
    entry_state: str,
    reason_code: str | None,
    reason: str | None,
    correction: CorrectionLike | None,
) -> str:
    """What to say about a purchase Amazon changed after it was posted (``needs_review``):
    the held correction's advice (both versions, the step in Xero); a change on its way (from
    what to what, made with the next sync unless the document is reconciled or paid by then);
    or, when this app cannot correct it (posted by hand), what to compare and correct."""
    if reason_code in HELD_CODES and reason:
        return reason
    if correction is not None and str(correction.state) in ("pending", "sent"):
        before = amount_text(correction.before_payload)
        after = amount_text(correction.after_payload)
        check = (
            "It is checked first: if it is reconciled or paid by then, it is left as it is and "
            "this says what to do."
        )
        if str(correction.cause) == "amazon_cancelled":
            gone = "voids" if correction.endpoint in ("Invoices", "CreditNotes") else "deletes"
            note = correction.endpoint == "CreditNotes" or is_refund(correction.before_payload)
            return (
                f"Amazon cancelled this {'refund' if note else 'charge'} of {before} after it "
                f"was posted. This app {gone} its Xero document with the next sync. {check}"
            )
        return (
            f"Amazon changed this purchase from {before} to {after} after it was posted. This "
            f"app updates its Xero document to {after} with the next sync. {check}"
        )
    if entry_state == "by_hand":
        return (
            "Amazon changed this purchase after you posted it in Xero by hand. Compare Amazon's "
            "new version on this purchase's page with your document in Xero, and correct the "
            "document by hand if they differ."
        )
    return (
        "Amazon changed this purchase after it was posted, and this app did not correct it. "
        "Compare Amazon's new version on this purchase's page with the document in Xero, and "
        "correct the document by hand if they differ."
    )
