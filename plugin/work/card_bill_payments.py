"""Paying card bills: the payment of each posted foreign-currency card bill from the card's
account (or the refund of a card credit note to it), exactly once (``posting.card_bills``).

The posting run calls ``pay_card_bills`` right after posting, under the organisation's lock.
For each posted entry waiting for its card payment (``settlement_state`` ``card_payment``, set
when the batch that posted it recorded a payment intent):

1. the intent recorded with the posting batch becomes a ``CardPayment`` row, committed before
   any call;
2. up to 50 rows at a time are marked ``sent`` with one fresh key and committed, then sent in
   one call with that key;
3. Xero's answer is stored: the payment id, the ``CurrencyRate`` Xero applied (its own rate for
   the day: we send none) and the ``BankAmount`` in the card account's currency, which the
   entry page shows; the entry becomes ``card_paid``.

A row still ``sent`` at a later run (a killed worker, a lost connection, a 500: the outcome is
unknown), sent longer ago than the client's in-flight horizon (``plugin.xero.timing``), is
first looked up in Xero: a live payment on
the bill or credit note is recorded as ours; only when there is none is it sent again. Xero's
refusal is final (``card_refused``, with Xero's reason on the entry); it is not retried by
itself. A rate limit or an outage stops the run (the posting job comes back later); the rows
Xero did not process go back to ``pending``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.batches import CARD_PAYMENT
from plugin.ledger.queries import posted_entries
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.posting import PaymentIntent
from plugin.posting import payment_body
from plugin.work.card_payment_model import CardPayment
from plugin.work.card_payment_model import CardPaymentState
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError
from plugin.xero.models import XeroPayment

log = logging.getLogger(__name__)

CARD_PAID = "card_paid"
CARD_REFUSED = "card_refused"
BATCH_SIZE = 50  # payments per Xero call, as for documents


@dataclass
class CardPaymentCounts:
    """What a run did."""

    paid: int = 0
    found: int = 0  # an unknown outcome resolved by finding the payment in Xero
    unknown: int = 0
    refused: int = 0


def entries_awaiting_card_payment(session: Session, org_id: int) -> list[LedgerEntry]:
    """Posted card bills and credit notes whose payment is not recorded yet."""
    return posted_entries(session, org_id, col(LedgerEntry.settlement_state) == CARD_PAYMENT)


def card_payment_of(session: Session, entry: LedgerEntry) -> CardPayment | None:
    """The entry's payment row, if one was recorded."""
    return session.exec(select(CardPayment).where(CardPayment.ledger_entry_id == entry.id)).first()


def intent_of(session: Session, entry: LedgerEntry) -> PaymentIntent | None:
    """The payment intent the posting batch recorded for the entry, before it was sent."""
    batch = session.get(PostingBatch, entry.batch_id) if entry.batch_id else None
    intents = ((batch.request_summary or {}) if batch else {}).get("card_payments") or {}
    data = intents.get(entry.amazon_transaction_id)
    return PaymentIntent.from_json(data) if data else None


def record_intent(session: Session, entry: LedgerEntry) -> CardPayment | None:
    """The entry's ``CardPayment`` row, created (and committed) from its intent if need be."""
    row = card_payment_of(session, entry)
    if row is not None:
        return row
    intent = intent_of(session, entry)
    if intent is None or not entry.xero_document_id:
        entry.reason = (
            "The card payment of this bill was not recorded with it; pay it in Xero from the "
            "card account."
        )
        entry.settlement_state = CARD_REFUSED
        session.add(entry)
        session.commit()
        return None
    row = CardPayment(
        organisation_id=entry.organisation_id,
        ledger_entry_id=int(entry.id or 0),
        target=intent.target,
        xero_document_id=str(entry.xero_document_id),
        account=dict(intent.account),
        payment_date=date.fromisoformat(intent.date),
        amount=intent.amount,
        currency=intent.currency,
        account_currency=intent.account_currency,
        reference=intent.reference[:255],
        idempotency_key=uuid.uuid4().hex,
    )
    session.add(row)
    session.commit()
    return row


def row_intent(row: CardPayment) -> PaymentIntent:
    """The intent a row stands for (what ``payment_body`` needs)."""
    return PaymentIntent(
        target="Invoices" if row.target == "Invoices" else "CreditNotes",
        account={str(k): str(v) for k, v in (row.account or {}).items()},
        date=row.payment_date.isoformat(),
        amount=row.amount,
        currency=row.currency,
        account_currency=row.account_currency,
        reference=row.reference,
    )


def existing_payment(xero: XeroClient, row: CardPayment) -> XeroPayment | None:
    """A live payment already on the row's bill (or credit note) in Xero."""
    if row.target == "Invoices":
        payments = xero.payments_for_invoice(row.xero_document_id)
    else:
        payments = xero.payments_for_credit_note(row.xero_document_id)
    return next((p for p in payments if p.status != "DELETED"), None)


