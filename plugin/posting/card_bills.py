"""Foreign-currency purchases on a card (or balance) whose Xero account is in the base currency.

Xero records spend money only in its bank account's currency, so a EUR purchase on a GBP card
cannot be a ``SPEND``. What Xero does allow is a bill in EUR and a payment of it from the GBP
account, converted at a rate (the one given, else Xero's own for the payment date). A payment
method mapped with ``foreign_currency: "bill_paid_from_account"`` is posted that way:

- a charge: an ``ACCPAY`` bill in the purchase's currency, dated the purchase's date and due
  that day, numbered with the same reference as a spend money (``"<orderId> <transactionId>"``,
  so the batch recovery finds it by ``InvoiceNumber`` and the transaction id in its first line),
  then a ``Payment`` of its whole total from the card's account on that date;
- a refund: an ``ACCPAYCREDIT`` credit note numbered the same way, then a refund ``Payment`` of
  the credit note to the card's account (Xero's ``APCREDITPAYMENT``), since the money goes back
  to the card; allocating it to the bill is not possible, the bill is already paid.

Decisions (and why):

- The payment carries no ``CurrencyRate``: Amazon does not say what the card issuer charged in
  GBP, so no rate we could send is better than Xero's own for the day. Xero applies it and
  answers with the rate and ``BankAmount``; we store both and show them on the entry page. The
  card statement's line may differ by the issuer's margin; the bookkeeper adjusts the payment's
  bank amount when reconciling (Xero posts the difference as a currency gain or loss).
- ``hold`` stays the default: posting bills where the user expects spend money is a choice the
  user makes per payment method, and it needs multi-currency in Xero.
- Only an account in the base currency can pay a document in another currency (Xero refuses a
  payment from an account in a third currency): anything else is held, saying why.
- The translation stays pure: the payment is a ``PaymentIntent`` on the ``Document``, recorded
  with the posting batch before the bill is sent; ``plugin.work.card_bill_payments`` makes it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from plugin.amazon.models import Transaction
from plugin.posting.accounts import payment_method_label
from plugin.posting.bodies import bank_account_ref
from plugin.posting.bodies import bank_reference
from plugin.posting.bodies import bill_body
from plugin.posting.bodies import credit_note_body
from plugin.posting.bodies import json_amount
from plugin.posting.bodies import with_transaction_id
from plugin.posting.inputs import BILL_PAID_FROM_ACCOUNT
from plugin.posting.inputs import Account
from plugin.posting.inputs import Chart
from plugin.posting.inputs import PaymentMethodMapping
from plugin.posting.lines import Line
from plugin.posting.results import Document
from plugin.posting.results import JsonBody
from plugin.posting.results import PaymentIntent
from plugin.posting.results import Unpostable

CHOICE_LABEL = "Bill in the purchase currency, paid from this account"


def card_bill_needed(
    entry: PaymentMethodMapping,
    account: Account,
    currency: str,
    chart: Chart,
    transaction: Transaction,
) -> bool:
    """True when a spend-money purchase must go as a bill paid from ``account``.

    False when the account is in the purchase's currency (a plain spend or receive money).
    Holds (``bank_account_currency``) when it is not and the payment method's choice is
    ``hold``, or when the account is in neither the purchase's nor the base currency.
    """
    account_currency = account.currency_code or chart.base_currency
    if account_currency == currency:
        return False
    label = payment_method_label(transaction)
    if entry.foreign_currency != BILL_PAID_FROM_ACCOUNT:
        raise Unpostable(
            "bank_account_currency",
            f"This purchase is in {currency} but account {account.label} is in "
            f"{account_currency}; Xero records spend or receive money only in the account's "
            f'currency. In the mapping, choose "{CHOICE_LABEL}" for {label} under Payment '
            f"methods (a {currency} bill paid from {account.label} at Xero's rate), or map it "
            f"to a {currency} account, or post it by hand.",
        )
    if account_currency != chart.base_currency:
        raise Unpostable(
            "bank_account_currency",
            f"This purchase is in {currency} but account {account.label} is in "
            f"{account_currency}; Xero pays a {currency} bill only from a {currency} account "
            f"or one in the base currency ({chart.base_currency}). Map {label} to such an "
            "account under Payment methods, or post it by hand.",
        )
    return True


def card_bill_document(
    transaction: Transaction,
    charge: bool,
    account: Account,
    common: JsonBody,
    lines: list[Line],
    url: str | None,
    when: date,
    total: Decimal,
    chart: Chart,
) -> Document:
    """The bill (charge) or credit note (refund) in the purchase's currency, with its payment."""
    tid = transaction.transaction_id
    reference = bank_reference(transaction)
    tagged = with_transaction_id(lines, tid)
    currency = str(common["CurrencyCode"])
    intent = PaymentIntent(
        target="Invoices" if charge else "CreditNotes",
        account=bank_account_ref(account),
        date=when.isoformat(),
        amount=json_amount(total),
        currency=currency,
        account_currency=account.currency_code or chart.base_currency,
        reference=reference,
    )
    if charge:
        body = bill_body(reference, when, common, tagged, url)
        return Document("Invoices", tid, body, "bill", currency, total, intent)
    body = credit_note_body(reference, common, tagged)
    return Document("CreditNotes", tid, body, "credit_note", currency, total, intent)


def payment_body(intent: PaymentIntent, document_id: str) -> JsonBody:
    """The ``Payments`` element paying the bill (or refunding the credit note) ``document_id``.

    ``CurrencyRate`` only when the intent names one; otherwise Xero applies its own rate.
    """
    target = (
        {"Invoice": {"InvoiceID": document_id}}
        if intent.target == "Invoices"
        else {"CreditNote": {"CreditNoteID": document_id}}
    )
    body: JsonBody = {
        **target,
        "Account": dict(intent.account),
        "Date": intent.date,
        "Amount": json_amount(intent.amount),
        "Reference": intent.reference,
    }
    if intent.currency_rate is not None:
        body["CurrencyRate"] = intent.currency_rate
    return body
