"""What we read from Xero, typed: one frozen pydantic model per resource, with only the fields the
app uses (attributes snake_case, aliased to Xero's names; other fields ignored).

Money is ``Decimal`` read from the JSON text without passing through ``float`` (``plugin.xero.wire``
parses numbers as ``Decimal``; a ``float`` here is refused). Dates go through the one parser,
``plugin.xero.dates``. ``parse_items`` / ``parse_item`` turn an answer into models and raise
``XeroMalformedResponse`` (naming the resource, the field and the problem) when it does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal
from typing import Annotated
from typing import Any
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import PlainSerializer
from pydantic import PlainValidator
from pydantic import StrictBool
from pydantic import StrictInt
from pydantic import StrictStr
from pydantic import ValidationError

from plugin.xero.dates import optional_xero_date
from plugin.xero.error_mapping import element_messages
from plugin.xero.errors import XeroMalformedResponse

__all__ = [
    "ElementResult",
    "XeroAccount",
    "XeroAllocation",
    "XeroAttachment",
    "XeroBankTransaction",
    "XeroContact",
    "XeroCreditNote",
    "XeroCurrency",
    "XeroInvoice",
    "XeroLineItem",
    "XeroModel",
    "XeroOrganisation",
    "XeroPayment",
    "XeroTaxComponent",
    "XeroTaxRate",
    "XeroTrackingCategory",
    "XeroTrackingOption",
    "element_results",
    "parse_item",
    "parse_items",
]


def _money(value: object) -> Decimal:
    """A Xero amount: a ``Decimal`` (as ``wire.loads`` reads numbers), an int or numeric text."""
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except ArithmeticError:
            parsed = Decimal("NaN")
        if parsed.is_finite():
            return parsed
    if isinstance(value, float):
        raise ValueError("is a float: read Xero's JSON with plugin.xero.wire.loads (exact Decimal)")
    raise ValueError(f"{value!r} is not an amount")


def _optional_money(value: object) -> Decimal | None:
    return None if value is None else _money(value)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


Money = Annotated[Decimal, PlainValidator(_money)]
OptionalMoney = Annotated[Decimal | None, PlainValidator(_optional_money)]
OptionalDate = Annotated[
    date | None, PlainValidator(optional_xero_date), PlainSerializer(_iso, when_used="always")
]
Text = StrictStr | None


class XeroModel(BaseModel):
    """The base of every model: frozen, Xero's field names as aliases, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def document(self) -> dict[str, Any]:
        """The fields we keep, in Xero's own JSON shape (absent ones left out; dates ISO)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class XeroOrganisation(XeroModel):
    """``GET Organisation``: what posting, the chart and the organisation row need."""

    organisation_id: Text = Field(default=None, alias="OrganisationID")
    name: Text = Field(default=None, alias="Name")
    legal_name: Text = Field(default=None, alias="LegalName")
    short_code: Text = Field(default=None, alias="ShortCode")
    base_currency: Text = Field(default=None, alias="BaseCurrency")
    country_code: Text = Field(default=None, alias="CountryCode")
    version: Text = Field(default=None, alias="Version")
    organisation_type: Text = Field(default=None, alias="OrganisationType")
    timezone: Text = Field(default=None, alias="Timezone")
    period_lock_date: OptionalDate = Field(default=None, alias="PeriodLockDate")
    end_of_year_lock_date: OptionalDate = Field(default=None, alias="EndOfYearLockDate")
    financial_year_end_day: StrictInt | None = Field(default=None, alias="FinancialYearEndDay")
    financial_year_end_month: StrictInt | None = Field(default=None, alias="FinancialYearEndMonth")


class XeroAccount(XeroModel):
    """One account of the chart (``GET Accounts``); archived and deleted ones included."""

    account_id: Text = Field(default=None, alias="AccountID")
    code: Text = Field(default=None, alias="Code")
    name: Text = Field(default=None, alias="Name")
    type: Text = Field(default=None, alias="Type")
    status: Text = Field(default=None, alias="Status")
    account_class: Text = Field(default=None, alias="Class")
    tax_type: Text = Field(default=None, alias="TaxType")
    bank_account_type: Text = Field(default=None, alias="BankAccountType")
    currency_code: Text = Field(default=None, alias="CurrencyCode")
    system_account: Text = Field(default=None, alias="SystemAccount")
    enable_payments_to_account: StrictBool | None = Field(
        default=None, alias="EnablePaymentsToAccount"
    )
    show_in_expense_claims: StrictBool | None = Field(default=None, alias="ShowInExpenseClaims")
    reporting_code: Text = Field(default=None, alias="ReportingCode")
    # A moment, not a date, kept as Xero wrote it for support files (nothing reads it).
    updated_date_utc: Text = Field(default=None, alias="UpdatedDateUTC")


class XeroTaxComponent(XeroModel):
    """One component of a tax rate."""

    name: Text = Field(default=None, alias="Name")
    rate: OptionalMoney = Field(default=None, alias="Rate")
    is_compound: StrictBool | None = Field(default=None, alias="IsCompound")
    is_non_recoverable: StrictBool | None = Field(default=None, alias="IsNonRecoverable")


class XeroTaxRate(XeroModel):
    """One tax rate (``GET TaxRates``); ``EffectiveRate`` is a percentage (``20.0000``)."""

    name: Text = Field(default=None, alias="Name")
    tax_type: Text = Field(default=None, alias="TaxType")
    status: Text = Field(default=None, alias="Status")
    report_tax_type: Text = Field(default=None, alias="ReportTaxType")
    can_apply_to_assets: StrictBool | None = Field(default=None, alias="CanApplyToAssets")
    can_apply_to_equity: StrictBool | None = Field(default=None, alias="CanApplyToEquity")
    can_apply_to_expenses: StrictBool | None = Field(default=None, alias="CanApplyToExpenses")
    can_apply_to_liabilities: StrictBool | None = Field(default=None, alias="CanApplyToLiabilities")
    can_apply_to_revenue: StrictBool | None = Field(default=None, alias="CanApplyToRevenue")
    display_tax_rate: OptionalMoney = Field(default=None, alias="DisplayTaxRate")
    effective_rate: OptionalMoney = Field(default=None, alias="EffectiveRate")
    tax_components: tuple[XeroTaxComponent, ...] | None = Field(default=None, alias="TaxComponents")


class XeroCurrency(XeroModel):
    """One currency the organisation has enabled (``GET Currencies``)."""

    code: StrictStr = Field(alias="Code")
    description: Text = Field(default=None, alias="Description")


class XeroTrackingOption(XeroModel):
    """One option of a tracking category."""

    tracking_option_id: Text = Field(default=None, alias="TrackingOptionID")
    name: Text = Field(default=None, alias="Name")
    status: Text = Field(default=None, alias="Status")


class XeroTrackingCategory(XeroModel):
    """One tracking category (``GET TrackingCategories``) and its options."""

    tracking_category_id: StrictStr = Field(alias="TrackingCategoryID")
    name: Text = Field(default=None, alias="Name")
    status: Text = Field(default=None, alias="Status")
    options: tuple[XeroTrackingOption, ...] = Field(default=(), alias="Options")


class XeroContact(XeroModel):
    """A contact: the "Amazon Business" supplier is read, created, renamed and re-checked."""

    contact_id: StrictStr = Field(alias="ContactID")
    name: Text = Field(default=None, alias="Name")
    contact_status: StrictStr = Field(default="ACTIVE", alias="ContactStatus")
    merged_to_contact_id: Text = Field(default=None, alias="MergedToContactID")


class XeroLineItem(XeroModel):
    """A document's line: its description carries our Amazon transaction id (recovery)."""

    description: Text = Field(default=None, alias="Description")
    line_amount: OptionalMoney = Field(default=None, alias="LineAmount")


