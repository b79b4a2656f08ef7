"""The ledger's counts per state (``plugin.ledger.counts``), kept by the database's triggers:
after every kind of write (ORM and bulk inserts, state changes one by one or in bulk, other
columns changed, deletes, an organisation deleted with its entries), with folding in between
and beside concurrent writers, they equal a count over the ledger itself, on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.db import make_engine
from plugin.db import upgrade
from plugin.ledger.count_table import LedgerCount
from plugin.ledger.counts import counts_by_state
from plugin.ledger.counts import fold
from plugin.ledger.counts import fold_counts
from plugin.ledger.queries import counted_by_state
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow

STATES = [state.value for state in EntryState]
NOW = utcnow()


def new_org(session: Session, name: str) -> int:
    org = Organisation(xero_tenant_id=name, name=name)
    session.add(org)
    session.commit()
    return int(org.id or 0)


def entry_rows(org_id: int, start: int, count: int, state: str = "fetched") -> list[dict]:
    return [
        {
            "organisation_id": org_id,
            "amazon_transaction_id": f"T{org_id}-{number}",
            "state": state,
            "payload_hash": "",
            "amount": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for number in range(start, start + count)
    ]


def assert_counts_follow(session: Session, *org_ids: int) -> None:
    session.expire_all()
    for org_id in org_ids:
        assert counts_by_state(session, org_id) == counted_by_state(session, org_id), org_id


def test_counts_follow_every_kind_of_write(db_session):
    a, b = new_org(db_session, "a"), new_org(db_session, "b")
    db_session.add(LedgerEntry(organisation_id=a, amazon_transaction_id="one"))
    db_session.commit()
    assert counts_by_state(db_session, a) == {"fetched": 1}
    db_session.execute(insert(LedgerEntry), entry_rows(a, 0, 40) + entry_rows(b, 0, 7, "held"))
    db_session.commit()
    assert counts_by_state(db_session, a) == {"fetched": 41}
    assert counts_by_state(db_session, b) == {"held": 7}

    # One by one through the ORM, as the ledger moves entries.
    for entry in db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == a)):
        if entry.amazon_transaction_id.endswith(("1", "2")):
            entry.state = EntryState.READY
    db_session.commit()
    assert_counts_follow(db_session, a, b)

    # In bulk, as recovery and retries do; and other columns only (counts unchanged).
    db_session.execute(
        update(LedgerEntry)
        .where(col(LedgerEntry.organisation_id) == a, col(LedgerEntry.state) == "ready")
        .values(state="posted")
    )
    db_session.execute(update(LedgerEntry).values(attempts=LedgerEntry.attempts + 1))
    db_session.execute(
        update(LedgerEntry).where(col(LedgerEntry.organisation_id) == b).values(state="held")
    )  # a "change" to the state it already has
    db_session.commit()
    assert_counts_follow(db_session, a, b)
    assert counts_by_state(db_session, b) == {"held": 7}

    # An entry moved to another organisation, and deletes.
    db_session.execute(
        update(LedgerEntry)
        .where(col(LedgerEntry.amazon_transaction_id) == "one")
        .values(organisation_id=b)
    )
    db_session.execute(
        delete(LedgerEntry).where(col(LedgerEntry.amazon_transaction_id).like(f"T{a}-3%"))
    )
    db_session.commit()
    assert_counts_follow(db_session, a, b)

    # Folding keeps the sums and leaves one row per state.
    assert fold(db_session, a) > len(counts_by_state(db_session, a))
    assert_counts_follow(db_session, a, b)
    rows = db_session.exec(select(LedgerCount).where(LedgerCount.organisation_id == a)).all()
    assert sorted(row.state for row in rows) == sorted(counts_by_state(db_session, a))

    # An organisation deleted with its entries: its rows go at the next fold_counts.
    db_session.execute(delete(Organisation).where(col(Organisation.id) == b))
    db_session.commit()
    assert counted_by_state(db_session, b) == {}
    fold_counts(db_session, after_rows=10_000)
    assert db_session.exec(select(LedgerCount).where(LedgerCount.organisation_id == b)).all() == []
    assert_counts_follow(db_session, a)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_follow_random_writes_and_folds(db_session, seed):
    """200 random operations of every kind on three organisations, folding now and then."""
    chance = random.Random(seed)
    orgs = [new_org(db_session, f"org-{seed}-{n}") for n in range(3)]
    next_number = 0
    for _step in range(200):
        org_id = chance.choice(orgs)
        operation = chance.choice(["insert", "bulk", "move", "move_bulk", "delete", "fold"])
        if operation == "insert":
            db_session.add(
                LedgerEntry(
                    organisation_id=org_id,
                    amazon_transaction_id=f"R{next_number}",
                    state=chance.choice(list(EntryState)),
                )
            )
            next_number += 1
        elif operation == "bulk":
            size = chance.randint(1, 20)
            db_session.execute(
                insert(LedgerEntry), entry_rows(org_id, next_number, size, chance.choice(STATES))
            )
            next_number += size
        elif operation == "move":
            entries = db_session.exec(
                select(LedgerEntry).where(LedgerEntry.organisation_id == org_id).limit(5)
            ).all()
            for entry in entries:
                entry.state = chance.choice(list(EntryState))
        elif operation == "move_bulk":
            db_session.execute(
                update(LedgerEntry)
                .where(
                    col(LedgerEntry.organisation_id) == org_id,
                    col(LedgerEntry.state) == chance.choice(STATES),
                )
                .values(state=chance.choice(STATES))
            )
        elif operation == "delete":
            doomed = db_session.exec(
                select(LedgerEntry.id).where(LedgerEntry.organisation_id == org_id).limit(3)
            ).all()
            db_session.execute(delete(LedgerEntry).where(col(LedgerEntry.id).in_(doomed)))
        else:
            db_session.commit()
            fold_counts(db_session, after_rows=chance.choice([0, 5, 50]))
        db_session.commit()
    assert_counts_follow(db_session, *orgs)
    assert sum(sum(counts_by_state(db_session, o).values()) for o in orgs) == len(
        db_session.exec(select(LedgerEntry.id)).all()
    )


def test_folding_beside_concurrent_writers_loses_nothing(app, db_session):
    """Four threads move entries between states (each in its own transactions, as workers do)
    while another folds the organisation over and over; the counts still equal the ledger."""
    from plugin.db import session_scope

    org_id = new_org(db_session, "busy")
    db_session.execute(insert(LedgerEntry), entry_rows(org_id, 0, 200))
    db_session.commit()
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer(seed: int) -> None:
        chance = random.Random(seed)
        try:
            for _ in range(25):
                with session_scope(app) as session:
                    ids = session.exec(
                        select(LedgerEntry.id)
                        .where(LedgerEntry.organisation_id == org_id)
                        .offset(seed * 50)
                        .limit(50)
                    ).all()
                    session.execute(
                        update(LedgerEntry)
                        .where(col(LedgerEntry.id).in_(chance.sample(ids, 10)))
                        .values(state=chance.choice(STATES))
                    )
                    session.commit()
        except BaseException as error:
            failures.append(error)

    def folder() -> None:
        try:
            while not stop.is_set():
                with session_scope(app) as session:
                    fold(session, org_id)
                time.sleep(0.002)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    folding = threading.Thread(target=folder)
    folding.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    folding.join()
    assert failures == []
    assert_counts_follow(db_session, org_id)
    assert sum(counts_by_state(db_session, org_id).values()) == 200


def test_the_migration_starts_from_the_ledger_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine = make_engine(url, pooled=False)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisation (id, xero_tenant_id, name, country, base_currency, "
                "timezone, xero_scopes, status, sync_enabled, onboarding_step, created_at, "
                "updated_at) VALUES (5, 't-5', 'Org', '', '', '', '', 'active', 1, 'done', "
                ":now, :now)"
            ),
            {"now": now},
        )
        for number, state in enumerate(["posted", "posted", "held"]):
            connection.execute(
                text(
                    "INSERT INTO ledger_entry (organisation_id, amazon_transaction_id, "
                    "transaction_type, amount, currency, payload_hash, state, needs_review, "
                    "attempts, duplicate_cleared, created_at, updated_at) VALUES (5, :tx, "
                    "'CHARGE', 1, 'GBP', 'h', :state, 0, 0, 0, :now, :now)"
                ),
                {"tx": f"TX{number}", "state": state, "now": now},
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url, pooled=False)
    with Session(engine) as session:
        assert counts_by_state(session, 5) == {"posted": 2, "held": 1}
        session.add(LedgerEntry(organisation_id=5, amazon_transaction_id="new"))
        session.commit()
        assert counts_by_state(session, 5) == {"posted": 2, "held": 1, "fetched": 1}
    engine.dispose()


def test_the_cron_job_folds_crowded_organisations(app, db_session, run_jobs):
    from jobs.housekeeping import fold_ledger_counts
    from plugin.infra.queues import get_queue

    org_id = new_org(db_session, "crowded")
    for number in range(40):  # one statement each: 40 rows, more than FOLD_AFTER_ROWS
        db_session.execute(insert(LedgerEntry), entry_rows(org_id, number, 1))
    db_session.commit()
    get_queue("default", app).enqueue(fold_ledger_counts)
    assert run_jobs() == 1
    db_session.expire_all()
    rows = db_session.exec(select(LedgerCount).where(LedgerCount.organisation_id == org_id)).all()
    assert [(row.state, row.delta) for row in rows] == [("fetched", 40)]
