"""Test and demo control: Amazon changing its mind about a transaction after its first feed
(spec §9 pt 5: ``amount`` is the authorised amount until the charge settles; a later feed can
carry the same ``transactionId`` with a different amount, or a cancellation).

``POST /_sandbox/amazon/transactions/<transactionId>/change`` with ``account`` (and ``store``)
and one of:

- ``{"amount": "41.50"}``: the charge settled for another amount. Every money component of every
  line is scaled to it (rounded to the cent, the cent left over on the first line's principal),
  so the lines still add up to ``amount`` and each line's tax still fits its rate;
- ``{"transactionLineItems": [...]}``: new lines as given (``amount`` becomes their sum), e.g.
  an item dropped from the shipment;
- ``{"cancel": true}``: the charge is cancelled before it settled.

**How a cancellation is represented.** We re-feed the same ``transactionId`` with ``amount``
``0.00`` and no ``transactionLineItems``, not a ``REFUND``. An authorisation that is released
before settlement never moved money, so Amazon has nothing to refund; the reconciliation feed
reports the transaction again at zero (a refund is a separate transaction with its own id, and
the app already posts those as refunds). A zero amount with no lines is also what a client
that upserts by ``transactionId`` sees as "this charge no longer exists".

Either way the transaction is fed again with a later ``feedDate`` (now, or ``feedDate`` given):
an import whose feed window covers that moment receives the new version; the old version is no
longer returned (``Book.refeed``).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from flask import Response
from flask import jsonify
from flask import request

from sandbox.amazon.control import bp
from sandbox.amazon.control import problem
from sandbox.amazon.dates import iso_ms
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.transaction_json import COMPONENT_FIELDS
from sandbox.amazon.transaction_json import ZERO
from sandbox.amazon.transaction_json import line_sum
from sandbox.amazon.transaction_json import q
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox


def _sign(payload: dict[str, Any]) -> Decimal:
    return Decimal(-1) if Decimal(payload["amount"]["amount"]) < 0 else Decimal(1)


def scaled(payload: dict[str, Any], new_amount: Decimal) -> dict[str, Any]:
    """The transaction settled at ``new_amount`` (same sign as its old amount)."""
    changed = copy.deepcopy(payload)
    old = Decimal(changed["amount"]["amount"])
    if old == 0:
        raise ValueError("a zero transaction cannot be scaled")
    new_amount = abs(new_amount) * _sign(changed)
    factor = new_amount / old
    items = changed.get("transactionLineItems") or []
    for item in items:
        total = ZERO
        for _, name in COMPONENT_FIELDS:
            if name in item:
                value = q(Decimal(item[name]["amount"]) * factor)
                item[name]["amount"] = f"{value:.2f}"
                total += value
        item["totalAmount"]["amount"] = f"{total:.2f}"
    if items:
        left = new_amount - line_sum(changed)
        first = items[0]
        principal = Decimal(first["principalAmount"]["amount"]) + left
        first["principalAmount"]["amount"] = f"{principal:.2f}"
        first["totalAmount"]["amount"] = f"{Decimal(first['totalAmount']['amount']) + left:.2f}"
        quantity = Decimal(str(first.get("itemQuantity") or 1))
        if "unitPrice" in first and quantity:
            first["unitPrice"]["amount"] = f"{q(abs(principal) / quantity):.2f}"
    changed["amount"]["amount"] = f"{new_amount:.2f}"
    return changed


def cancelled(payload: dict[str, Any]) -> dict[str, Any]:
    """The transaction cancelled before settlement: amount 0.00, no lines (module doc)."""
    changed = copy.deepcopy(payload)
    changed["amount"]["amount"] = "0.00"
    changed["transactionLineItems"] = []
    return changed


def _changed(payload: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    if body.get("cancel"):
        return cancelled(payload)
    if isinstance(body.get("transactionLineItems"), list):
        changed = copy.deepcopy(payload)
        changed["transactionLineItems"] = copy.deepcopy(body["transactionLineItems"])
        changed["amount"]["amount"] = f"{line_sum(changed):.2f}"
        return changed
    if "amount" in body:
        return scaled(payload, Decimal(str(body["amount"])))
    raise ValueError("give amount, transactionLineItems or cancel")


@bp.post("/transactions/<transaction_id>/change")
def change_transaction(transaction_id: str) -> Response:
    """Re-feed a transaction changed or cancelled (module doc)."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        account = world.find_account(str(body.get("account", "")))
        if account is None:
            return problem("unknown account (use thames, hudson, an id or a name)", 404)
        store = str(body.get("store", account.profile.home_store)).upper()
        book = world.book(account.key, store)
        current = next(
            (p for p in book.payloads() if p.get("transactionId") == transaction_id), None
        )
        if current is None:
            return problem("unknown transaction", 404)
        try:
            changed = _changed(current, body)
        except (ValueError, InvalidOperation, KeyError) as exc:
            return problem(str(exc) or "bad change")
        feed = parse_iso(str(body.get("feedDate", ""))) or sandbox.clock.now()
        old_feed = parse_iso(str(current.get("feedDate", "")))
        if old_feed is not None and feed <= old_feed:
            return problem("feedDate must be later than the transaction's current feedDate")
        changed["feedDate"] = iso_ms(feed)
        book.refeed(changed, feed)
    return jsonify({"previous": current, "transaction": changed})
