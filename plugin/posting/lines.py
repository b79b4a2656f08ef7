"""The Xero lines of a document, in ``Decimal``: each Amazon line item's item line and its
shipping, gift-wrap, fee and discount lines (all carrying the item's tracking,
``posting.tracking``), unreclaimable tax lines, the over-refund line, and the totals invariant
every document must meet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.posting.accounts import expense_account_for
from plugin.posting.accounts import line_account
from plugin.posting.amounts import CENT
from plugin.posting.amounts import ZERO
from plugin.posting.amounts import Components
from plugin.posting.amounts import components_of
from plugin.posting.amounts import percent_text
from plugin.posting.coding import FIX as CODING_FIX
from plugin.posting.coding import PURPOSE as CODING_PURPOSE
from plugin.posting.coding import LineCoding
from plugin.posting.inputs import SAME_AS_ITEM
from plugin.posting.inputs import Chart
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import PostingContext
from plugin.posting.results import InvariantViolation
from plugin.posting.rounding import TaxDifference
from plugin.posting.rounding import add_difference
from plugin.posting.rounding import settle
from plugin.posting.tax import NO_TAX
from plugin.posting.tax import fee_is_taxed
from plugin.posting.tax import no_tax_type
from plugin.posting.tax import tax_treatment_for
from plugin.posting.tax import xero_line_tax
from plugin.posting.tracking import LineTracking
from plugin.posting.tracking import chosen_tracking
from plugin.posting.tracking import tracking_for


def with_original_details(
    item: TransactionLineItem, context: PostingContext
) -> TransactionLineItem:
    """Fill a refund line's missing title/ASIN/UNSPSC/businessOrderInfo from its charge line.

    A refund line usually lacks them; the charge's line (same ``orderId`` + ``orderLineItemId``,
    from ``PostingContext.original_line_items`` or a CHARGE in the same ``translate_all`` input)
    fills them in, so expense rules pick the same account as the charge did.
    """
    if item.order_id is None or item.order_line_item_id is None:
        return item
    original = context.original_line_items.get((item.order_id, item.order_line_item_id))
    if original is None:
        return item
    fill = {
        "product_title": item.product_title or original.product_title,
        "asin": item.asin or original.asin,
        "unspsc": item.unspsc or original.unspsc,
        "business_order_info": item.business_order_info or original.business_order_info,
        "purchase_order_number": item.purchase_order_number or original.purchase_order_number,
        "budget_id": item.budget_id or original.budget_id,
    }
    return item.model_copy(update=fill)


@dataclass(frozen=True)
class Line:
    """One Xero line item, in ``Decimal``; ``quantity`` x ``unit_amount`` == ``amount``."""

    description: str
    account_code: str
    amount: Decimal
    tax_type: str
    tax_amount: Decimal = ZERO
    quantity: int = 1
    tracking: tuple[LineTracking, ...] = ()

    @property
    def unit_amount(self) -> Decimal:
        """``amount / quantity``, exact to the cent by construction."""
        return self.amount / self.quantity


def quantity_for(amount: Decimal, item_quantity: int | None) -> int:
    """Return ``itemQuantity`` when ``amount`` divides by it to the cent, else 1.

    ``LineAmount`` is always the principal exactly; with quantity 1 the item's quantity is
    written in the description instead.
    """
    if item_quantity is None or item_quantity < 1:
        return 1
    cents = amount / CENT
    return item_quantity if cents % item_quantity == 0 else 1


def item_description(
    item: TransactionLineItem, kind: str, quantity_shown: bool, buyer: str | None = None
) -> str:
    """``"Pencils (ASIN B07..., order 203-..., PO PO-7781, bought by Jane Buyer)"``, noting
    refunds and unshown quantities: the buyer's purchase order number and name are where a
    bookkeeper looks for them (and Xero's search finds them)."""
    title = item.product_title or "Amazon item"
    details = []
    if not quantity_shown and item.item_quantity is not None and item.item_quantity > 1:
        details.append(f"quantity {item.item_quantity}")
    if item.asin:
        details.append(f"ASIN {item.asin}")
    if item.order_id:
        details.append(f"order {item.order_id}")
    if item.purchase_order_number and item.purchase_order_number.strip():
        details.append(f"PO {item.purchase_order_number.strip()}")
    if buyer and buyer.strip():
        details.append(f"bought by {buyer.strip()}")
    text = f"{title} ({', '.join(details)})" if details else title
    if kind != "CHARGE":
        reason = f": {item.refund_reason}" if item.refund_reason else ""
        text = f"Refund{reason} - {text}"
    return text


def _item_ref(item: TransactionLineItem) -> str:
    title = item.product_title or "Amazon item"
    return f"{title} (order {item.order_id})" if item.order_id else title


class Extra(NamedTuple):
    """One of an item's extra charges or credits: ``kind`` is its ``Components`` field name."""

    kind: str
    description: str
    account_code: str
    amount: Decimal


def component_lines(
    item: TransactionLineItem,
    parts: Components,
    item_account: str,
    mapping: Mapping,
    chart: Chart,
) -> list[Extra]:
    """Return the item's non-zero extra charges/credits (shipping, gift wrap, fee, discount)."""
    ref = _item_ref(item)
    line_types = mapping.line_types
    wanted = [
        ("shipping", "shipping", "Shipping for", parts.shipping, line_types.shipping),
        ("gift_wrap", "gift wrap", "Gift wrap for", parts.gift_wrap, line_types.gift_wrap),
        (
            "regulatory_fee",
            "regulatory fee",
            "Regulatory fee for",
            parts.regulatory_fee,
            line_types.regulatory_fee,
        ),
    ]
    lines = []
    for kind, name, prefix, amount, code in wanted:
        if amount != 0:
            account = line_account(code, chart, f"{name} charges", "Line types")
            lines.append(Extra(kind, f"{prefix} {ref}", account, amount))
    if parts.discount != 0:
        if line_types.discount == SAME_AS_ITEM:
            account = item_account
        else:
            account = line_account(line_types.discount, chart, "discounts", "Line types")
        lines.append(Extra("discount", f"Discount on {ref}", account, parts.discount))
    return lines


@dataclass(frozen=True)
class ItemLines:
    """The Xero lines for one Amazon line item, any unreclaimable tax set aside, and the item's
    reclaimable tax (Amazon's, and Xero's per-line figures) for ``rounding``."""

    lines: list[Line]
    unreclaimable_tax: Decimal
    rate: Decimal
    tax_type: str = NO_TAX
    amazon_tax: Decimal = ZERO
    xero_tax: Decimal = ZERO
    tracking: tuple[LineTracking, ...] = ()


def lines_for_item(
    transaction: Transaction,
    item: TransactionLineItem,
    kind: str,
    factor: Decimal,
    mapping: Mapping,
    chart: Chart,
    coding: LineCoding | None = None,
) -> ItemLines:
    """Return the Xero lines for one Amazon line item (item line first).

    Reclaimable tax: every line carries the item's tax type and the tax Xero computes for it
    (``xero_line_tax``), except a regulatory fee Amazon charged no tax on (``fee_is_taxed``),
    which carries ``NONE``; the cents between those figures and Amazon's ``tax`` are posted by
    ``rounding.settle`` for the whole document. Unreclaimable tax (US sales tax) is, per
    ``Mapping.unreclaimable_tax``, set aside for a separate ``NONE`` line (``separate_line``) or
    added to the item line (``fold_into_item``). ``coding``: the account, tax rate and tracking
    the bookkeeper chose for this item in review, where they replace the mapping's
    (``posting.coding``).
    """
    coding = coding or LineCoding()
    parts = components_of(item, factor)
    item_account = _item_account(transaction, item, mapping, chart, coding)
    tracking = _item_tracking(transaction, item, mapping, chart, coding)
    extras = component_lines(item, parts, item_account, mapping, chart)
    treatment = tax_treatment_for(item, parts, mapping, chart, coding.tax_type)
    principal = parts.principal
    set_aside = ZERO
    tax_types = [treatment.tax_type] * (1 + len(extras))
    taxes = [ZERO] * (1 + len(extras))
    if treatment.reclaimable:
        fee_taxed = fee_is_taxed(item, parts, treatment.rate, len(extras))
        amounts = [principal, *(extra.amount for extra in extras)]
        for index, extra in enumerate(extras, start=1):
            if extra.kind == "regulatory_fee" and not fee_taxed:
                tax_types[index] = no_tax_type(chart, "a regulatory fee Amazon charged no tax on")
        taxes = [
            xero_line_tax(amount, treatment.rate) if tax_type == treatment.tax_type else ZERO
            for amount, tax_type in zip(amounts, tax_types, strict=True)
        ]
    elif mapping.unreclaimable_tax == "fold_into_item":
        principal += parts.tax
    else:
        set_aside = parts.tax
    quantity = quantity_for(principal, item.item_quantity)
    buyer = transaction.buyer.name if transaction.buyer is not None else None
    first = Line(
        description=item_description(item, kind, quantity_shown=quantity != 1, buyer=buyer),
        account_code=item_account,
        amount=principal,
        tax_type=tax_types[0],
        tax_amount=taxes[0],
        quantity=quantity,
        tracking=tracking,
    )
    rest = [
        Line(extra.description, extra.account_code, extra.amount, tax_type, tax, 1, tracking)
        for extra, tax_type, tax in zip(extras, tax_types[1:], taxes[1:], strict=True)
    ]
    if not treatment.reclaimable:
        return ItemLines([first, *rest], set_aside, treatment.rate, tracking=tracking)
    return ItemLines(
        [first, *rest],
        set_aside,
        treatment.rate,
        treatment.tax_type,
        parts.tax,
        sum(taxes, ZERO),
        tracking,
    )


def _item_account(
    transaction: Transaction,
    item: TransactionLineItem | None,
    mapping: Mapping,
    chart: Chart,
    coding: LineCoding,
) -> str:
    if coding.account_code is not None:
        return line_account(coding.account_code, chart, CODING_PURPOSE, CODING_FIX)
    if item is None:  # the single line of an over-refund
        return line_account(
            mapping.expense_default_account_code,
            chart,
            "the default expense account (used for over-refunds)",
            "Expenses",
        )
    return expense_account_for(transaction, item, mapping, chart)


def _item_tracking(
    transaction: Transaction,
    item: TransactionLineItem | None,
    mapping: Mapping,
    chart: Chart,
    coding: LineCoding,
) -> tuple[LineTracking, ...]:
    if coding.tracking is not None:
        return chosen_tracking(coding.tracking, chart)
    return tracking_for(transaction, item, mapping, chart)


def unreclaimable_tax_lines(items: list[ItemLines], mapping: Mapping, chart: Chart) -> list[Line]:
    """One ``NONE`` line per rate and tracking for tax the org cannot reclaim
    (``separate_line``): the tax of items tracked differently stays on their own lines."""
    by_rate: dict[tuple[Decimal, tuple[LineTracking, ...]], Decimal] = {}
    for entry in items:
        if entry.unreclaimable_tax != 0:
            key = (entry.rate, entry.tracking)
            by_rate[key] = by_rate.get(key, ZERO) + entry.unreclaimable_tax
    if not by_rate:
        return []
    account = line_account(mapping.line_types.tax, chart, "unreclaimable tax", "Line types")
    no_tax_type(chart, "tax that cannot be reclaimed")
    return [
        Line(
            f"Tax at {percent_text(rate)} charged by Amazon (not reclaimable)",
            account,
            amount,
            NO_TAX,
            tracking=tracking,
        )
        for (rate, tracking), amount in sorted(
            by_rate.items(), key=lambda kv: (kv[0][0], [(t.category, t.option) for t in kv[0][1]])
        )
    ]


def over_refund_line(
    transaction: Transaction, mapping: Mapping, chart: Chart, coding: LineCoding | None = None
) -> Line:
    """The single line of an over-refund that came without line items.

    Goodwill: ``|amount|`` to the default expense account (or the account chosen in review)
    with ``TaxType`` ``NONE``. It reduces the cost of purchases, and Amazon reported no tax to
    reclaim or reverse.
    """
    assert transaction.amount is not None
    coding = coding or LineCoding()
    account = _item_account(transaction, None, mapping, chart, coding)
    no_tax_type(chart, "over-refunds without line items")
    return Line(
        "Amazon over-refund (goodwill credit)",
        account,
        abs(transaction.amount.amount),
        NO_TAX,
        tracking=_item_tracking(transaction, None, mapping, chart, coding),
    )


def build_lines(
    transaction: Transaction,
    kind: str,
    factor: Decimal,
    mapping: Mapping,
    chart: Chart,
    context: PostingContext,
    bank: bool = False,
) -> list[Line]:
    """Return every Xero line of the document, in Amazon's order, tax lines last.

    ``bank`` says the document is a bank transaction, where Xero refuses a ``TaxAmount`` other
    than its own: ``rounding.settle`` then posts the cents of tax rounding as a pair of lines,
    on a bill or credit note on one line's ``TaxAmount``.
    """
    coding = context.codings.get(transaction.transaction_id)
    if not transaction.line_items:
        return [over_refund_line(transaction, mapping, chart, coding.line(0) if coding else None)]
    items = []
    for index, item in enumerate(transaction.line_items):
        source = with_original_details(item, context) if kind != "CHARGE" else item
        chosen = coding.line(index) if coding else None
        items.append(lines_for_item(transaction, source, kind, factor, mapping, chart, chosen))
    lines = [line for entry in items for line in entry.lines]
    differences: dict[str, TaxDifference] = {}
    for entry in items:
        if entry.amazon_tax != 0 or entry.xero_tax != 0:
            add_difference(
                differences, entry.tax_type, entry.rate, entry.amazon_tax, entry.xero_tax
            )
    lines = settle(lines, list(differences.values()), bank, chart)
    return lines + unreclaimable_tax_lines(items, mapping, chart)


def check_invariant(lines: list[Line], expected_total: Decimal, transaction_id: str) -> Decimal:
    """Return the document total; raise ``InvariantViolation`` unless it is ``expected_total``.

    Every emitted document is re-checked: sum(``LineAmount``) + sum(``TaxAmount``) ==
    ``|amount|`` and ``Quantity`` x ``UnitAmount`` == ``LineAmount`` on every line. A breach is a
    bug in these rules, never a post.
    """
    for line in lines:
        if (
            line.unit_amount * line.quantity != line.amount
            or line.unit_amount != line.unit_amount.quantize(CENT)
        ):
            raise InvariantViolation(
                f"{transaction_id}: line {line.description!r} does not multiply out"
            )
    total = sum((line.amount + line.tax_amount for line in lines), ZERO)
    if total != expected_total:
        raise InvariantViolation(
            f"{transaction_id}: lines total {total}, transaction amount {expected_total}"
        )
    return total
