"""Translate: one transaction -> a ``Document`` or a ``Held`` (``translate``), a whole input -> a
``Plan`` holding every input exactly once (``translate_all``). (Named ``translation`` so that it
does not shadow the ``translate`` function on the package.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.posting import legal_entities
from plugin.posting.accounts import bank_account_for
from plugin.posting.accounts import payment_method_for
from plugin.posting.bodies import bank_transaction_body
from plugin.posting.bodies import bill_body
from plugin.posting.bodies import common_fields
from plugin.posting.bodies import credit_note_body
from plugin.posting.bodies import document_url
from plugin.posting.bodies import with_transaction_id
from plugin.posting.card_bills import card_bill_document
from plugin.posting.card_bills import card_bill_needed
from plugin.posting.checks import check_amount_precision
from plugin.posting.checks import check_amounts_add_up
from plugin.posting.checks import check_currency_enabled
from plugin.posting.checks import check_has_line_items
from plugin.posting.checks import check_line_currencies
from plugin.posting.checks import check_lock_date
from plugin.posting.checks import check_transaction_type
from plugin.posting.checks import due_date_for
from plugin.posting.checks import invoice_number_for
from plugin.posting.checks import posting_date
from plugin.posting.checks import require_contact
from plugin.posting.checks import sign_factor
from plugin.posting.checks import transaction_currency
from plugin.posting.inputs import Chart
from plugin.posting.inputs import LineKey
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import PostingContext
from plugin.posting.lines import build_lines
from plugin.posting.lines import check_invariant
from plugin.posting.results import Document
from plugin.posting.results import DocumentKind
from plugin.posting.results import Held
from plugin.posting.results import Plan
from plugin.posting.results import Unpostable


def _translate(
    transaction: Transaction, mapping: Mapping, chart: Chart, context: PostingContext
) -> Document:
    """The document for one readable transaction; raises ``Unpostable`` to hold it.

    The checks run in a fixed order (the transaction's data, then its payment method, then the
    org, then the lines) and the first failure is the reason given. A ``spend_money`` payment
    method gives ``BankTransactions`` (SPEND for a charge, RECEIVE for a refund, same accounts),
    or, for a purchase in another currency than its base-currency account when the method says
    ``bill_paid_from_account``, a bill or credit note with its payment (``card_bills``);
    ``bill`` gives an ``ACCPAY`` bill for a charge and an ``ACCPAYCREDIT`` credit note for a
    refund (allocating and paying them need Xero ids: done after posting, not here).
    """
    kind = check_transaction_type(transaction)
    currency = transaction_currency(transaction)
    when = posting_date(transaction, context, chart)
    check_line_currencies(transaction, currency)
    check_amount_precision(transaction)
    factor = sign_factor(transaction, kind)
    check_has_line_items(transaction, kind)
    if transaction.line_items:
        check_amounts_add_up(transaction, factor)
    assert transaction.amount is not None
    expected_total = abs(transaction.amount.amount)

    contact_id = require_contact(chart)
    entry = payment_method_for(transaction, mapping)
    check_currency_enabled(currency, chart)
    bank_account = None
    card_bill = False
    if entry.treatment == "spend_money":
        bank_account = bank_account_for(entry, transaction, chart)
        card_bill = card_bill_needed(entry, bank_account, currency, chart, transaction)
    check_lock_date(when, chart)
    invoice_number = invoice_number_for(transaction) if entry.treatment == "bill" else None

    bank = bank_account is not None and not card_bill  # Xero refuses caller's TaxAmount
    lines = build_lines(transaction, kind, factor, mapping, chart, context, bank)
    total = check_invariant(lines, expected_total, transaction.transaction_id)
    common = common_fields(contact_id, when, currency)
    url = document_url(transaction, context)
    tid = transaction.transaction_id
    if bank_account is not None and card_bill:
        charge = kind == "CHARGE"
        return card_bill_document(
            transaction, charge, bank_account, common, lines, url, when, total, chart
        )
    if bank_account is not None:
        spend = kind == "CHARGE"
        body = bank_transaction_body(transaction, spend, bank_account, common, lines, url)
        document_kind: DocumentKind = "spend_money" if spend else "receive_money"
        return Document("BankTransactions", tid, body, document_kind, currency, total)
    assert invoice_number is not None
    tagged = with_transaction_id(lines, tid)
    if kind == "CHARGE":
        due = due_date_for(invoice_number, when, mapping, context)
        body = bill_body(invoice_number, due, common, tagged, url)
        return Document("Invoices", tid, body, "bill", currency, total)
    body = credit_note_body(invoice_number, common, tagged)
    return Document("CreditNotes", tid, body, "credit_note", currency, total)


def parse_failure_held(failure: ParseFailure) -> Held:
    """The held entry for a transaction Amazon sent that we could not read."""
    where = f" (transactions[{failure.position}])" if failure.position is not None else ""
    return Held(
        failure.transaction_id,
        "parse_error",
        f"Amazon sent a transaction we could not read{where}: {failure.reason}. It cannot be "
        "posted until Amazon sends it correctly; post it by hand if needed.",
    )


def translate(
    transaction: Transaction | ParseFailure,
    mapping: Mapping,
    chart: Chart,
    context: PostingContext | None = None,
) -> Document | Held:
    """Return the Xero document for one transaction, or why it is held.

    Raises ``InvariantViolation`` only on a bug in these rules (``translate_all`` turns that
    into a held ``internal_error``).
    """
    if isinstance(transaction, ParseFailure):
        return parse_failure_held(transaction)
    context = context or PostingContext()
    elsewhere = legal_entities.check(
        transaction.transaction_id,
        legal_entities.entity_of(transaction.legal_entity_name),
        context.legal_entities,
    )
    if elsewhere is not None:  # first: a purchase of another organisation is not judged here
        return Held(transaction.transaction_id, elsewhere.code, elsewhere.reason)
    try:
        return _translate(transaction, mapping, chart, context)
    except Unpostable as held:
        return Held(transaction.transaction_id, held.code, held.reason)


def charge_line_index(
    transactions: Iterable[Transaction | ParseFailure],
) -> dict[LineKey, TransactionLineItem]:
    """Index the charge lines of ``transactions`` by (orderId, orderLineItemId)."""
    index: dict[LineKey, TransactionLineItem] = {}
    for transaction in transactions:
        if isinstance(transaction, Transaction) and transaction.transaction_type == "CHARGE":
            for item in transaction.line_items:
                if item.order_id and item.order_line_item_id:
                    index.setdefault((item.order_id, item.order_line_item_id), item)
    return index


def translate_all(
    transactions: Iterable[Transaction | ParseFailure],
    mapping: Mapping,
    chart: Chart,
    context: PostingContext | None = None,
) -> Plan:
    """Translate every transaction; each input appears exactly once in the plan. Never raises.

    A ``transactionId`` seen earlier in the same input is held (``duplicate_transaction``): only
    the first copy is posted. A bug in the rules holds its one entry (``internal_error``).
    """
    items = list(transactions)
    context = context or PostingContext()
    originals = {**charge_line_index(items), **context.original_line_items}
    context = replace(context, original_line_items=originals)
    documents: list[Document] = []
    held: list[Held] = []
    seen: set[str] = set()
    for item in items:
        tid = item.transaction_id
        if tid is not None and tid in seen:
            held.append(
                Held(
                    tid,
                    "duplicate_transaction",
                    f"Amazon transaction {tid} appears more than once in this import; only the "
                    "first copy is posted.",
                )
            )
            continue
        if tid is not None:
            seen.add(tid)
        try:
            result = translate(item, mapping, chart, context)
        except Exception as exc:  # a bug must hold one entry, not stop the run
            result = Held(
                tid,
                "internal_error",
                f"The posting rules failed on this transaction ({type(exc).__name__}: {exc}). "
                "It was not posted; please report it.",
            )
        if isinstance(result, Document):
            documents.append(result)
        else:
            held.append(result)
    return Plan(tuple(documents), tuple(held))
