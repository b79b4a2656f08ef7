"""``GET /viewer``: an HTML page listing, per sandbox organisation, what the app created."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import render_template

from sandbox.core import current_sandbox
from sandbox.xero.control import documents_of
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import parse_ms_moment

bp = Blueprint("xero_viewer", __name__)

KIND_LABELS = {"SPEND": "Spend money", "RECEIVE": "Receive money", "ACCPAY": "Bill"}


def _day(value: str | None) -> str:
    moment = parse_ms_moment(value or "")
    return moment.date().isoformat() if moment else ""


def _rows(documents: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in documents["BankTransactions"]:
        rows.append(
            {
                "kind": KIND_LABELS.get(item["Type"], item["Type"]),
                "id": item["BankTransactionID"],
                "reference": item.get("Reference", ""),
                "account": item["BankAccount"].get("Name", ""),
                "payments": "",
                **_common(item),
            }
        )
    for item in documents["Invoices"]:
        paid = ", ".join(f"{p['Amount']:.2f}" for p in item.get("Payments", []))
        rows.append(
            {
                "kind": KIND_LABELS.get(item["Type"], item["Type"]),
                "id": item["InvoiceID"],
                "reference": item.get("InvoiceNumber", ""),
                "account": "",
                "payments": f"paid {paid}; due {item['AmountDue']:.2f}"
                if paid
                else f"due {item['AmountDue']:.2f}",
                **_common(item),
            }
        )
    for item in documents["CreditNotes"]:
        rows.append(
            {
                "kind": "Credit note",
                "id": item["CreditNoteID"],
                "reference": item.get("CreditNoteNumber") or item.get("Reference", ""),
                "account": "",
                "payments": f"remaining credit {item['RemainingCredit']:.2f}",
                **_common(item),
            }
        )
    return sorted(rows, key=lambda r: (r["date"], r["kind"]))


def _common(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": _day(item.get("Date")),
        "contact": item.get("Contact", {}).get("Name", ""),
        "currency": item.get("CurrencyCode", ""),
        "total": item.get("Total", 0.0),
        "status": item.get("Status", ""),
        "attachments": len(item.get("Attachments", [])),
    }


@bp.get("/viewer")
def viewer() -> Any:
    """Each organisation's documents and payments, newest state first."""
    with current_sandbox().lock:
        world = xero_world()
        orgs = []
        for tenant in world.tenants.values():
            if tenant.organisation is None:
                continue
            documents = documents_of(tenant)
            payments = [
                {
                    "date": _day(p["Date"]),
                    "amount": p["Amount"],
                    "account": p["Account"].get("Name", ""),
                    "against": p.get("Invoice", {}).get("InvoiceNumber")
                    or p.get("CreditNote", {}).get("CreditNoteNumber", ""),
                    "type": p["PaymentType"],
                    "reference": p.get("Reference", ""),
                }
                for p in documents["Payments"]
            ]
            orgs.append({"tenant": tenant, "rows": _rows(documents), "payments": payments})
    return render_template("xero/viewer.html", orgs=orgs)
