"""The two seeded Amazon Business accounts as plain data: stores, entities, people, cards, catalog.

The generator turns a profile into transactions; the world turns it into accounts and users.
Nothing here is random: ids derived from the seed are made in ``world.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PAY_BY_INVOICE = "Pay by Invoice"
GIFT_CARD = "Gift Card Balance"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105 - the documented password of every seeded user


@dataclass(frozen=True)
class Instrument:
    """A payment instrument as it appears in transactions (``kind``: card, invoice or balance)."""

    type: str
    last4: str | None
    kind: str


@dataclass(frozen=True)
class Product:
    """A catalog item; ``tax_class`` picks the rate in UK-style stores (standard/reduced/zero)."""

    title: str
    asin: str
    unspsc: str | None
    low: Decimal
    high: Decimal
    tax_class: str = "standard"
    electronic: bool = False


@dataclass(frozen=True)
class Group:
    """A purchasing group and the checkout fields (``businessOrderInfo``) its buyers fill in."""

    name: str
    gl_code: str
    cost_center: str
    budget_id: str = ""


@dataclass(frozen=True)
class Person:
    """A member of the account; ``login`` users can sign in on the consent page."""

    name: str
    email: str
    login: bool = False
    admin_of_all_entities: bool = False


@dataclass(frozen=True)
class StoreProfile:
    """What buying on one store looks like for an account."""

    store: str
    share: float
    catalog: tuple[Product, ...]
    merchants: tuple[str, ...]
    order_prefixes: tuple[str, ...]
    invoice_prefix: str
    # UK-style: rate per tax class; US-style: one ship-to rate per order from ``order_rates``.
    class_rates: dict[str, Decimal] | None = None
    order_rates: tuple[Decimal, ...] = ()
    shipping_taxed: bool = True
    regulatory_fee: tuple[Decimal, Decimal] = (Decimal("0.50"), Decimal("0.90"))


@dataclass(frozen=True)
class AccountProfile:
    """One Amazon Business account (customer) of the sandbox."""

    key: str
    name: str
    home_store: str
    stores: tuple[StoreProfile, ...]
    legal_entities: tuple[str, ...]
    groups: tuple[Group, ...]
    people: tuple[Person, ...]
    cards: tuple[Instrument, ...]
    new_card: Instrument
    pay_by_invoice: Instrument = Instrument(PAY_BY_INVOICE, None, "invoice")
    gift_card: Instrument = Instrument(GIFT_CARD, None, "balance")
    payment_terms_days: int = 30
    # The "Project" checkout field: one of these (or none) per order, by its order id.
    projects: tuple[str, ...] = ()

    def store_profile(self, store: str) -> StoreProfile:
        """The profile of one of this account's stores."""
        for profile in self.stores:
            if profile.store == store:
                return profile
        raise KeyError(store)

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """Every instrument the generator uses, the late new card last."""
        return (*self.cards, self.pay_by_invoice, self.gift_card, self.new_card)


def _p(
    title: str,
    asin: str,
    unspsc: str | None,
    low: str,
    high: str,
    tax_class: str = "standard",
    electronic: bool = False,
) -> Product:
    return Product(title, asin, unspsc, Decimal(low), Decimal(high), tax_class, electronic)


UK_CATALOG = (
    _p("Pilot G-2 Gel Pens, Black, 12-Pack", "B07T8K1HJG", "44121700", "8.99", "14.99"),
    _p("Navigator A4 Printer Paper 80gsm, 5 Reams", "B00BJ7Q5NK", "14111507", "24.99", "32.99"),
    _p("Leitz Lever Arch Files A4, Pack of 10", "B001TQ1K5E", "44122011", "18.50", "26.00"),
    _p("Brother TN-2420 Toner Cartridge, Black", "B06XKQ3V6N", "44103103", "49.99", "69.99"),
    _p(
        "Logitech MX Keys Wireless Keyboard",
        "B07S92QBCX",
        "43211706",
        "89.00",
        "109.99",
        "standard",
        True,
    ),
    _p("Samsung 27in FHD Monitor", "B08TW4SC1G", "43211902", "139.00", "189.00", "standard", True),
    _p(
        "SanDisk 128GB Ultra USB 3.0 Flash Drive",
        "B077VXV323",
        None,
        "11.99",
        "17.99",
        "standard",
        True,
    ),
    _p("Packing Tape 48mm x 66m, 36 Rolls", "B01M0IQ4NX", "31201512", "21.99", "29.99"),
    _p("Single Wall Cardboard Boxes, 25 Pack", "B00OBSM9WO", "24112700", "19.99", "27.49"),
    _p("Nitrile Safety Gloves, 12 Pairs", "B083K1WZ8R", "46181504", "9.99", "15.99"),
    _p(
        "Nicorette Icy White Gum 2mg, 105 Pieces",
        "B00JJ2S2UM",
        "51181700",
        "13.49",
        "17.99",
        "reduced",
    ),
    _p(
        "NiQuitin Clear Patches 21mg, 14 Patches",
        "B004Q8Q6BS",
        "51181700",
        "24.99",
        "31.99",
        "reduced",
    ),
    _p("Yorkshire Tea Bags, 1040", "B00KMQ9B6G", "50201706", "22.00", "27.00", "zero"),
    _p("McVitie's Digestive Biscuits, 12 Pack", "B07FKQ9Z4T", "50181900", "11.50", "15.00", "zero"),
    _p(
        "Tolley's Tax Guide 2025-26 (Paperback)",
        "B0D7K2MQ2Z",
        "55101509",
        "89.00",
        "110.00",
        "zero",
    ),
)