def _record_paid(session: Session, row: CardPayment, entry: LedgerEntry, paid: XeroPayment) -> None:
    row.state = CardPaymentState.PAID
    row.xero_payment_id = paid.payment_id
    row.currency_rate = paid.currency_rate
    row.bank_amount = (
        None if paid.bank_amount is None else paid.bank_amount.quantize(Decimal("0.01"))
    )
    row.recorded_at = utcnow()
    row.reason = None
    entry.settlement_state = CARD_PAID
    entry.xero_payment_id = paid.payment_id
    entry.updated_at = utcnow()
    session.add_all([row, entry])
    session.commit()


def _record_refused(session: Session, row: CardPayment, entry: LedgerEntry, why: list[str]) -> None:
    reason = (
        "The bill was posted, but Xero refused its payment from the card account: "
        + "; ".join(why)[:800]
        + ". Pay it in Xero from the card account."
    )
    row.state = CardPaymentState.REFUSED
    row.reason = reason
    row.recorded_at = utcnow()
    entry.settlement_state = CARD_REFUSED
    entry.reason = reason
    entry.updated_at = utcnow()
    session.add_all([row, entry])
    session.commit()


def send_chunk(
    session: Session, xero: XeroClient, chunk: list[tuple[CardPayment, LedgerEntry]]
) -> CardPaymentCounts:
    """Send up to ``BATCH_SIZE`` payments in one call under one fresh ``Idempotency-Key``.

    The rows are marked ``sent`` with the key and committed before the call. Xero's refusal
    before processing (rate limit, outage, reconnect) puts them back to ``pending``; a lost
    answer leaves them ``sent`` for a later run to look up.
    """
    counts = CardPaymentCounts()
    key = uuid.uuid4().hex
    now = utcnow()
    for row, _entry in chunk:
        row.state = CardPaymentState.SENT
        row.sent_at = now
        row.attempts += 1
        row.idempotency_key = key
        session.add(row)
    session.commit()
    bodies = [payment_body(row_intent(row), row.xero_document_id) for row, _ in chunk]
    try:
        results = xero.create_documents("Payments", bodies, key)
    except (XeroConnectionLost, XeroServerError) as exc:
        log.warning("Card payments %s: outcome unknown: %s", [r.id for r, _ in chunk], exc.message)
        counts.unknown += len(chunk)
        return counts
    except (XeroRateLimited, XeroUnavailable, XeroNeedsReconnect, XeroConnectionRevoked):
        for row, _entry in chunk:  # not processed by Xero: they simply wait
            row.state = CardPaymentState.PENDING
            session.add(row)
        session.commit()
        raise
    except XeroValidationError as exc:
        for row, entry in chunk:
            _record_refused(session, row, entry, exc.messages)
        counts.refused += len(chunk)
        return counts
    for (row, entry), result in zip(chunk, results, strict=True):
        if not result.ok or not result.xero_id:
            _record_refused(session, row, entry, result.messages or ["no reason given"])
            counts.refused += 1
            continue
        paid = XeroPayment.model_validate({**result.element, "PaymentID": result.xero_id})
        _record_paid(session, row, entry, paid)
        counts.paid += 1
    return counts


def pay_card_bills(
    session: Session, org_id: int, xero: XeroClient, now: datetime | None = None
) -> CardPaymentCounts:
    """Pay every posted card bill (refund every card credit note) of the organisation.

    A payment whose outcome is unknown is looked up in Xero once it can no longer be in flight
    (``xero.in_flight`` after it was sent; a request Xero may still be working on is left
    alone), then sent again, with a new key, only if Xero has none. Raises the Xero errors
    that mean "stop for now".
    """
    counts = CardPaymentCounts()
    now = now or utcnow()
    waiting: list[tuple[CardPayment, LedgerEntry]] = []
    for entry in entries_awaiting_card_payment(session, org_id):
        row = record_intent(session, entry)
        if row is None:
            counts.refused += 1
            continue
        if row.state == CardPaymentState.PAID:  # recorded, entry not yet marked
            entry.settlement_state = CARD_PAID
            session.add(entry)
            session.commit()
            continue
        if row.state == CardPaymentState.REFUSED:
            continue
        if row.state == CardPaymentState.SENT:
            sent_at = row.sent_at or row.created_at
            if now - sent_at < xero.in_flight:
                counts.unknown += 1
                continue
            found = existing_payment(xero, row)
            if found is not None:
                _record_paid(session, row, entry, found)
                counts.found += 1
                continue
        waiting.append((row, entry))
    for start in range(0, len(waiting), BATCH_SIZE):
        sent = send_chunk(session, xero, waiting[start : start + BATCH_SIZE])
        counts.paid += sent.paid
        counts.unknown += sent.unknown
        counts.refused += sent.refused
    return counts
