"""Parse Amazon Business ``getTransactions`` payloads (Reconciliation API v2021-01-08).

The models follow ``specs/amazon-business-api.md`` §3.1 field for field: attributes are snake_case,
each aliased to Amazon's camelCase name, and unknown fields are kept (``extra="allow"``) so a
payload can be stored and re-read without losing anything Amazon adds later.

Decisions:

- Every documented field is optional (the schema marks none required) except ``transactionId``:
  it is the idempotency key, so a transaction without one cannot enter the ledger and is a
  parse failure. Whether a transaction has what *posting* needs (amount, type, date, lines) is
  decided by ``plugin.posting``, which holds it with a reason rather than failing the parse.
- Money amounts, tax rates, currency codes and date-times are read strictly by
  ``plugin.amazon.values`` (``Decimal``, never ``float``; date-times must carry a time zone).
- ``transactionType`` is kept as text, not an enum, so that an undocumented type parses and
  posting can hold it as ``unsupported_transaction_type`` instead of losing the transaction.
- ``itemQuantity`` must be a JSON integer (not ``"2"``, ``2.5`` or ``true``).
- ``payment_method_key`` is ``f"{paymentInstrumentType}:{paymentInstrumentLast4Digits}"`` with a
  missing or null part written as the empty string, e.g. ``"Visa:4242"``, ``"Pay by Invoice:"``.
  The text is used exactly as Amazon sends it (no case or space folding): production spellings
  are undocumented (§8), and folding could merge two instruments.

Public API: ``parse_transaction``, ``parse_transactions_page``, ``payment_method_key``, the models
``Transaction``, ``TransactionLineItem``, ``Money``, ``Customer``,
``AssociatedTransactionDetail``, and ``ParseFailure``, ``TransactionsPage``, ``MalformedPage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import StrictInt
from pydantic import StrictStr
from pydantic import ValidationError

from plugin.amazon.values import AmountDecimal
from plugin.amazon.values import AwareDatetime
from plugin.amazon.values import CurrencyCode
from plugin.amazon.values import RateDecimal
from plugin.amazon.values import show

__all__ = [
    "AssociatedTransactionDetail",
    "Customer",
    "MalformedPage",
    "Money",
    "ParseFailure",
    "Transaction",
    "TransactionLineItem",
    "TransactionsPage",
    "parse_transaction",
    "parse_transactions_page",
    "payment_method_key",
]

TRANSACTION_TYPES = ("CHARGE", "REFUND", "OVERREFUND")
"""The ``transactionType`` values the spec documents."""

_MODEL_CONFIG = ConfigDict(
    extra="allow",
    frozen=True,
    str_strip_whitespace=False,
)


class Money(BaseModel):
    """Amazon's ``Money``: ``{"currencyCode": "USD", "amount": "5.99"}``."""

    model_config = _MODEL_CONFIG

    currency_code: CurrencyCode = Field(alias="currencyCode")
    amount: AmountDecimal = Field(alias="amount")


class Customer(BaseModel):
    """Amazon's ``Customer`` (``buyer`` and ``payer``)."""

    model_config = _MODEL_CONFIG

    id: StrictStr = Field(alias="id")
    name: StrictStr | None = Field(default=None, alias="name")
    email: StrictStr | None = Field(default=None, alias="email")


class AssociatedTransactionDetail(BaseModel):
    """One other transaction of the same split-payment purchase."""

    model_config = _MODEL_CONFIG

    associated_transaction_id: StrictStr = Field(alias="associatedTransactionId")


