"""Control endpoints for tests and the demo (``/_sandbox/amazon/...``): accounts, added
transactions, revocation, report outcomes, invoice schedules and call statistics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from sandbox.amazon.auth import Consent
from sandbox.amazon.dates import iso_s
from sandbox.amazon.generator import generate_purchases_now
from sandbox.amazon.invoices import due_date
from sandbox.amazon.invoices import fate
from sandbox.amazon.invoices import schedule
from sandbox.amazon.invoices import status_at
from sandbox.amazon.profiles import Instrument
from sandbox.amazon.reports import ALTERNATE
from sandbox.amazon.reports import CONTENTS
from sandbox.amazon.reports import FINAL_STATUSES
from sandbox.amazon.stores import STORES
from sandbox.amazon.world import Account
from sandbox.amazon.world import AmazonWorld
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox

bp = Blueprint("amazon_control", __name__, url_prefix="/_sandbox/amazon")


def problem(message: str, status: int = 400) -> Response:
    """A control-endpoint error."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


def account_json(world: AmazonWorld, account: Account) -> dict[str, Any]:
    """An account as ``GET /_sandbox/amazon/accounts`` shows it."""
    profile = account.profile
    consents = [c for c in world.auth.consents.values() if c.account_key == account.key]
    return {
        "key": account.key,
        "id": account.account_id,
        "name": account.name,
        "home_store": profile.home_store,
        "stores": [
            {
                "store": code,
                "region": STORES[code].region,
                "marketplaceId": STORES[code].marketplace_id,
                "currency": STORES[code].currency,
                "transactions": len(world.book(account.key, code)),
            }
            for code in account.stores
        ],
        "legal_entities": list(profile.legal_entities),
        "purchasing_groups": [group.name for group in profile.groups],
        "instruments": [
            {
                "type": i.type,
                "last4": i.last4,
                "kind": i.kind,
                "late_new_card": i == profile.new_card,
            }
            for i in (*profile.instruments, *account.extra_instruments)
        ],
        "users": [
            {
                "email": user.email,
                "name": user.name,
                "id": user.customer_id,
                "password": user.password,
                "admin_of_all_entities": user.admin_of_all_entities,
            }
            for user in world.users.values()
            if user.account_key == account.key
        ],
        "consents": [consent_json(c) for c in consents],
    }


def consent_json(consent: Consent) -> dict[str, Any]:
    """A consent without its secrets."""
    return {
        "id": consent.consent_id,
        "store": consent.store,
        "email": consent.email,
        "revoked": consent.revoked,
    }


@bp.get("/accounts")
def accounts() -> Response:
    """Seeded accounts: ids, stores with counts, instruments, users, consents."""
    with current_sandbox().lock:
        world = get_world()
        return jsonify({"accounts": [account_json(world, a) for a in world.accounts.values()]})


@bp.get("/transactions")
def list_transactions() -> Response:
    """Every stored transaction of ``?account=…&store=…`` (store defaults to the home store)."""
    with current_sandbox().lock:
        world = get_world()
        account = world.find_account(request.args.get("account", ""))
        if account is None:
            return problem("unknown account", 404)
        store = request.args.get("store", account.profile.home_store).upper()
        return jsonify({"transactions": world.book(account.key, store).payloads()})


