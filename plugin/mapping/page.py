"""What the mapping page shows: every payment method and Amazon tax rate seen, the stored mapping
with suggestions filling its gaps (flagged as such), each row with its choices (``options``).

``load_inputs`` reads Xero (the cached chart), the database (payment methods, ledger tax rates,
stored mapping); it raises Xero's errors for the view to explain. ``build_page`` is pure: the
inputs and a mapping to show (the stored one, or a just-posted section) in, a ``MappingPage`` out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation
from typing import Final

from flask import Flask
from sqlmodel import Session
from sqlmodel import select

from plugin.infra.queues import get_redis
from plugin.mapping.chart import cached_chart_document
from plugin.mapping.chart import chart_from_document
from plugin.mapping.chart import payments_enabled_codes
from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import rate_key
from plugin.mapping.forms import rate_slug
from plugin.mapping.forms import tax_field
from plugin.mapping.options import Option
from plugin.mapping.options import OptionGroup
from plugin.mapping.options import bank_choices
from plugin.mapping.options import expense_choices
from plugin.mapping.options import payable_choices
from plugin.mapping.options import tax_choices
from plugin.mapping.options import with_current
from plugin.mapping.rows import MappingStoreError
from plugin.mapping.store import load_mapping
from plugin.mapping.store import payment_method_rows
from plugin.mapping.suggestions import Suggestions
from plugin.mapping.suggestions import suggest_mapping
from plugin.mapping.suggestions import suggest_treatment
from plugin.mapping.tracking_page import TrackingRow
from plugin.mapping.tracking_page import tracking_rows
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.posting import SAME_AS_ITEM
from plugin.posting import Chart
from plugin.posting import Mapping
from plugin.posting import percent_text
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)

PAGE_XERO_WAIT: Final = 3.0  # seconds a page may wait for the shared Xero limiter
RULE_FIELDS: Final = {
    "business_order_info": "Business order info (e.g. GL code)",
    "unspsc_prefix": "UNSPSC code starts with",
    "legal_entity": "Legal entity",
    "customer_group": "Group",
}
LINE_TYPE_LABELS: Final = {
    "shipping": ("Shipping", "Delivery charges on each item."),
    "gift_wrap": ("Gift wrap", "Gift wrapping charges."),
    "regulatory_fee": ("Regulatory fees", "Fees such as recycling or battery levies."),
    "discount": ("Discounts and promotions", "Usually the same account as the item."),
    "tax": ("Tax that cannot be reclaimed", "Used when a tax rate is mapped to a 0% rate."),
}
TREATMENT_LABELS: Final = {
    "spend_money": "Spend money (card or balance)",
    "bill": "Bill (Pay by Invoice)",
}


# --- Inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingInputs:
    """Everything the mapping page is built from."""

    chart: Chart
    payments_enabled: frozenset[str]
    methods: tuple[PaymentMethod, ...]
    rates_seen: tuple[Decimal, ...]
    stored: Mapping
    stored_unreadable: bool = False


def tax_rates_seen(session: Session, org_id: int) -> list[Decimal]:
    """Return the distinct Amazon ``taxRate`` values in the org's ledger, highest first."""
    seen: set[Decimal] = set()
    payloads = session.exec(
        select(LedgerEntry.raw_payload).where(LedgerEntry.organisation_id == org_id)
    )
    for payload in payloads:
        items = payload.get("transactionLineItems") if isinstance(payload, dict) else None
        for item in items if isinstance(items, list) else ():
            rate = _rate(item.get("taxRate")) if isinstance(item, dict) else None
            if rate is not None:
                seen.add(rate)
    return sorted(seen, reverse=True)


def _rate(value: object) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return rate if rate.is_finite() and 0 <= rate < 1 else None


def stored_mapping(session: Session, org_id: int) -> tuple[Mapping, bool]:
    """Return (the stored mapping, whether it could not be read and was replaced by empty)."""
    try:
        return load_mapping(session, org_id), False
    except MappingStoreError as exc:
        log.warning("unreadable mapping of org %s: %s", org_id, exc)
        return Mapping(), True


def load_inputs(app: Flask, session: Session, org: Organisation) -> MappingInputs:
    """Read the chart (cached) and the org's data; raises XeroError when Xero cannot answer."""
    client = xero_client(org, app, max_wait=PAGE_XERO_WAIT)
    document = cached_chart_document(get_redis(app), client, org)
    org_id = int(org.id or 0)
    stored, unreadable = stored_mapping(session, org_id)
    return MappingInputs(
        chart=chart_from_document(document),
        payments_enabled=payments_enabled_codes(document),
        methods=tuple(payment_method_rows(session, org_id)),
        rates_seen=tuple(tax_rates_seen(session, org_id)),
        stored=stored,
        stored_unreadable=unreadable,
    )


# --- Page rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodRow:
    """One payment method on the page."""

    id: int
    key: str
    label: str
    new: bool
    treatment: str
    account_code: str | None
    payment_account_code: str | None
    suggested: bool
    suggested_treatment: str
    bank_groups: list[OptionGroup]
    payable_groups: list[OptionGroup]
    foreign_currency: str = "hold"


@dataclass(frozen=True)
class RuleRow:
    """One expense rule (the last row of the section is a blank one to add a rule)."""

    index: int
    field: str
    key: str
    value: str
    account_code: str
    groups: list[OptionGroup]


@dataclass(frozen=True)
class TaxRow:
    """One Amazon tax rate and its Xero tax type."""

    rate: str
    slug: str
    field: str
    label: str
    tax_type: str | None
    suggested: bool
    seen: bool
    groups: list[OptionGroup]


@dataclass(frozen=True)
class LineTypeRow:
    """One non-item line type and its account."""

    name: str
    label: str
    help: str
    value: str | None
    suggested: bool
    groups: list[OptionGroup]