class XeroBankTransaction(XeroModel):
    """A spend or receive money transaction (found again by its ``Reference``)."""

    bank_transaction_id: StrictStr = Field(alias="BankTransactionID")
    type: Text = Field(default=None, alias="Type")
    status: Text = Field(default=None, alias="Status")
    reference: Text = Field(default=None, alias="Reference")
    date: OptionalDate = Field(default=None, alias="Date")
    total: OptionalMoney = Field(default=None, alias="Total")
    line_items: tuple[XeroLineItem, ...] = Field(default=(), alias="LineItems")


class XeroInvoice(XeroModel):
    """A bill (``ACCPAY``): ``AmountDue`` is what a payment or an allocation may cover."""

    invoice_id: StrictStr = Field(alias="InvoiceID")
    invoice_number: Text = Field(default=None, alias="InvoiceNumber")
    type: Text = Field(default=None, alias="Type")
    status: Text = Field(default=None, alias="Status")
    date: OptionalDate = Field(default=None, alias="Date")
    due_date: OptionalDate = Field(default=None, alias="DueDate")
    total: OptionalMoney = Field(default=None, alias="Total")
    amount_due: Money = Field(alias="AmountDue")
    amount_paid: OptionalMoney = Field(default=None, alias="AmountPaid")
    amount_credited: OptionalMoney = Field(default=None, alias="AmountCredited")
    line_items: tuple[XeroLineItem, ...] = Field(default=(), alias="LineItems")