@bp.post("/transactions")
def add_transactions() -> Response:
    """Add generated purchases dated now (``count``, optional ``new_card``) and/or raw
    ``transactions`` (appended as given) to an account's store."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        account = world.find_account(str(body.get("account", "")))
        if account is None:
            return problem("unknown account (use thames, hudson, an id or a name)", 404)
        store = str(body.get("store", account.profile.home_store)).upper()
        if store not in account.stores:
            return problem(f"{account.name} does not buy on store {store}")
        raw = body.get("transactions") or []
        if not isinstance(raw, list) or not all(isinstance(tx, dict) for tx in raw):
            return problem("transactions must be a list of objects")
        try:
            count = int(body.get("count", 0))
        except (TypeError, ValueError):
            return problem("count must be an integer")
        instrument = None
        card = body.get("new_card")
        if card is not None:
            if not isinstance(card, dict) or not card.get("type"):
                return problem('new_card must look like {"type": "Visa", "last4": "9911"}')
            last4 = card.get("last4")
            instrument = Instrument(str(card["type"]), str(last4) if last4 else None, "card")
            if instrument not in account.extra_instruments:
                account.extra_instruments.append(instrument)
            count = max(count, 1)
        now = sandbox.clock.now()
        generated = generate_purchases_now(
            account.profile,
            seed=world.seed,
            rng=world.rng,
            store=store,
            when=now,
            count=count,
            instrument=instrument,
        )
        added = generated + [dict(tx) for tx in raw]
        world.book(account.key, store).add_many(added, now)
    return jsonify(
        {
            "account": account.key,
            "store": store,
            "added": len(added),
            "transactionIds": [tx.get("transactionId") for tx in added],
        }
    )


@bp.post("/revoke")
def revoke() -> Response:
    """Revoke by ``refresh_token``, or every consent of ``account`` (optionally one ``store``)."""
    body = request.get_json(silent=True) or {}
    with current_sandbox().lock:
        world = get_world()
        if body.get("refresh_token"):
            count = world.auth.revoke(refresh_token=str(body["refresh_token"]))
        else:
            account = world.find_account(str(body.get("account", "")))
            if account is None:
                return problem("give refresh_token or account", 400)
            store = body.get("store")
            count = world.auth.revoke(
                account_key=account.key, store=str(store).upper() if store else None
            )
    return jsonify({"revoked": count})


@bp.get("/stats")
def stats() -> Response:
    """Token calls per grant type, API calls and 429s per operation, faults, downloads."""
    with current_sandbox().lock:
        return jsonify(get_world().stats.to_json())


@bp.post("/reports")
def control_reports() -> Response:
    """``{"reportId": …, "outcome": "FATAL"}`` for one report; without ``reportId`` the outcome
    (or null) and ``compression`` ("GZIP", null for none, or "ALTERNATE": every other report,
    the default) apply to reports created from now on. ``content`` ("pdf", "not_pdf",
    "corrupt_zip") says what downloads from now on hold."""
    body = request.get_json(silent=True) or {}
    outcome = body.get("outcome")
    if outcome is not None and outcome not in FINAL_STATUSES:
        return problem(f"outcome must be one of {list(FINAL_STATUSES)} or null")
    compression = body.get("compression")
    if compression not in (None, "GZIP", ALTERNATE):
        return problem('compression must be "GZIP", "ALTERNATE" or null')
    content = body.get("content", "pdf")
    if content not in CONTENTS:
        return problem(f"content must be one of {list(CONTENTS)}")
    with current_sandbox().lock:
        reports = get_world().reports
        if body.get("reportId"):
            report = reports.reports.get(str(body["reportId"]))
            if report is None:
                return problem("unknown reportId", 404)
            if outcome is not None:
                reports.force(report, outcome)
            if "compression" in body:
                report.compression = compression
        else:
            if "outcome" in body:
                reports.forced_outcome = outcome
            if "compression" in body:
                reports.compression = compression
            if "content" in body:
                reports.content = content
        return jsonify(
            {
                "outcome": reports.forced_outcome,
                "compression": reports.compression,
                "content": reports.content,
            }
        )


@bp.post("/orders")
def order_status() -> Response:
    """``{"account", "store", "orderId", "status"}``: an order's status as Amazon would report
    it (``PENDING``, ``CANCELLED``, ``CLOSED``…); order summaries are refused for pending and
    cancelled orders."""
    body = request.get_json(silent=True) or {}
    status = str(body.get("status", "")).upper()
    if not status or not body.get("orderId"):
        return problem("orderId and status are required")
    with current_sandbox().lock:
        world = get_world()
        account = world.find_account(str(body.get("account", "")))
        if account is None:
            return problem("unknown account", 404)
        store = str(body.get("store", account.profile.home_store)).upper()
        world.book(account.key, store).order_statuses[str(body["orderId"])] = status
    return jsonify({"orderId": body["orderId"], "status": status})


@bp.get("/invoices/<invoice_id>")
def invoice_schedule(invoice_id: str) -> Response:
    """An invoice's payment-status schedule (when each status starts) and its status now."""
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        for book in world.books.values():
            record = book.invoices.get(invoice_id)
            if record is None:
                continue
            return jsonify(
                {
                    "invoiceId": record.number,
                    "account": book.account_key,
                    "store": book.store,
                    "invoiceType": record.invoice_type,
                    "payByInvoice": record.pay_by_invoice,
                    "invoiceDate": iso_s(record.date),
                    "dueDate": iso_s(due_date(record)),
                    "fate": fate(record),
                    "schedule": [
                        {"status": status, "from": iso_s(start)}
                        for status, start in schedule(record)
                    ],
                    "status": status_at(record, sandbox.clock.now()),
                }
            )
    return problem("unknown invoice", 404)