class TransactionLineItem(BaseModel):
    """Amazon's ``TransactionLineItem``."""

    model_config = _MODEL_CONFIG

    refund_reason: StrictStr | None = Field(default=None, alias="refundReason")
    total_amount: Money | None = Field(default=None, alias="totalAmount")
    principal_amount: Money | None = Field(default=None, alias="principalAmount")
    shipping_charge: Money | None = Field(default=None, alias="shippingCharge")
    regulatory_fee: Money | None = Field(default=None, alias="regulatoryFee")
    gift_wrapping_charge: Money | None = Field(default=None, alias="giftWrappingCharge")
    discount: Money | None = Field(default=None, alias="discount")
    tax: Money | None = Field(default=None, alias="tax")
    unit_price: Money | None = Field(default=None, alias="unitPrice")
    tax_rate: RateDecimal | None = Field(default=None, alias="taxRate")
    order_id: StrictStr | None = Field(default=None, alias="orderId")
    unspsc: StrictStr | None = Field(default=None, alias="unspsc")
    order_line_item_id: StrictStr | None = Field(default=None, alias="orderLineItemId")
    purchase_order_number: StrictStr | None = Field(default=None, alias="purchaseOrderNumber")
    purchase_order_line_item_id: StrictStr | None = Field(
        default=None, alias="purchaseOrderLineItemId"
    )
    asin: StrictStr | None = Field(default=None, alias="asin")
    product_title: StrictStr | None = Field(default=None, alias="productTitle")
    item_quantity: StrictInt | None = Field(default=None, alias="itemQuantity")
    shipment_id: StrictStr | None = Field(default=None, alias="shipmentId")
    shipment_date: AwareDatetime | None = Field(default=None, alias="shipmentDate")
    merchant_legal_name: StrictStr | None = Field(default=None, alias="merchantLegalName")
    budget_id: StrictStr | None = Field(default=None, alias="budgetId")
    business_order_info: dict[StrictStr, StrictStr] | None = Field(
        default=None, alias="businessOrderInfo"
    )

    def money_fields(self) -> dict[str, Money]:
        """Return the line's Money fields that are present, by their Amazon names."""
        fields = {
            "totalAmount": self.total_amount,
            "principalAmount": self.principal_amount,
            "shippingCharge": self.shipping_charge,
            "regulatoryFee": self.regulatory_fee,
            "giftWrappingCharge": self.gift_wrapping_charge,
            "discount": self.discount,
            "tax": self.tax,
            "unitPrice": self.unit_price,
        }
        return {name: money for name, money in fields.items() if money is not None}


class Transaction(BaseModel):
    """Amazon's ``Transaction`` from ``getTransactions``."""

    model_config = _MODEL_CONFIG

    transaction_id: StrictStr = Field(alias="transactionId", min_length=1)
    marketplace_id: StrictStr | None = Field(default=None, alias="marketplaceId")
    transaction_date: AwareDatetime | None = Field(default=None, alias="transactionDate")
    feed_date: AwareDatetime | None = Field(default=None, alias="feedDate")
    transaction_type: StrictStr | None = Field(default=None, alias="transactionType")
    charge_identifier: StrictStr | None = Field(default=None, alias="chargeIdentifier")
    ship_tax_rate: RateDecimal | None = Field(default=None, alias="shipTaxRate")
    gift_wrap_tax_rate: RateDecimal | None = Field(default=None, alias="giftWrapTaxRate")
    legal_entity_name: StrictStr | None = Field(default=None, alias="legalEntityName")
    purchasing_customer_group_name: StrictStr | None = Field(
        default=None, alias="purchasingCustomerGroupName"
    )
    invoice_number: StrictStr | None = Field(default=None, alias="invoiceNumber")
    amount: Money | None = Field(default=None, alias="amount")
    payment_instrument_type: StrictStr | None = Field(default=None, alias="paymentInstrumentType")
    payment_instrument_last4_digits: StrictStr | None = Field(
        default=None, alias="paymentInstrumentLast4Digits"
    )
    buyer: Customer | None = Field(default=None, alias="buyer")
    payer: Customer | None = Field(default=None, alias="payer")
    associated_transaction_details: list[AssociatedTransactionDetail] | None = Field(
        default=None, alias="associatedTransactionDetails"
    )
    transaction_line_items: list[TransactionLineItem] | None = Field(
        default=None, alias="transactionLineItems"
    )

    @property
    def payment_method_key(self) -> str:
        """The opaque payment-method key, e.g. ``"Visa:4242"`` or ``"Pay by Invoice:"``."""
        return payment_method_key(
            self.payment_instrument_type, self.payment_instrument_last4_digits
        )

    @property
    def line_items(self) -> list[TransactionLineItem]:
        """The line items, an empty list when Amazon sent none."""
        return list(self.transaction_line_items or [])

    @property
    def associated_transaction_ids(self) -> list[str]:
        """The ids of the other parts of a split payment (empty when not split)."""
        return [d.associated_transaction_id for d in self.associated_transaction_details or []]


