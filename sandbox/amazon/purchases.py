"""Building one generated purchase: its order lines, charges, split payments and refunds.

``PurchaseMaker`` draws everything from one seeded ``random.Random``; a ``PurchaseSpec`` fixes
what a purchase must look like (shape, instrument, lines, features) and leaves the rest random.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox.amazon.dates import iso_s
from sandbox.amazon.ids import ALNUM
from sandbox.amazon.ids import UPPER_ALNUM
from sandbox.amazon.ids import customer_id
from sandbox.amazon.ids import random_token
from sandbox.amazon.profiles import AccountProfile
from sandbox.amazon.profiles import Instrument
from sandbox.amazon.profiles import Product
from sandbox.amazon.profiles import StoreProfile
from sandbox.amazon.stores import STORES
from sandbox.amazon.transaction_json import ZERO
from sandbox.amazon.transaction_json import OrderLine
from sandbox.amazon.transaction_json import Transaction
from sandbox.amazon.transaction_json import line_json
from sandbox.amazon.transaction_json import q
from sandbox.amazon.transaction_json import transaction_json

NEW_CARD_DAYS = 10
REFUND_REASONS = ("Damaged item", "Item not as described", "No longer needed", "Wrong item sent")
GOODWILL_REASON = "Goodwill credit"
# Transactions each shape produces.
SHAPE_SIZES = {"simple": 1, "multi_shipment": 2, "split": 2, "refund": 2, "overrefund": 3}
SHAPE_WEIGHTS = {"simple": 70, "multi_shipment": 8, "split": 6, "refund": 12, "overrefund": 4}


def project_of(order_id: str, projects: tuple[str, ...]) -> str | None:
    """The order's "Project" checkout field: chosen by its order id (no draw on the random
    stream, so adding it changed no other generated value); one order in n+1 has none."""
    if not projects:
        return None
    bucket = zlib.crc32(order_id.encode()) % (len(projects) + 1)
    return projects[bucket] if bucket < len(projects) else None


@dataclass(frozen=True)
class PurchaseSpec:
    """What one purchase must look like; unset fields are drawn at random."""

    store: str
    shape: str = "simple"
    instrument: Instrument | None = None
    lines: int | None = None
    features: frozenset[str] = frozenset()  # shipping, gift_wrap, discount, regulatory_fee
    tax_classes: tuple[str, ...] = ()
    order_rate: Decimal | None = None
    late: bool = False  # within the last NEW_CARD_DAYS days (the new card's window)

    @property
    def size(self) -> int:
        """How many transactions this purchase produces."""
        return SHAPE_SIZES[self.shape]


class PurchaseMaker:
    """Builds purchases for one account from one seeded ``Random``."""

    def __init__(self, profile: AccountProfile, seed: int, rng: random.Random) -> None:
        self.profile = profile
        self.seed = seed
        self.rng = rng
        self.payer = profile.people[0]
        self.customers = {
            person.email: {
                "id": customer_id(seed, person.email),
                "name": person.name,
                "email": person.email,
            }
            for person in profile.people
        }

    # -- identifiers -------------------------------------------------------------------------
    def order_id(self, store: StoreProfile) -> str:
        prefix = self.rng.choice(store.order_prefixes)
        return f"{prefix}-{self.rng.randrange(10**7):07d}-{self.rng.randrange(10**7):07d}"

    def invoice_number(self, store: StoreProfile, credit: bool = False) -> str:
        if store.invoice_prefix:
            middle = "C" if credit else ""
            tail = random_token(self.rng, 10 - len(middle), UPPER_ALNUM)
            return f"{store.invoice_prefix}{middle}{tail}"
        parts = [random_token(self.rng, 4, UPPER_ALNUM) for _ in range(3)]
        return ("CM-" if credit else "") + "-".join(parts)

    def customer(self, email: str) -> dict[str, str]:
        return dict(self.customers[email])

    # -- lines -------------------------------------------------------------------------------
    def pick_product(self, store: StoreProfile, tax_class: str | None) -> Product:
        if tax_class is not None and store.class_rates and tax_class in store.class_rates:
            choices = [p for p in store.catalog if p.tax_class == tax_class]
            if choices:
                return self.rng.choice(choices)
        return self.rng.choice(store.catalog)

    def rate_for(self, store: StoreProfile, product: Product, order_rate: Decimal) -> Decimal:
        if store.class_rates is not None:
            rates = store.class_rates
            return rates.get(product.tax_class, rates.get("standard", ZERO))
        return order_rate

    def make_lines(
        self, store: StoreProfile, spec: PurchaseSpec, order_rate: Decimal
    ) -> list[OrderLine]:
        count = spec.lines or self.rng.choice((1, 1, 1, 2, 2, 3, 4))
        if spec.shape in ("multi_shipment", "split"):
            count = max(count, 2)
        classes = list(spec.tax_classes) + [None] * max(0, count - len(spec.tax_classes))
        features = set(spec.features)
        lines: list[OrderLine] = []
        for index in range(count):
            wants_fee = "regulatory_fee" in features and index == 0
            product = self.pick_product(store, classes[index])
            if wants_fee and not product.electronic:
                electronic = [p for p in store.catalog if p.electronic]
                product = self.rng.choice(electronic)
            quantity = self.rng.choice((1, 1, 1, 2, 2, 3, 5, 10))
            if product.low > 100:
                quantity = self.rng.choice((1, 1, 2))
            span = int((product.high - product.low) * 100)
            unit = product.low + Decimal(self.rng.randint(0, span)) / 100
            line = OrderLine(
                product=product,
                position=index + 1,
                line_item_id=str(self.rng.randrange(10**13, 10**14)),
                quantity=quantity,
                unit=unit,
                rate=self.rate_for(store, product, order_rate),
            )
            principal = unit * quantity
            parts = {"principal": principal}
            if ("shipping" in features and index == 0) or self.rng.random() < 0.25:
                parts["shipping"] = Decimal(self.rng.choice(("2.99", "3.99", "4.49", "5.99")))
            if ("gift_wrap" in features and index == 0) or self.rng.random() < 0.03:
                parts["gift_wrap"] = Decimal(self.rng.choice(("2.99", "3.99", "4.99")))
            if wants_fee or (product.electronic and self.rng.random() < 0.08):
                low, high = store.regulatory_fee
                parts["regulatory_fee"] = (
                    low + Decimal(self.rng.randint(0, int((high - low) * 100))) / 100
                )
            if ("discount" in features and index == 0) or self.rng.random() < 0.15:
                share = Decimal(self.rng.choice((5, 10, 15, 20))) / 100
                parts["discount"] = -q(principal * share)
            taxable = principal + parts.get("discount", ZERO)
            if store.shipping_taxed:
                taxable += parts.get("shipping", ZERO) + parts.get("gift_wrap", ZERO)
            parts["tax"] = q(taxable * line.rate)
            line.components = {name: q(value) for name, value in parts.items()}
            lines.append(line)
        return lines

    # -- transactions ------------------------------------------------------------------------
    def feed_after(self, when: datetime, end: datetime) -> datetime:
        """Feed date = transaction date + 0-2 days, never after ``end``."""
        room = max(0.0, min(2 * 86400.0, (end - when).total_seconds()))
        return when + timedelta(seconds=self.rng.uniform(0, room))

    def ship_rates(
        self, store: StoreProfile, lines: Iterable[OrderLine]
    ) -> tuple[Decimal, Decimal]:
        if not store.shipping_taxed:
            return ZERO, ZERO
        rates = [line.rate for line in lines]
        return max(rates), max(rates)

    def purchase(
        self, spec: PurchaseSpec, when: datetime, end: datetime, feed_now: bool = False
    ) -> list[Transaction]:
        """All transactions of one purchase (charges, then any refunds)."""
        profile = self.profile
        store = profile.store_profile(spec.store)
        currency = STORES[spec.store].currency
        order_rate = spec.order_rate
        if order_rate is None:
            order_rate = self.rng.choice(store.order_rates) if store.order_rates else ZERO
        instrument = spec.instrument or self.pick_instrument(when, end)
        group = self.rng.choice(profile.groups)
        buyer = self.rng.choice(profile.people)
        order_info: dict[str, str] = {}
        if self.rng.random() < 0.85:
            order_info = {"GL code": group.gl_code, "Cost center": group.cost_center}
        lines = self.make_lines(store, spec, order_rate)
        po_number = f"PO-{self.rng.randrange(1000, 9999)}" if self.rng.random() < 0.5 else ""
        base = {
            "currency": currency,
            "marketplace_id": STORES[spec.store].marketplace_id,
            "order_id": self.order_id(store),
            "po_number": po_number,
            "merchant": self.rng.choice(store.merchants),
            "order_info": order_info,
            "legal_entity": self.pick_entity(),
            "group": group.name,
            "buyer": self.customer(buyer.email),
            "payer": self.customer(self.payer.email),
        }
        if order_info:
            base["budget_id"] = group.budget_id
            project = project_of(base["order_id"], profile.projects)
            if project:
                order_info["Project"] = project

        def feed(moment: datetime) -> datetime:
            return moment if feed_now else self.feed_after(moment, end)

        def shipment(moment: datetime) -> dict[str, Any]:
            shipped = moment - timedelta(seconds=self.rng.randint(600, 6 * 3600))
            return {
                **base,
                "shipment_id": "D" + random_token(self.rng, 8, ALNUM),
                "shipment_date": iso_s(shipped),
            }

        if spec.shape == "multi_shipment":
            split_at = self.rng.randint(1, len(lines) - 1)
            second = min(when + timedelta(days=self.rng.uniform(1, 3)), end)
            groups = [(lines[:split_at], when), (lines[split_at:], second)]
            result = []
            for part, moment in groups:
                context = shipment(moment)
                items = [line_json(line, line.components, context) for line in part]
                result.append(
                    transaction_json(
                        self.rng,
                        "CHARGE",
                        moment,
                        feed(moment),
                        instrument,
                        self.invoice_number(store),
                        items,
                        context,
                        self.ship_rates(store, part),
                    )
                )
            return result

        context = shipment(when)
        invoice = self.invoice_number(store)
        rates = self.ship_rates(store, lines)
        if spec.shape == "split":
            return self.split_charge(spec, lines, context, when, feed(when), invoice, rates)
        items = [line_json(line, line.components, context) for line in lines]
        charge = transaction_json(
            self.rng, "CHARGE", when, feed(when), instrument, invoice, items, context, rates
        )
        result = [charge]
        if spec.shape in ("refund", "overrefund"):
            result.extend(self.refunds(spec, store, lines, context, instrument, when, end))
        return result

    def split_charge(
        self,
        spec: PurchaseSpec,
        lines: list[OrderLine],
        context: dict[str, Any],
        when: datetime,
        feed: datetime,
        invoice: str,
        rates: tuple[Decimal, Decimal],
    ) -> list[Transaction]:
        """Gift-card balance pays a share, a card the rest; each part carries its share of lines."""
        card = spec.instrument or self.rng.choice(self.profile.cards)
        share = Decimal(self.rng.randint(25, 60)) / 100
        gift_items, card_items = [], []
        for line in lines:
            gift_part = {name: q(value * share) for name, value in line.components.items()}
            card_part = {name: value - gift_part[name] for name, value in line.components.items()}
            gift_items.append(line_json(line, gift_part, context))
            card_items.append(line_json(line, card_part, context))
        gift = transaction_json(
            self.rng,
            "CHARGE",
            when,
            feed,
            self.profile.gift_card,
            invoice,
            gift_items,
            context,
            rates,
        )
        paid = transaction_json(
            self.rng, "CHARGE", when, feed, card, invoice, card_items, context, rates
        )
        gift["associatedTransactionDetails"] = [{"associatedTransactionId": paid["transactionId"]}]
        paid["associatedTransactionDetails"] = [{"associatedTransactionId": gift["transactionId"]}]
        return [gift, paid]

    def refunds(
        self,
        spec: PurchaseSpec,
        store: StoreProfile,
        lines: list[OrderLine],
        context: dict[str, Any],
        instrument: Instrument,
        when: datetime,
        end: datetime,
    ) -> list[Transaction]:
        """A REFUND of one line (all of it for an over-refund), plus the goodwill OVERREFUND."""
        room = max(60.0, min(20 * 86400.0, (end - when).total_seconds() - 60))
        moment = when + timedelta(seconds=self.rng.uniform(min(2 * 86400.0, room / 2), room))
        moment = min(moment, end)
        line = self.rng.choice(lines)
        over = spec.shape == "overrefund"
        quantity = line.quantity if over else self.rng.randint(1, line.quantity)
        principal = line.unit * quantity
        discount = q(line.components.get("discount", ZERO) * quantity / line.quantity)
        parts = {"principal": -principal, "discount": -discount}
        taxable = principal + discount
        if quantity == line.quantity and "shipping" in line.components:
            parts["shipping"] = -line.components["shipping"]
            if store.shipping_taxed:
                taxable += line.components["shipping"]
        parts["tax"] = -q(taxable * line.rate)
        parts = {name: q(value) for name, value in parts.items()}
        reason = self.rng.choice(REFUND_REASONS)
        item = line_json(line, parts, context, quantity, reason)
        refund = transaction_json(
            self.rng,
            "REFUND",
            moment,
            self.feed_after(moment, end),
            instrument,
            self.invoice_number(store, credit=True),
            [item],
            context,
        )
        if not over:
            return [refund]
        goodwill = Decimal(self.rng.choice(("5.00", "10.00", "15.00", "20.00")))
        later = min(moment + timedelta(minutes=self.rng.randint(5, 180)), end)
        bonus = line_json(line, {"principal": -goodwill, "tax": ZERO}, context, 0, GOODWILL_REASON)
        bonus["taxRate"] = "0.00"
        extra = transaction_json(
            self.rng,
            "OVERREFUND",
            later,
            self.feed_after(later, end),
            instrument,
            self.invoice_number(store, credit=True),
            [bonus],
            context,
        )
        return [refund, extra]

    # -- choices -----------------------------------------------------------------------------
    def pick_instrument(self, when: datetime, end: datetime) -> Instrument:
        profile = self.profile
        late = when >= end - timedelta(days=NEW_CARD_DAYS)
        roll = self.rng.random()
        if late and roll < 0.35:
            return profile.new_card
        roll = self.rng.random()
        if roll < 0.30:
            return profile.pay_by_invoice
        if roll < 0.34:
            return profile.gift_card
        return self.rng.choice(profile.cards)

    def pick_entity(self) -> str:
        entities = self.profile.legal_entities
        return entities[0] if self.rng.random() < 0.7 else self.rng.choice(entities)

    def pick_store(self) -> str:
        roll = self.rng.random()
        for store in self.profile.stores:
            roll -= store.share
            if roll < 0:
                return store.store
        return self.profile.stores[-1].store

    def pick_shape(self, room: int) -> str:
        shapes = [shape for shape, size in SHAPE_SIZES.items() if size <= room]
        weights = [SHAPE_WEIGHTS[shape] for shape in shapes]
        return self.rng.choices(shapes, weights)[0]
