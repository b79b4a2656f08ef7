"""Checks on the transaction's own data (type, amount, date, sign, currencies, precision, totals)
and on the org (contact, currency, lock date, invoice number). Each returns what it checked or
raises ``Unpostable`` with a reason a bookkeeper can act on."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import Decimal

from plugin.amazon.models import Transaction
from plugin.posting.amounts import CENT
from plugin.posting.amounts import MAX_AMOUNT
from plugin.posting.amounts import ZERO
from plugin.posting.amounts import components_of
from plugin.posting.amounts import money_text
from plugin.posting.dates import xero_zone
from plugin.posting.inputs import Account
from plugin.posting.inputs import Chart
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import PostingContext
from plugin.posting.results import Unpostable


def check_transaction_type(transaction: Transaction) -> str:
    """Return ``CHARGE``/``REFUND``/``OVERREFUND``; hold anything else."""
    kind = transaction.transaction_type
    if kind is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without a transactionType, so we cannot tell a "
            "charge from a refund. Re-import it; if it persists, post it by hand.",
        )
    if kind not in ("CHARGE", "REFUND", "OVERREFUND"):
        raise Unpostable(
            "unsupported_transaction_type",
            f"Amazon transaction type {kind!r} is not one we know how to post "
            "(we post CHARGE, REFUND and OVERREFUND). Post it by hand in Xero.",
        )
    return kind


def transaction_currency(transaction: Transaction) -> str:
    """Return the currency of ``amount``; hold when the amount is missing."""
    if transaction.amount is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without an amount. Re-import it; if it persists, "
            "post it by hand.",
        )
    return transaction.amount.currency_code


def posting_date(
    transaction: Transaction, context: PostingContext, chart: Chart | None = None
) -> date:
    """Return the document date: ``transactionDate`` as a calendar date in the org's zone.

    The zone is ``PostingContext.timezone`` when given, else the chart's ``Timezone`` (Xero's
    Windows-style name, ``plugin.posting.dates.xero_zone``); with neither, the date is as Amazon
    wrote it (UTC). Xero's dates are the org's own: 23:30 UTC on 30 June is 1 July in London, so
    the lock-date check and the due date, which start from this date, are the org's too.
    """
    moment = transaction.transaction_date
    if moment is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without a transactionDate. Re-import it; if it "
            "persists, post it by hand.",
        )
    zone = context.timezone or (xero_zone(chart.timezone) if chart is not None else None)
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.date()


def sign_factor(transaction: Transaction, kind: str) -> Decimal:
    """Return +1 or -1: what turns Amazon's line amounts into document amounts.

    Refunds come with negative amounts (Amazon's model) or positive ones (production feeds;
    spec §9 item 4): the sign comes from ``transactionType``, the size from the number. The
    document total is ``|amount|``; the line factor follows how the *lines* are spelled (their
    components' sum), so a refund's principal ``-17.99`` or ``17.99`` both become ``17.99`` on
    the RECEIVE, even if Amazon spelled the lines differently from ``amount``. Lines that sum to
    zero follow ``amount``'s spelling. A CHARGE with a negative amount is held
    (``unexpected_sign``), a zero amount too (``zero_amount``); a charge's lines are as sent.
    """
    assert transaction.amount is not None
    amount = transaction.amount.amount
    if amount == 0:
        raise Unpostable(
            "zero_amount",
            f"Amazon transaction amount is {money_text(amount)}: there is nothing to post.",
        )
    if kind == "CHARGE":
        if amount < 0:
            raise Unpostable(
                "unexpected_sign",
                f"Amazon sent a CHARGE with a negative amount ({money_text(amount)}). Charges "
                "are positive; post this one by hand after checking it in Amazon Business.",
            )
        return Decimal(1)
    as_sent = sum((components_of(i, Decimal(1)).total for i in transaction.line_items), ZERO)
    spelled = as_sent if as_sent != 0 else amount
    return Decimal(-1) if spelled < 0 else Decimal(1)


def check_line_currencies(transaction: Transaction, currency: str) -> None:
    """Hold when any line amount is in another currency than the transaction."""
    for index, item in enumerate(transaction.line_items):
        for name, money in item.money_fields().items():
            if money.currency_code != currency:
                raise Unpostable(
                    "mixed_currencies",
                    f"transactionLineItems[{index}].{name} is in {money.currency_code} but the "
                    f"transaction is in {currency}; we cannot post mixed currencies.",
                )


def check_amount_precision(transaction: Transaction) -> None:
    """Hold amounts with fractions of a cent, or implausibly large ones (10^11 and over)."""
    assert transaction.amount is not None
    named = [("amount", transaction.amount.amount)]
    for index, item in enumerate(transaction.line_items):
        named += [
            (f"transactionLineItems[{index}].{name}", money.amount)
            for name, money in item.money_fields().items()
            if name != "unitPrice"
        ]
    for name, value in named:
        if abs(value) >= MAX_AMOUNT:
            raise Unpostable(
                "amount_out_of_range",
                f"{name} is {value}, too large to be a real purchase. Check it in Amazon "
                "Business and post it by hand.",
            )
        if value != value.quantize(CENT):
            raise Unpostable(
                "sub_cent_amount",
                f"{name} is {value}, which has fractions of a cent; Xero needs whole cents. "
                "Post it by hand.",
            )


def check_amounts_add_up(transaction: Transaction, factor: Decimal) -> None:
    """Hold unless every line item and the items together add up to the transaction amount.

    Per line item, principal + shipping + gift wrap + regulatory fee + discount + tax must equal
    ``totalAmount`` (when sent); the items together must equal ``|amount|`` (in document sign,
    whichever way Amazon spelled the refund). Each part of a split
    payment is its own transaction and is posted on its own when its lines add up to its own
    ``amount``; a part whose lines do not (e.g. each part repeating the whole order's lines) is
    held as ``split_payment_unreconciled``: apportioning lines between instruments would be a
    guess.
    """
    assert transaction.amount is not None
    expected = abs(transaction.amount.amount)
    for index, item in enumerate(transaction.line_items):
        parts = components_of(item, factor)
        if item.total_amount is not None and parts.total != item.total_amount.amount * factor:
            raise Unpostable(
                "amounts_do_not_add_up",
                f"Amazon amounts do not add up: line item {index + 1} parts total "
                f"{money_text(parts.total)}, its totalAmount "
                f"{money_text(item.total_amount.amount * factor)}. Nothing was posted; check the "
                "order in Amazon Business and post it by hand.",
            )
    lines_total = sum((components_of(i, factor).total for i in transaction.line_items), ZERO)
    if lines_total == expected:
        return
    others = transaction.associated_transaction_ids
    if others:
        raise Unpostable(
            "split_payment_unreconciled",
            f"This is one part of a split payment (with {', '.join(others)}); its line items "
            f"total {money_text(lines_total)} but this part is {money_text(expected)}. We do "
            "not guess how to divide the items between payment methods: post it by hand.",
        )
    raise Unpostable(
        "amounts_do_not_add_up",
        f"Amazon amounts do not add up: lines total {money_text(lines_total)}, transaction "
        f"amount {money_text(expected)}. Nothing was posted; check the order in Amazon "
        "Business and post it by hand.",
    )


def check_has_line_items(transaction: Transaction, kind: str) -> None:
    """Hold a charge or refund without line items (an over-refund may have none)."""
    if transaction.line_items or kind == "OVERREFUND":
        return
    others = transaction.associated_transaction_ids
    split = f" It is one part of a split payment (with {', '.join(others)})." if others else ""
    raise Unpostable(
        "missing_line_items",
        f"Amazon sent this {kind.lower()} without line items, so we cannot tell what was "
        f"bought.{split} Post it by hand.",
    )


def require_contact(chart: Chart) -> str:
    """Return the Amazon Business supplier ContactID; hold when there is none."""
    if not chart.contact_id:
        raise Unpostable(
            "missing_contact",
            "The Amazon Business supplier contact is not set up in Xero. Repair it under "
            "Manage Integrations.",
        )
    return chart.contact_id


def check_currency_enabled(currency: str, chart: Chart) -> None:
    """Hold when the org has not enabled ``currency``, saying what to change in Xero.

    An org with only its base currency has no multi-currency (or has added no currency yet):
    Xero then refuses any document in another currency, bill or spend money alike.
    """
    if currency in chart.enabled_currencies:
        return
    if chart.enabled_currencies == {chart.base_currency}:
        fix = (
            f"Turn on multi-currency in Xero (a plan that includes it) and add {currency} under "
            "Settings > Currencies"
        )
    else:
        fix = f"Add {currency} under Settings > Currencies in Xero"
    raise Unpostable(
        "currency_not_enabled",
        f"This purchase is in {currency}, which is not enabled in the Xero organisation "
        f"(base currency {chart.base_currency}). {fix}; it is posted by itself once it is "
        "(or post it by hand).",
    )


def check_bank_account_currency(account: Account, currency: str, chart: Chart) -> None:
    """Hold when the bank account is in another currency than the transaction."""
    account_currency = account.currency_code or chart.base_currency
    if account_currency != currency:
        raise Unpostable(
            "bank_account_currency",
            f"This purchase is in {currency} but account {account.label} is in "
            f"{account_currency}; Xero only records spend or receive money in the account's "
            f"currency. Map this payment method to a {currency} account, or post it by hand.",
        )


def check_lock_date(when: date, chart: Chart) -> None:
    """Hold documents dated on or before the org's lock date (the later of ``PeriodLockDate``
    and ``EndOfYearLockDate``)."""
    lock = chart.lock_date
    if lock is not None and when <= lock:
        raise Unpostable(
            "lock_date",
            f"The transaction is dated {when.isoformat()}, on or before the organisation's lock "
            f"date {lock.isoformat()}. Move the lock date in Xero (Advisor) or post it by hand "
            "in an open period.",
        )


def invoice_number_for(transaction: Transaction) -> str:
    """Return Amazon's invoice (or credit-memo) number, required for bills and credit notes."""
    number = (transaction.invoice_number or "").strip()
    if not number:
        raise Unpostable(
            "missing_invoice_number",
            "Amazon has not given an invoice number for this Pay by Invoice transaction yet. "
            "It will be posted once Amazon issues one.",
        )
    return number[:255]


def due_date_for(
    invoice_number: str, bill_date: date, mapping: Mapping, context: PostingContext
) -> date:
    """Return the bill's due date: Amazon's payment details (``PostingContext.bill_due_dates``,
    from ``getBatchInvoicePaymentDetails``), else ``Date`` + ``Mapping.bill_due_days``."""
    known = context.bill_due_dates.get(invoice_number)
    return known if known is not None else bill_date + timedelta(days=mapping.bill_due_days)
