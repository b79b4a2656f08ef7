"""CHART.json: the organisation in Xero's own JSON shapes, read into a ``posting.Chart``.

The file ``flask preview`` reads, and the shape ``mapping.chart`` caches what it fetches from Xero
in, so Xero's data passes the same checks as a file. ``load_chart`` raises ``ChartFileError`` (one
line: source, JSON path, problem).

Decisions: ``Organisation.BaseCurrency`` is required; lock dates may be ISO
(``"2026-01-31T00:00:00"``, ``"2026-01-31"``) or MS-JSON (``"/Date(1769817600000+0000)/"``).
Accounts need ``Type`` and ``Status``; tax rates need ``TaxType``, ``Status``, ``EffectiveRate``
and ``CanApplyToExpenses``: guessing any of them could post to an archived account or a wrong
rate. ``Currencies`` is optional (absent: only the base currency). ``Contact`` is optional
(absent: every transaction is held as ``missing_contact``). ``TrackingCategories`` is optional
(absent: none); each needs ``Name`` and ``Status``, each option ``Name`` and ``Status``.
Keys not named here are ignored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field
from pydantic import PlainValidator

from plugin.amazon.values import parse_decimal
from plugin.mapping.json_files import LIST
from plugin.mapping.json_files import REQUIRED
from plugin.mapping.json_files import FileModel
from plugin.mapping.json_files import InputFileError
from plugin.mapping.json_files import OptionalText
from plugin.mapping.json_files import Text
from plugin.mapping.json_files import optional
from plugin.mapping.json_files import present
from plugin.mapping.json_files import problem
from plugin.mapping.json_files import read_model
from plugin.mapping.json_files import show
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import TaxRate
from plugin.posting import TrackingCategory
from plugin.posting import TrackingOption
from plugin.posting import xero_date

__all__ = ["ChartFile", "ChartFileError", "load_chart"]


class ChartFileError(InputFileError):
    """CHART.json is malformed."""


def _currency(value: object) -> str:
    present(value)
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
        raise problem(f"should be a three-letter currency code, got {show(value)}")
    return value


def _date(value: object) -> date:
    try:
        return xero_date(value)
    except ValueError:
        raise problem(
            f'should be a Xero date like "2026-01-31T00:00:00" or '
            f'"/Date(1769817600000+0000)/", got {show(value)}'
        ) from None


def _percentage(value: object) -> Decimal:
    present(value)
    try:
        rate = parse_decimal(value, "a percentage")
    except ValueError as exc:
        raise problem(str(exc)) from None
    if not 0 <= rate <= 100:
        raise problem(f"should be a percentage from 0 to 100, got {show(value)}")
    return rate


def _boolean(value: object) -> bool:
    present(value)
    if not isinstance(value, bool):
        raise problem(f"should be true or false, got {show(value)}")
    return value


Currency = Annotated[str, PlainValidator(_currency)]
OptionalDate = Annotated[date | None, PlainValidator(optional(_date))]


class OrganisationEntry(FileModel):
    """``Organisation``: the base currency, the lock dates and the time zone (Windows-style)."""

    base_currency: Currency = Field(alias="BaseCurrency")
    period_lock_date: OptionalDate = Field(default=None, alias="PeriodLockDate")
    end_of_year_lock_date: OptionalDate = Field(default=None, alias="EndOfYearLockDate")
    timezone: OptionalText = Field(default=None, alias="Timezone")


class ContactEntry(FileModel):
    """``Contact``: the Xero contact posted documents name (the Amazon supplier)."""

    contact_id: Text = Field(alias="ContactID")


class AccountEntry(FileModel):
    """One of ``Accounts``."""

    code: OptionalText = Field(default=None, alias="Code")
    name: OptionalText = Field(default=None, alias="Name")
    account_type: Text = Field(alias="Type")
    status: Text = Field(alias="Status")
    account_id: OptionalText = Field(default=None, alias="AccountID")
    bank_account_type: OptionalText = Field(default=None, alias="BankAccountType")
    currency_code: Annotated[str | None, PlainValidator(optional(_currency))] = Field(
        default=None, alias="CurrencyCode"
    )
    system_account: OptionalText = Field(default=None, alias="SystemAccount")

    def entry(self) -> Account:
        """Return the account."""
        return Account(
            code=self.code,
            name=self.name or "",
            type=self.account_type,
            status=self.status,
            account_id=self.account_id,
            bank_account_type=self.bank_account_type,
            currency_code=self.currency_code,
            system_account=self.system_account,
        )


class TaxRateEntry(FileModel):
    """One of ``TaxRates``."""

    tax_type: Text = Field(alias="TaxType")
    name: OptionalText = Field(default=None, alias="Name")
    status: Text = Field(alias="Status")
    effective_rate: Annotated[Decimal, PlainValidator(_percentage)] = Field(alias="EffectiveRate")
    can_apply_to_expenses: Annotated[bool, PlainValidator(_boolean)] = Field(
        alias="CanApplyToExpenses"
    )

    def entry(self) -> TaxRate:
        """Return the tax rate."""
        return TaxRate(
            tax_type=self.tax_type,
            name=self.name or self.tax_type,
            status=self.status,
            effective_rate=self.effective_rate,
            can_apply_to_expenses=self.can_apply_to_expenses,
        )


class CurrencyEntry(FileModel):
    """One of ``Currencies``."""

    code: Currency = Field(alias="Code")


class TrackingOptionEntry(FileModel):
    """One of a tracking category's ``Options``."""

    name: Text = Field(alias="Name")
    status: Text = Field(alias="Status")
    option_id: OptionalText = Field(default=None, alias="TrackingOptionID")

    def entry(self) -> TrackingOption:
        return TrackingOption(self.name, self.status, self.option_id)