@dataclass
class MappingPage:
    """The whole page (each section template reads its part)."""

    methods: list[MethodRow]
    expense_default: str | None
    expense_default_suggested: bool
    expense_groups: list[OptionGroup]
    rules: list[RuleRow]
    rule_fields: dict[str, str]
    taxes: list[TaxRow]
    unreclaimable_tax: str
    line_types: list[LineTypeRow]
    errors: dict[str, str] = field(default_factory=dict)
    general: dict[str, list[str]] = field(default_factory=dict)
    saved: dict[str, str] = field(default_factory=dict)
    stored_unreadable: bool = False
    tracking: list[TrackingRow] = field(default_factory=list)
    tracking_categories: int = 0  # how many active categories the organisation has in Xero
    posted_before: int = 0  # after a save: documents already in Xero (a remap may correct them)
    org_id: int = 0

    @property
    def new_methods(self) -> int:
        """How many payment methods are newly seen (not acknowledged yet)."""
        return sum(1 for m in self.methods if m.new)


def suggestions_for(inputs: MappingInputs, shown: Mapping) -> Suggestions:
    """Fill the gaps of ``shown``; payment methods already acknowledged get no suggestion."""
    unseen = [(m.instrument_type, m.last4) for m in inputs.methods if not m.acknowledged]
    return suggest_mapping(inputs.chart, unseen, inputs.rates_seen, current=shown)


def _method_rows(inputs: MappingInputs, display: Suggestions) -> list[MethodRow]:
    chart = inputs.chart
    banks = bank_choices(chart)
    payable = payable_choices(chart, inputs.payments_enabled)
    rows = []
    for method in inputs.methods:
        entry = display.mapping.payment_method(method.key)
        rows.append(
            MethodRow(
                id=int(method.id or 0),
                key=method.key,
                label=method.label or method.key,
                new=not method.acknowledged,
                treatment=entry.treatment if entry else "",
                account_code=entry.account_code if entry else None,
                payment_account_code=entry.payment_account_code if entry else None,
                suggested=display.is_suggested("payment_method", method.key),
                suggested_treatment=suggest_treatment(method.instrument_type, method.last4),
                bank_groups=with_current(
                    banks, entry.account_code if entry else None, "not a bank or card account"
                ),
                payable_groups=with_current(
                    payable, entry.payment_account_code if entry else None, "cannot pay bills"
                ),
                foreign_currency=entry.foreign_currency if entry else "hold",
            )
        )
    return rows


def _rule_rows(mapping: Mapping, groups: list[OptionGroup]) -> list[RuleRow]:
    rows = [
        RuleRow(
            i,
            rule.field,
            rule.key or "",
            rule.value,
            rule.account_code,
            with_current(groups, rule.account_code, "cannot take purchases"),
        )
        for i, rule in enumerate(mapping.expense_rules)
    ]
    rows.append(RuleRow(len(rows), "business_order_info", "", "", "", groups))
    return rows


def _tax_rows(inputs: MappingInputs, display: Suggestions) -> list[TaxRow]:
    seen = set(inputs.rates_seen)
    rates = sorted(seen | {t.rate for t in display.mapping.tax_rates}, reverse=True)
    rows = []
    for rate in rates:
        chosen = display.mapping.tax_type_for(rate)
        rows.append(
            TaxRow(
                rate=rate_key(rate),
                slug=rate_slug(rate),
                field=tax_field(rate),
                label=f"Amazon {percent_text(rate)}",
                tax_type=chosen,
                suggested=display.is_suggested("tax", rate_key(rate)),
                seen=rate in seen,
                groups=with_current(
                    tax_choices(inputs.chart, rate), chosen, "not usable for this rate"
                ),
            )
        )
    return rows


def _line_type_rows(display: Suggestions, groups: list[OptionGroup]) -> list[LineTypeRow]:
    rows = []
    for name in LINE_TYPE_NAMES:
        label, help_text = LINE_TYPE_LABELS[name]
        value = getattr(display.mapping.line_types, name)
        choices = groups
        if name == "discount":
            choices = [OptionGroup("Usual", (Option(SAME_AS_ITEM, "Same account as the item"),))]
            choices += groups
        rows.append(
            LineTypeRow(
                name=name,
                label=label,
                help=help_text,
                value=value,
                suggested=display.is_suggested("line_type", name),
                groups=with_current(choices, value, "cannot take purchases"),
            )
        )
    return rows


def build_page(inputs: MappingInputs, shown: Mapping | None = None) -> MappingPage:
    """Return the page for ``shown`` (default: the stored mapping), suggestions in its gaps."""
    display = suggestions_for(inputs, inputs.stored if shown is None else shown)
    expenses = expense_choices(inputs.chart)
    default = display.mapping.expense_default_account_code
    return MappingPage(
        methods=_method_rows(inputs, display),
        expense_default=default,
        expense_default_suggested=display.is_suggested("expense_default"),
        expense_groups=with_current(expenses, default, "cannot take purchases"),
        rules=_rule_rows(display.mapping, expenses),
        rule_fields=dict(RULE_FIELDS),
        taxes=_tax_rows(inputs, display),
        unreclaimable_tax=display.mapping.unreclaimable_tax,
        line_types=_line_type_rows(display, expenses),
        stored_unreadable=inputs.stored_unreadable,
        tracking=tracking_rows(display.mapping, inputs.chart),
        tracking_categories=sum(
            1 for c in inputs.chart.tracking_categories if c.status == "ACTIVE"
        ),
    )


def unmapped_rows(methods: Sequence[MethodRow]) -> list[MethodRow]:
    """Return the payment methods shown without a treatment."""
    return [m for m in methods if not m.treatment]
