"""Which Xero accounts a transaction posts to: its payment method's mapping and bank account,
expense accounts (the first matching rule, else the default) and line-type accounts, each checked
against the chart."""

from __future__ import annotations

from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.posting.inputs import TREATMENTS
from plugin.posting.inputs import Account
from plugin.posting.inputs import Chart
from plugin.posting.inputs import ExpenseRule
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import PaymentMethodMapping
from plugin.posting.results import Unpostable


def payment_method_label(transaction: Transaction) -> str:
    """``"Visa ending 4242"``, ``"Pay by Invoice"``, or a fallback."""
    kind = transaction.payment_instrument_type or "an unnamed payment method"
    last4 = transaction.payment_instrument_last4_digits
    return f"{kind} ending {last4}" if last4 else kind


def payment_method_for(transaction: Transaction, mapping: Mapping) -> PaymentMethodMapping:
    """Return the mapping entry for the transaction's payment method; hold if unmapped."""
    entry = mapping.payment_method(transaction.payment_method_key)
    if entry is None or entry.treatment not in TREATMENTS:
        raise Unpostable(
            "unmapped_payment_method",
            f"Payment method {payment_method_label(transaction)} is not mapped to a Xero "
            "account yet. Map it under Payment methods.",
        )
    return entry


def _existing_active_account(code: str, chart: Chart, purpose: str, fix: str) -> Account:
    account = chart.account(code)
    if account is None:
        raise Unpostable(
            "unknown_account",
            f"Account {code} (mapped for {purpose}) is not in the Xero chart of accounts. "
            f"Choose another account under {fix}.",
        )
    if account.status != "ACTIVE":
        raise Unpostable(
            "archived_account",
            f"Account {account.label} (mapped for {purpose}) is {account.status.lower()} in "
            f"Xero. Choose another account under {fix}, or restore it in Xero.",
        )
    return account


def bank_account_for(
    entry: PaymentMethodMapping, transaction: Transaction, chart: Chart
) -> Account:
    """Return the ACTIVE ``BANK`` account a spend-money payment method posts to."""
    label = payment_method_label(transaction)
    if not entry.account_code:
        raise Unpostable(
            "unmapped_payment_method",
            f"Payment method {label} is not mapped to a Xero account yet. Map it under "
            "Payment methods.",
        )
    account = _existing_active_account(
        entry.account_code, chart, f"payment method {label}", "Payment methods"
    )
    if account.type != "BANK":
        raise Unpostable(
            "wrong_account_type",
            f"Account {account.label} (mapped for payment method {label}) is a {account.type} "
            "account; spend and receive money need a bank or credit-card account (Type BANK). "
            "Choose one under Payment methods.",
        )
    return account


def _unmapped_subject(purpose: str) -> str:
    if purpose.startswith("the "):
        return f"T{purpose[1:]}"
    return f"The account for {purpose}"


def line_account(code: str | None, chart: Chart, purpose: str, fix: str) -> str:
    """Return ``code`` if it can take expense lines: mapped, in the chart, active, not a bank."""
    if not code:
        raise Unpostable(
            "unmapped_account",
            f"{_unmapped_subject(purpose)} is not mapped yet. Map it under {fix}.",
        )
    account = _existing_active_account(code, chart, purpose, fix)
    if account.type == "BANK" or account.system_account:
        kind = "a bank account" if account.type == "BANK" else "a system account"
        raise Unpostable(
            "wrong_account_type",
            f"Account {account.label} (mapped for {purpose}) is {kind} and cannot take "
            f"expense lines. Choose another account under {fix}.",
        )
    return code


def rule_matches(rule: ExpenseRule, transaction: Transaction, item: TransactionLineItem) -> bool:
    """Return whether ``rule`` applies to this line item (exact, case-sensitive matches)."""
    if rule.field == "business_order_info":
        info = item.business_order_info or {}
        return rule.key is not None and info.get(rule.key) == rule.value
    if rule.field == "unspsc_prefix":
        return bool(rule.value) and (item.unspsc or "").startswith(rule.value)
    if rule.field == "legal_entity":
        return transaction.legal_entity_name == rule.value
    if rule.field == "customer_group":
        return transaction.purchasing_customer_group_name == rule.value
    return False


def _rule_text(rule: ExpenseRule) -> str:
    if rule.field == "business_order_info":
        return f"the expense rule {rule.key} = {rule.value}"
    names = {
        "unspsc_prefix": "UNSPSC starting",
        "legal_entity": "legal entity",
        "customer_group": "group",
    }
    return f"the expense rule {names.get(rule.field, rule.field)} {rule.value}"


def expense_account_for(
    transaction: Transaction, item: TransactionLineItem, mapping: Mapping, chart: Chart
) -> str:
    """Return the item's expense account: the first matching rule, else the default."""
    for rule in mapping.expense_rules:
        if rule_matches(rule, transaction, item):
            return line_account(rule.account_code, chart, _rule_text(rule), "Expenses")
    return line_account(
        mapping.expense_default_account_code, chart, "the default expense account", "Expenses"
    )