DE_CATALOG = (
    _p("Leuchtturm1917 Notizbuch A5, punktiert", "B002TSIMW4", "14111514", "19.95", "24.95"),
    _p("Stabilo Boss Textmarker, 10er Etui", "B0034DTOVA", "44121708", "9.49", "13.99"),
    _p("Rapid Heftgerat F30, 30 Blatt", "B0013LR0HC", "44121615", "21.90", "27.50"),
    _p("tesa Packband 66m x 50mm, 6 Rollen", "B00IYAWSRQ", "31201512", "12.99", "16.99"),
    _p("Durable Duraframe Bilderrahmen A4", "B000KJNF1I", None, "14.99", "22.99"),
)

US_CATALOG = (
    _p("Moleskine Classic Notebook, Large, Ruled", "B015NG45CK", "14111514", "17.95", "24.95"),
    _p(
        "Wacom Intuos Pro Medium Pen Tablet",
        "B07FD6R8QJ",
        "43211718",
        "329.95",
        "379.95",
        "standard",
        True,
    ),
    _p(
        "Dell UltraSharp 27 4K USB-C Monitor",
        "B0BP8VNXK8",
        "43211902",
        "519.99",
        "629.99",
        "standard",
        True,
    ),
    _p("Epson Premium Photo Paper Glossy, 50 Sheets", "B001BR6Q7M", "14111507", "24.99", "32.99"),
    _p("X-ACTO #1 Precision Knife with Cap", "B0007P5G8E", "27111501", "5.49", "8.99"),
    _p("Copic Sketch Markers, 72-Piece Set A", "B00K5LNKHS", "44121708", "449.99", "519.99"),
    _p("Keurig Coffee K-Cup Pods, 96 Count", "B00O5CYNDG", "50201706", "44.99", "54.99"),
    _p("Apple Magic Mouse", "B09BRD98T4", None, "74.00", "79.00", "standard", True),
    _p("Post-it Super Sticky Notes, 24 Pads", "B01L9QIQ5M", "14111514", "19.99", "27.99"),
    _p("Bankers Box SmoothMove Moving Boxes, 10 Pack", "B002M9AQYI", "24112700", "29.99", "39.99"),
)

THAMES = AccountProfile(
    key="thames",
    name="Thames Stationery Ltd",
    home_store="UK",
    stores=(
        StoreProfile(
            store="UK",
            share=0.78,
            catalog=UK_CATALOG,
            merchants=(
                "Amazon EU S.a.r.L., UK Branch",
                "Amazon EU S.a.r.L., UK Branch",
                "Viking Direct Ltd",
                "Rajapack Ltd",
            ),
            order_prefixes=("202", "203", "204", "205", "206"),
            invoice_prefix="GB",
            class_rates={
                "standard": Decimal("0.20"),
                "reduced": Decimal("0.05"),
                "zero": Decimal("0.00"),
            },
        ),
        # B2B purchases from amazon.de by a UK VAT-registered business: zero-rated export.
        StoreProfile(
            store="DE",
            share=0.22,
            catalog=DE_CATALOG,
            merchants=("Amazon EU S.a.r.L.", "Bueromarkt AG"),
            order_prefixes=("302", "303", "304", "305", "306"),
            invoice_prefix="DE",
            class_rates={"standard": Decimal("0.00")},
        ),
    ),
    legal_entities=("Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd"),
    groups=(
        Group("Office", "6100-office", "FAC-01", "BUD-UK-OFFICE"),
        Group("Warehouse", "6200-warehouse", "WH-02", "BUD-UK-WAREHOUSE"),
        Group("IT", "6300-it", "IT-03", "BUD-UK-IT"),
    ),
    people=(
        Person(
            "Eleanor Price", "buyer-admin-uk@example.com", login=True, admin_of_all_entities=True
        ),
        Person("Callum Reid", "buyer-user-uk@example.com", login=True),
        Person("Priya Shah", "priya.shah@thames-stationery.example"),
    ),
    cards=(
        Instrument("Visa", "4242", "card"),
        Instrument("Mastercard", "5454", "card"),
        Instrument("American Express", "1005", "card"),
    ),
    new_card=Instrument("Mastercard", "6006", "card"),
    projects=("Riverside", "Harbour"),
)

HUDSON = AccountProfile(
    key="hudson",
    name="Hudson Design LLC",
    home_store="US",
    stores=(
        StoreProfile(
            store="US",
            share=1.0,
            catalog=US_CATALOG,
            merchants=("Amazon.com Services LLC", "Amazon.com Services LLC", "Blick Art Materials"),
            order_prefixes=("111", "112", "113", "114"),
            invoice_prefix="",
            order_rates=(Decimal("0.0725"), Decimal("0.0625"), Decimal("0.08875"), Decimal("0.00")),
            shipping_taxed=False,
            regulatory_fee=(Decimal("4.00"), Decimal("7.00")),
        ),
    ),
    legal_entities=("Hudson Design LLC",),
    groups=(
        Group("Design", "5100-design", "DSN-10", "BUD-US-DESIGN"),
        Group("Studio", "5200-studio", "STU-20", "BUD-US-STUDIO"),
        Group("Operations", "5300-operations", "OPS-30", "BUD-US-OPS"),
    ),
    people=(
        Person("Alex Rivera", "buyer-admin-us@example.com", login=True, admin_of_all_entities=True),
        Person("Jordan Lee", "jordan.lee@hudson-design.example"),
        Person("Sam Patel", "sam.patel@hudson-design.example"),
    ),
    cards=(
        Instrument("Visa", "1881", "card"),
        Instrument("Mastercard", "4444", "card"),
        Instrument("American Express", "3005", "card"),
    ),
    new_card=Instrument("Visa", "2468", "card"),
    projects=("Alpha", "Beta", "Gamma"),
)

PROFILES: dict[str, AccountProfile] = {THAMES.key: THAMES, HUDSON.key: HUDSON}