class XeroInvoiceRef(XeroModel):
    """The bill an allocation or a payment is against."""

    invoice_id: Text = Field(default=None, alias="InvoiceID")


class XeroAllocation(XeroModel):
    """A credit note allocated to a bill (``PUT CreditNotes/{id}/Allocations``, or one of a
    credit note's ``Allocations``)."""

    allocation_id: Text = Field(default=None, alias="AllocationID")
    amount: Money = Field(alias="Amount")
    date: OptionalDate = Field(default=None, alias="Date")
    invoice: XeroInvoiceRef | None = Field(default=None, alias="Invoice")


class XeroCreditNote(XeroModel):
    """A supplier credit note (``ACCPAYCREDIT``); ``RemainingCredit`` is left to allocate."""

    credit_note_id: StrictStr = Field(alias="CreditNoteID")
    credit_note_number: Text = Field(default=None, alias="CreditNoteNumber")
    type: Text = Field(default=None, alias="Type")
    status: Text = Field(default=None, alias="Status")
    date: OptionalDate = Field(default=None, alias="Date")
    total: OptionalMoney = Field(default=None, alias="Total")
    remaining_credit: Money = Field(alias="RemainingCredit")
    line_items: tuple[XeroLineItem, ...] = Field(default=(), alias="LineItems")
    allocations: tuple[XeroAllocation, ...] = Field(default=(), alias="Allocations")


class XeroPayment(XeroModel):
    """A payment on a bill (a ``DELETED`` one no longer counts)."""

    payment_id: StrictStr = Field(alias="PaymentID")
    status: StrictStr = Field(default="AUTHORISED", alias="Status")
    date: OptionalDate = Field(default=None, alias="Date")
    amount: OptionalMoney = Field(default=None, alias="Amount")
    reference: Text = Field(default=None, alias="Reference")
    invoice: XeroInvoiceRef | None = Field(default=None, alias="Invoice")
    # Foreign-currency documents: Xero's rate (foreign units per base unit) and the amount in
    # the paying account's currency.
    currency_rate: OptionalMoney = Field(default=None, alias="CurrencyRate")
    bank_amount: OptionalMoney = Field(default=None, alias="BankAmount")


class XeroAttachment(XeroModel):
    """A file attached to a document."""

    attachment_id: Text = Field(default=None, alias="AttachmentID")
    file_name: StrictStr = Field(alias="FileName")


Model = TypeVar("Model", bound=XeroModel)


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(the object)"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def parse_item(model: type[Model], item: object, where: str) -> Model:
    """One model from one JSON object of an answer (``where`` names it, e.g. ``Invoices[0]``)."""
    if not isinstance(item, dict):
        raise XeroMalformedResponse(f"Xero's {where} is not a JSON object")
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise XeroMalformedResponse(f"Xero's {where} is malformed: {_problem(exc)}") from None


def parse_items(model: type[Model], body: object, key: str) -> list[Model]:
    """The models of an answer's ``key`` list (``{"Invoices": [...]}``; absent or null: none)."""
    if not isinstance(body, dict):
        raise XeroMalformedResponse(f"Xero's answer holding {key} is not a JSON object")
    items = body.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise XeroMalformedResponse(f"Xero's {key} is not a list")
    return [parse_item(model, item, f"{key}[{index}]") for index, item in enumerate(items)]


@dataclass
class ElementResult:
    """The outcome of one element of a batch write (``element``: Xero's answer for it)."""

    index: int
    ok: bool
    xero_id: str | None
    messages: list[str] = field(default_factory=list)
    element: dict[str, Any] = field(default_factory=dict)


def element_results(body: object, key: str, id_field: str, expected: int) -> list[ElementResult]:
    """The per-element outcomes of a batch write (``summarizeErrors=false``) of ``expected``."""
    returned = body.get(key) if isinstance(body, dict) else None
    if not isinstance(returned, list) or len(returned) != expected:
        count = len(returned) if isinstance(returned, list) else 0
        raise XeroMalformedResponse(f"Xero returned {count} results for {expected} {key}")
    results = []
    for index, element in enumerate(returned):
        if not isinstance(element, dict):
            raise XeroMalformedResponse(f"Xero's {key}[{index}] is not a JSON object")
        messages = element_messages(element)
        ok = element.get("StatusAttributeString", "OK") != "ERROR" and not messages
        xero_id = element.get(id_field) if ok else None
        results.append(
            ElementResult(
                index=index,
                ok=ok,
                xero_id=None if xero_id is None else str(xero_id),
                messages=messages,
                element=element,
            )
        )
    return results