def payment_method_key(instrument_type: str | None, last4: str | None) -> str:
    """Return the payment-method key for (``paymentInstrumentType``, last 4 digits)."""
    return f"{instrument_type or ''}:{last4 or ''}"


@dataclass(frozen=True)
class ParseFailure:
    """A transaction that could not be read, with a human-readable reason naming the field."""

    transaction_id: str | None
    reason: str
    raw: object
    position: int | None = None


@dataclass(frozen=True)
class TransactionsPage:
    """One parsed ``getTransactions`` page."""

    transactions: tuple[Transaction, ...]
    failures: tuple[ParseFailure, ...]
    next_page_token: str | None

    in_order: tuple[Transaction | ParseFailure, ...] = ()
    """Every element of the page, parsed or failed, in Amazon's order."""


class MalformedPage(ValueError):
    """The page itself is not the documented ``TransactionsResponse`` shape."""


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "constrained-", "decimal")) or part in (
            "str",
            "int",
        ):
            continue
        else:
            path += f".{part}" if path else part
    return path or "(transaction)"


_TYPE_WORDS = {
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "list_type": "should be a list",
    "dict_type": "should be an object",
    "model_type": "should be an object",
    "model_attributes_type": "should be an object",
    "bool_type": "should be true or false",
}


def _describe_error(error: Any) -> str:
    where = _location(tuple(error["loc"]))
    kind = error["type"]
    if kind == "missing":
        return f"{where}: is missing"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{where}: {message}"
    if kind == "string_too_short":
        return f"{where}: is empty"
    if kind in _TYPE_WORDS:
        return f"{where}: {_TYPE_WORDS[kind]}, got {show(error.get('input'))}"
    return f"{where}: {error['msg']} (got {show(error.get('input'))})"


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """Return one line naming the first few bad fields of a validation error."""
    problems = [_describe_error(e) for e in exc.errors(include_url=False)]
    text = "; ".join(problems[:limit])
    if len(problems) > limit:
        text += f"; and {len(problems) - limit} more"
    return text


def _transaction_id_of(raw: object) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("transactionId")
        if isinstance(value, str) and value:
            return value
    return None


def parse_transaction(raw: object, position: int | None = None) -> Transaction | ParseFailure:
    """Return the parsed transaction, or a ``ParseFailure`` saying why not; never raises."""
    transaction_id = _transaction_id_of(raw)
    if not isinstance(raw, dict):
        return ParseFailure(
            transaction_id,
            f"a transaction should be an object, got {show(raw)}",
            raw,
            position,
        )
    try:
        return Transaction.model_validate(raw)
    except ValidationError as exc:
        return ParseFailure(transaction_id, describe_validation_error(exc), raw, position)
    except Exception as exc:  # never raise: an unexpected shape is a failure, not a crash
        return ParseFailure(
            transaction_id, f"could not be read ({type(exc).__name__}: {exc})", raw, position
        )


def parse_transactions_page(body: object, page_label: str) -> TransactionsPage:
    """Parse one ``getTransactions`` response; raise ``MalformedPage`` if it is not one."""
    if not isinstance(body, dict):
        raise MalformedPage(
            f"{page_label}: the response should be an object with 'transactions', got {show(body)}"
        )
    if "transactions" not in body:
        raise MalformedPage(f"{page_label}: 'transactions' is missing")
    raw_transactions = body["transactions"]
    if not isinstance(raw_transactions, list):
        raise MalformedPage(
            f"{page_label}: 'transactions' should be a list, got {show(raw_transactions)}"
        )
    token = body.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise MalformedPage(f"{page_label}: 'nextPageToken' should be text, got {show(token)}")
    parsed = tuple(
        parse_transaction(raw, position) for position, raw in enumerate(raw_transactions)
    )
    return TransactionsPage(
        transactions=tuple(p for p in parsed if isinstance(p, Transaction)),
        failures=tuple(p for p in parsed if isinstance(p, ParseFailure)),
        next_page_token=token or None,
        in_order=parsed,
    )
