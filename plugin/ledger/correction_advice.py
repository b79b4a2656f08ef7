"""What a bookkeeper should do about a correction this app did not make: plain words naming
both versions (the amount as posted, the amount Amazon now says) and the step in Xero."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import Protocol


class CorrectionLike(Protocol):
    @property
    def cause(self) -> str: ...
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
    if not locked:
        what = (
            f"Amazon cancelled this charge of {before} after it was posted."
            if cancelled
            else f"Amazon changed this purchase from {before} to {after} after it was posted."
        )
        todo = (
            "Void or delete the document in Xero by hand."
            if cancelled
            else f"Correct the document in Xero by hand so that it shows {after}."
        )
        return f"{what} {why} This app did not change it. {todo}"
    if cancelled:
        what = f"Amazon cancelled this charge of {before} after it was posted."
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
