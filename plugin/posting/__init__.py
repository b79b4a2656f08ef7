"""The posting rules' public API: Amazon Business transactions + mapping + chart -> Xero documents.

PURE: no database, no HTTP, no clock, no Flask; importing it loads none of them. Callers say
``from plugin import posting; posting.translate(...)``. ``translate`` gives one ``Document`` (the
element exactly as sent to Xero) or a ``Held`` with a stable ``code`` and a reason a bookkeeper can
act on; ``translate_all`` never raises and returns every input exactly once. The rules are
design.md §4; the field names are the APIs' own. The modules: ``inputs`` (mapping, chart,
context), ``checks``, ``accounts``, ``tax``, ``rounding`` (tax rounding), ``lines``, ``bodies``
(Xero JSON), ``card_bills``
(foreign-currency purchases on a base-currency card), ``translation``,
``results`` (documents, held codes, plans), ``tracking`` (tracking categories on every line),
``coding`` (a purchase's coding chosen in review), ``legal_entities`` (which organisation takes a
purchase) and ``amounts``.
"""

from plugin.posting.accounts import bank_account_for as bank_account_for
from plugin.posting.accounts import expense_account_for as expense_account_for
from plugin.posting.accounts import line_account as line_account
from plugin.posting.accounts import payment_method_for as payment_method_for
from plugin.posting.accounts import payment_method_label as payment_method_label
from plugin.posting.accounts import rule_matches as rule_matches
from plugin.posting.amounts import CENT as CENT
from plugin.posting.amounts import HUNDRED as HUNDRED
from plugin.posting.amounts import MAX_AMOUNT as MAX_AMOUNT
from plugin.posting.amounts import ZERO as ZERO
from plugin.posting.amounts import Components as Components
from plugin.posting.amounts import components_of as components_of
from plugin.posting.amounts import money_text as money_text
from plugin.posting.amounts import percent_text as percent_text
from plugin.posting.bodies import MAX_DESCRIPTION as MAX_DESCRIPTION
from plugin.posting.bodies import MAX_REFERENCE as MAX_REFERENCE
from plugin.posting.bodies import bank_account_ref as bank_account_ref
from plugin.posting.bodies import bank_reference as bank_reference
from plugin.posting.bodies import document_url as document_url
from plugin.posting.bodies import json_amount as json_amount
from plugin.posting.bodies import line_body as line_body
from plugin.posting.bodies import with_transaction_id as with_transaction_id
from plugin.posting.card_bills import CHOICE_LABEL as CHOICE_LABEL
from plugin.posting.card_bills import card_bill_needed as card_bill_needed
from plugin.posting.card_bills import payment_body as payment_body
from plugin.posting.checks import check_amount_precision as check_amount_precision
from plugin.posting.checks import check_amounts_add_up as check_amounts_add_up
from plugin.posting.checks import check_bank_account_currency as check_bank_account_currency
from plugin.posting.checks import check_currency_enabled as check_currency_enabled
from plugin.posting.checks import check_has_line_items as check_has_line_items
from plugin.posting.checks import check_line_currencies as check_line_currencies
from plugin.posting.checks import check_lock_date as check_lock_date
from plugin.posting.checks import check_transaction_type as check_transaction_type
from plugin.posting.checks import due_date_for as due_date_for
from plugin.posting.checks import invoice_number_for as invoice_number_for
from plugin.posting.checks import posting_date as posting_date
from plugin.posting.checks import require_contact as require_contact
from plugin.posting.checks import sign_factor as sign_factor
from plugin.posting.checks import transaction_currency as transaction_currency
from plugin.posting.coding import Coding as Coding
from plugin.posting.coding import LineCoding as LineCoding
from plugin.posting.coding import coding_from_json as coding_from_json
from plugin.posting.inputs import BILL_PAID_FROM_ACCOUNT as BILL_PAID_FROM_ACCOUNT
from plugin.posting.inputs import EXPENSE_RULE_FIELDS as EXPENSE_RULE_FIELDS
from plugin.posting.inputs import FOREIGN_CURRENCY_OPTIONS as FOREIGN_CURRENCY_OPTIONS
from plugin.posting.inputs import HOLD as HOLD
from plugin.posting.inputs import MAX_TRACKING_CATEGORIES as MAX_TRACKING_CATEGORIES
from plugin.posting.inputs import SAME_AS_ITEM as SAME_AS_ITEM
from plugin.posting.inputs import TRACKING_SOURCES as TRACKING_SOURCES
from plugin.posting.inputs import TREATMENTS as TREATMENTS
from plugin.posting.inputs import UNRECLAIMABLE_TAX_OPTIONS as UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting.inputs import Account as Account
from plugin.posting.inputs import Chart as Chart
from plugin.posting.inputs import ExpenseRule as ExpenseRule
from plugin.posting.inputs import LineKey as LineKey
from plugin.posting.inputs import LineTypeAccounts as LineTypeAccounts
from plugin.posting.inputs import Mapping as Mapping
from plugin.posting.inputs import PaymentMethodMapping as PaymentMethodMapping
from plugin.posting.inputs import PostingContext as PostingContext
from plugin.posting.inputs import TaxRate as TaxRate
from plugin.posting.inputs import TaxRateMapping as TaxRateMapping
from plugin.posting.inputs import TrackingCategory as TrackingCategory
from plugin.posting.inputs import TrackingMapping as TrackingMapping
from plugin.posting.inputs import TrackingOption as TrackingOption
from plugin.posting.inputs import TrackingValue as TrackingValue
from plugin.posting.inputs import url_template as url_template
from plugin.posting.lines import ItemLines as ItemLines
from plugin.posting.lines import Line as Line
from plugin.posting.lines import build_lines as build_lines
from plugin.posting.lines import check_invariant as check_invariant
from plugin.posting.lines import component_lines as component_lines
from plugin.posting.lines import item_description as item_description
from plugin.posting.lines import lines_for_item as lines_for_item
from plugin.posting.lines import over_refund_line as over_refund_line
from plugin.posting.lines import quantity_for as quantity_for
from plugin.posting.lines import unreclaimable_tax_lines as unreclaimable_tax_lines
from plugin.posting.lines import with_original_details as with_original_details
from plugin.posting.results import DOCUMENT_KINDS as DOCUMENT_KINDS
from plugin.posting.results import HELD_CODES as HELD_CODES
from plugin.posting.results import Document as Document
from plugin.posting.results import DocumentKind as DocumentKind
from plugin.posting.results import Endpoint as Endpoint
from plugin.posting.results import Held as Held
from plugin.posting.results import InvariantViolation as InvariantViolation
from plugin.posting.results import PaymentIntent as PaymentIntent
from plugin.posting.results import Plan as Plan
from plugin.posting.results import Summary as Summary
from plugin.posting.results import SummaryRow as SummaryRow
from plugin.posting.results import Unpostable as Unpostable
from plugin.posting.results import summarise as summarise
from plugin.posting.rounding import TaxDifference as TaxDifference
from plugin.posting.rounding import settling_amount as settling_amount
from plugin.posting.tax import NO_TAX as NO_TAX
from plugin.posting.tax import TaxTreatment as TaxTreatment
from plugin.posting.tax import fee_is_taxed as fee_is_taxed
from plugin.posting.tax import mapped_tax_rate as mapped_tax_rate
from plugin.posting.tax import no_tax_type as no_tax_type
from plugin.posting.tax import rounding_allowance as rounding_allowance
from plugin.posting.tax import tax_treatment_for as tax_treatment_for
from plugin.posting.tax import xero_line_tax as xero_line_tax
from plugin.posting.tracking import LineTracking as LineTracking
from plugin.posting.tracking import chosen_tracking as chosen_tracking
from plugin.posting.tracking import options_to_create as options_to_create
from plugin.posting.tracking import source_label as source_label
from plugin.posting.tracking import source_value as source_value
from plugin.posting.tracking import tracking_for as tracking_for
from plugin.posting.translation import charge_line_index as charge_line_index
from plugin.posting.translation import parse_failure_held as parse_failure_held
from plugin.posting.translation import translate as translate
from plugin.posting.translation import translate_all as translate_all
from plugin.xero.dates import xero_date as xero_date
