"""Issue 16 point 3 end to end against the live sandbox: one Amazon Business account (Thames
Stationery's, UK store) buys for two legal entities, each its own Xero organisation with its
own person: Thames Stationery Ltd (Alice) and Thames Stationery (Scotland) Ltd (Fiona).

Thames connects first and, alone on the account, takes both legal entities by itself; before
posting, Alice gives up Scotland, whose purchases are then held in Thames with that reason and
shown as taken by no organisation. Fiona connects the same account: Thames's purchases are left
to Thames (not imported into Scotland), Scotland's are held until Fiona takes them; she cannot
take Thames's (a clear message that does not name the organisation she is not a member of);
once she takes Scotland, its purchases post in Scotland's books and leave Thames's held list.
In the end every transaction is in exactly one ledger, each organisation's Xero holds only its
own legal entity's documents, each once, and nothing fetched is missing."""

from __future__ import annotations

from collections import Counter

import jobs.context
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.posting import legal_entities as le
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import THAMES
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents

SCOTLAND = "Thames Stationery (Scotland) Ltd"  # the Xero organisation and the legal entity
LTD = THAMES  # Thames's legal entity has its organisation's name
AMAZON_ADMIN = "buyer-admin-uk@example.com"  # admin of every legal entity of the account


def entity(entry) -> str:
    return le.entity_of(entry.raw_payload.get("legalEntityName"))


def install(app, sandbox, email: str, name: str):
    client = xero_install(app, sandbox.url, email, [name])
    with session_scope(app) as db:
        org = next(
            o for o in db.exec(__import__("sqlmodel").select(Organisation)) if o.name == name
        )
    answer = amazon_connect(client, org.id, "UK", AMAZON_ADMIN)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    finish_setup(app, org, include_new_card=True)
    return client, org


def import_and_post(app, org, run_jobs) -> None:
    run = import_days(app, org, trigger=ImportTrigger.MANUAL)  # a manual import does not post
    run_jobs()
    with session_scope(app) as db:
        assert db.get(type(run), run.id).state == "succeeded"
    post(app, org, run_jobs)


def post(app, org, run_jobs) -> None:
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()


def section(client, org) -> str:
    response = client.get(f"/orgs/{org.id}/legal-entities", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def choose(client, org, *names: str):
    return client.post(
        f"/orgs/{org.id}/legal-entities",
        data={"entity": list(names)},
        headers={"HX-Request": "true"},
    )


def test_two_organisations_on_one_amazon_account_each_get_their_own_legal_entity(
    app_config, make_app, sandbox, monkeypatch, run_jobs
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app_config.update(sandbox_settings(sandbox.url))
    app = make_app(app_config)
    jobs.context.use_app(app)
    alice, thames = install(app, sandbox, "alice@example.com", THAMES)

    # Thames alone on the account: it imports everything and takes both entities by itself.
    run = import_days(app, thames, trigger=ImportTrigger.MANUAL)
    run_jobs()
    fetched = {e.amazon_transaction_id: entity(e) for e in ledger_entries(app, thames)}
    assert set(fetched.values()) == {LTD, SCOTLAND}, Counter(fetched.values())
    assert 'value="Thames Stationery (Scotland) Ltd" checked' in section(alice, thames)

    # Before posting, Alice gives Scotland up: its purchases are held, shown as taken by nobody.
    assert choose(alice, thames, LTD).status_code == 200
    post(app, thames, run_jobs)
    entries = ledger_entries(app, thames)
    held_scotland = [e for e in entries if entity(e) == SCOTLAND]
    assert held_scotland
    assert all(e.state == EntryState.HELD for e in held_scotland)
    assert {e.reason_code for e in held_scotland} == {le.NOT_TAKEN}
    assert held_scotland[0].reason.startswith(f"Legal entity {SCOTLAND} is not taken")
    shown = section(alice, thames)
    assert "taken by no" in shown
    assert f"{len(held_scotland)} purchases held here for it" in shown
    assert any(e.state == EntryState.POSTED for e in entries if entity(e) == LTD)

    # Fiona's organisation connects the same Amazon account (the same store).
    fiona, scotland = install(app, sandbox, "fiona@example.com", SCOTLAND)
    import_and_post(app, scotland, run_jobs)
    theirs = ledger_entries(app, scotland)
    assert theirs, "Scotland's purchases are imported into Scotland's ledger"
    assert {entity(e) for e in theirs} == {SCOTLAND}  # Thames's are left to Thames
    assert {e.reason_code for e in theirs} == {le.NOT_TAKEN}  # not taken yet: held, shown
    seen_by_fiona = section(fiona, scotland)
    assert "Taken by another Xero organisation" in seen_by_fiona  # not "Thames Stationery Ltd"
    assert "taken by no" in seen_by_fiona

    # Fiona cannot take Thames's legal entity: the database says no, the page says why.
    refused = choose(fiona, scotland, LTD, SCOTLAND)
    assert refused.status_code == 409
    text = " ".join(refused.get_data(as_text=True).split())
    assert f"{LTD} is already taken by another Xero organisation" in text
    assert "Alice" not in text
    assert "alice@" not in text
    # ... but Scotland was free: she took it, and Thames's held copies left its list.
    assert "now takes Thames Stationery (Scotland) Ltd" in text
    post(app, scotland, run_jobs)

    in_thames = ledger_entries(app, thames)
    in_scotland = ledger_entries(app, scotland)
    assert not [e for e in in_thames if entity(e) == SCOTLAND]
    assert {entity(e) for e in in_scotland} == {SCOTLAND}
    ids_thames = {e.amazon_transaction_id for e in in_thames}
    ids_scotland = {e.amazon_transaction_id for e in in_scotland}
    assert not ids_thames & ids_scotland  # never in two ledgers
    assert ids_thames | ids_scotland == set(fetched)  # nothing fetched is missing
    posted_thames = assert_exactly_once(app, sandbox, thames)
    posted_scotland = assert_exactly_once(app, sandbox, scotland)
    assert posted_scotland, "Scotland's purchases posted in Scotland's books"
    assert {entity(e) for e in posted_thames} == {LTD}
    assert {entity(e) for e in posted_scotland} == {SCOTLAND}
    # Xero: no transaction has a document in both organisations (0 duplicates).
    references = Counter()
    for org in (thames, scotland):
        for document in sandbox_documents(sandbox, org)["BankTransactions"]:
            references[document["Reference"].split()[-1]] += 1
    assert references
    assert max(references.values()) == 1
    assert run.id