class TrackingCategoryEntry(FileModel):
    """One of ``TrackingCategories``."""

    name: Text = Field(alias="Name")
    status: Text = Field(alias="Status")
    category_id: OptionalText = Field(default=None, alias="TrackingCategoryID")
    options: Annotated[tuple[TrackingOptionEntry, ...], LIST] = Field(default=(), alias="Options")

    def entry(self) -> TrackingCategory:
        return TrackingCategory(
            self.name, self.status, self.category_id, tuple(o.entry() for o in self.options)
        )


class ChartFile(FileModel):
    """The whole of CHART.json."""

    organisation: Annotated[OrganisationEntry, REQUIRED] = Field(alias="Organisation")
    contact: ContactEntry | None = Field(default=None, alias="Contact")
    accounts: Annotated[tuple[AccountEntry, ...], LIST] = Field(default=(), alias="Accounts")
    tax_rates: Annotated[tuple[TaxRateEntry, ...], LIST] = Field(default=(), alias="TaxRates")
    currencies: Annotated[tuple[CurrencyEntry, ...], LIST] = Field(default=(), alias="Currencies")
    tracking_categories: Annotated[tuple[TrackingCategoryEntry, ...], LIST] = Field(
        default=(), alias="TrackingCategories"
    )

    def chart(self) -> Chart:
        """Return the ``posting.Chart`` the file describes."""
        base = self.organisation.base_currency
        return Chart(
            base_currency=base,
            accounts=tuple(entry.entry() for entry in self.accounts),
            tax_rates=tuple(entry.entry() for entry in self.tax_rates),
            currencies=frozenset(entry.code for entry in self.currencies) | {base},
            contact_id=None if self.contact is None else self.contact.contact_id,
            period_lock_date=self.organisation.period_lock_date,
            end_of_year_lock_date=self.organisation.end_of_year_lock_date,
            timezone=self.organisation.timezone,
            tracking_categories=tuple(entry.entry() for entry in self.tracking_categories),
        )


def load_chart(data: object, source: str) -> Chart:
    """Read CHART.json (the org in Xero's JSON shapes); raise ``ChartFileError`` on any fault."""
    return read_model(ChartFile, data, source, ChartFileError).chart()
