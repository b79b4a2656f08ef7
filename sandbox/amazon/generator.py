"""Deterministic Amazon Business transactions (Reconciliation API §3.1 shape) for a profile.

Pure: a seeded ``random.Random`` per call, no wall clock, no global state. ``generate_account``
makes ``count`` transactions over ``days`` days ending at ``end``; every transaction's line items
add up to its ``amount`` to the cent (unless ``inconsistent=True`` asks for exactly one that does
not). Money is ``Decimal`` throughout and rendered as strings, as Reconciliation does. Refunds
come in both spellings Amazon uses: every other one (by date) with positive amounts, the sign
only in ``transactionType`` (spec §9 item 4). Every 8th single charge old enough is fed 45
days after it was made (``lag_some_feed_dates``; spec §9 item 6).
"""

from __future__ import annotations

import random
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from sandbox.amazon.dates import iso_ms
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.profiles import AccountProfile
from sandbox.amazon.profiles import Instrument
from sandbox.amazon.purchases import NEW_CARD_DAYS
from sandbox.amazon.purchases import PurchaseMaker
from sandbox.amazon.purchases import PurchaseSpec
from sandbox.amazon.transaction_json import CENT
from sandbox.amazon.transaction_json import Transaction
from sandbox.amazon.transaction_json import spell_every_other_refund_positive


def planned_purchases(profile: AccountProfile) -> list[PurchaseSpec]:
    """Purchases that make every required feature appear in a default-size run."""
    home = profile.home_store
    visa, mastercard, amex = profile.cards
    pbi, new = profile.pay_by_invoice, profile.new_card
    us_style = not profile.store_profile(home).class_rates
    rates: list[Decimal | None] = [*profile.store_profile(home).order_rates] or [None] * 4
    classes = ((), ()) if us_style else (("standard", "zero", "reduced"), ("reduced",))
    plan = [
        PurchaseSpec(
            home, "simple", visa, 3, frozenset({"shipping", "discount"}), classes[0], rates[0]
        ),
        PurchaseSpec(home, "simple", mastercard, 1, frozenset({"gift_wrap"}), classes[1], rates[1]),
        PurchaseSpec(home, "simple", amex, 1, frozenset({"regulatory_fee"}), (), rates[0]),
        PurchaseSpec(home, "multi_shipment", pbi, 2, frozenset({"discount"}), (), rates[2]),
        PurchaseSpec(home, "split", visa, 2, frozenset(), (), rates[3]),
        PurchaseSpec(home, "refund", mastercard, 2, frozenset({"shipping"}), (), rates[1]),
        PurchaseSpec(home, "overrefund", amex, 1, frozenset(), (), rates[2]),
        PurchaseSpec(home, "simple", new, None, frozenset(), (), None, late=True),
        PurchaseSpec(home, "refund", pbi, 1, frozenset(), (), rates[3]),
        PurchaseSpec(home, "simple", new, None, frozenset({"shipping"}), (), None, late=True),
    ]
    for store in profile.stores:
        if store.store != home:
            plan.insert(4, PurchaseSpec(store.store, "simple", visa))
            plan.insert(6, PurchaseSpec(store.store, "simple", pbi))
    return plan


def generate_account(
    profile: AccountProfile,
    *,
    seed: int,
    end: datetime,
    days: int,
    count: int,
    inconsistent: bool = False,
) -> list[Transaction]:
    """``count`` transactions of one account over ``days`` days up to ``end``, oldest first."""
    rng = random.Random(f"amazon:{seed}:{profile.key}")  # reproducible test data
    generator = PurchaseMaker(profile, seed, rng)
    start = end - timedelta(days=days)
    late_start = max(start, end - timedelta(days=NEW_CARD_DAYS))
    span = (end - start).total_seconds()
    transactions: list[Transaction] = []

    def moment(spec: PurchaseSpec) -> datetime:
        low = late_start if spec.late else start
        high = end if spec.shape == "simple" else max(low, end - timedelta(days=3))
        seconds = rng.uniform(0, max(0.0, (high - low).total_seconds()))
        return low + timedelta(seconds=seconds)

    for spec in planned_purchases(profile):
        if len(transactions) + spec.size > count:
            continue
        transactions.extend(generator.purchase(spec, moment(spec), end))

    while len(transactions) < count:
        room = count - len(transactions)
        shape = generator.pick_shape(room)
        when = start + timedelta(seconds=rng.uniform(0, span))
        if shape != "simple":
            when = min(when, max(start, end - timedelta(days=3)))
        spec = PurchaseSpec(generator.pick_store(), shape)
        store_has_new_card = spec.store == profile.home_store
        instrument = generator.pick_instrument(when, end)
        if instrument == profile.new_card and not store_has_new_card:
            instrument = profile.cards[0]
        if shape == "split":
            instrument = rng.choice(profile.cards)
        spec = PurchaseSpec(spec.store, shape, instrument)
        transactions.extend(generator.purchase(spec, when, end))

    if inconsistent:
        charges = [tx for tx in transactions if tx["transactionType"] == "CHARGE"]
        if charges:
            victim = rng.choice(charges)
            wrong = Decimal(victim["amount"]["amount"]) + CENT
            victim["amount"] = {**victim["amount"], "amount": f"{wrong:.2f}"}
    transactions.sort(key=lambda tx: (tx["transactionDate"], tx["transactionId"]))
    spell_every_other_refund_positive(transactions)
    lag_some_feed_dates(transactions, end)
    return transactions


FEED_LAG = timedelta(days=45)
"""How far a lagging feed date trails its transaction date (spec §9 item 6: months in real
data, e.g. a purchase dated 2020-04-03 fed on 2021-05-12; 45 days fits a 90-day history)."""
FEED_LAG_EVERY = 8


def lag_some_feed_dates(transactions: list[Transaction], end: datetime) -> None:
    """Deterministically give every 8th single charge old enough a feed date ``FEED_LAG`` later.

    Only charges without split-payment partners qualify, dated at least ``FEED_LAG`` before
    ``end`` (a feed date is never in the future); the first of them always lags, so an account
    with such a charge has at least one purchase fed weeks after it was made.
    """
    candidates = [
        tx
        for tx in transactions
        if tx["transactionType"] == "CHARGE"
        and not tx.get("associatedTransactionDetails")
        and parse_iso(tx["transactionDate"]) is not None
        and parse_iso(tx["transactionDate"]) + FEED_LAG <= end  # type: ignore[operator]
    ]
    for tx in candidates[::FEED_LAG_EVERY]:
        when = parse_iso(tx["transactionDate"])
        assert when is not None
        tx["feedDate"] = iso_ms(when + FEED_LAG)


def generate_purchases_now(
    profile: AccountProfile,
    *,
    seed: int,
    rng: random.Random,
    store: str,
    when: datetime,
    count: int,
    instrument: Instrument | None = None,
) -> list[Transaction]:
    """``count`` single-charge purchases at ``when``, fed at once (control endpoint additions)."""
    generator = PurchaseMaker(profile, seed, rng)
    result: list[Transaction] = []
    for _ in range(count):
        chosen = instrument or rng.choice(profile.cards)
        spec = PurchaseSpec(store, "simple", chosen)
        result.extend(generator.purchase(spec, when, when, feed_now=True))
    return result
