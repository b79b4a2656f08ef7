"""Review before posting (issue 16 point 4) end to end: Thames Stationery against the live
sandbox, through the review page (Flask test clients) and real Redis + RQ workers. In review
mode an import posts nothing; approving a selection posts exactly those, once (a second click
posts nothing more); a purchase whose coding was changed posts with the account chosen; two
"approve all" at the same moment post every other purchase once; the sandbox's Xero then holds
one document per approved purchase and no other."""

from __future__ import annotations

import re
import threading
from html import unescape

from sqlmodel import select

from plugin import ledger
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import User
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.common.purchases_e2e import connected_thames
from tests.common.web import sign_in_on

HTMX = {"HX-Request": "true"}


def signed_in(app):
    with session_scope(app) as db:
        user = db.exec(select(User)).one()
    return sign_in_on(app, app.test_client(), user)


def in_state(app, org, state) -> list:
    return sorted(
        (e for e in ledger_entries(app, org) if e.state == state), key=lambda e: int(e.id)
    )


def documents_by_transaction(sandbox, org, entries) -> dict[str, list[dict]]:
    """The sandbox's documents that carry each entry's Amazon transaction id."""
    found: dict[str, list[dict]] = {}
    for endpoint in ("BankTransactions", "Invoices", "CreditNotes"):
        for document in sandbox_documents(sandbox, org)[endpoint]:
            text = " ".join(
                [str(document.get("Reference", ""))]
                + [str(line.get("Description", "")) for line in document.get("LineItems", [])]
            )
            for entry in entries:
                if entry.amazon_transaction_id in text:
                    found.setdefault(entry.amazon_transaction_id, []).append(document)
    return found


def form_fields(fragment: str) -> dict[str, str]:
    """The selects of the coding form with their selected options, and its hidden inputs."""
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', fragment
        )
    }
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)">(.*?)</select>', fragment, re.S
    ):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        first = re.search(r'<option value="([^"]*)"', body)
        fields[name] = unescape((selected or first).group(1)) if (selected or first) else ""
    return fields


def test_review_mode_posts_only_what_is_approved_each_once(
    app_config, make_app, sandbox, monkeypatch, run_jobs
):
    app, org = connected_thames(app_config, make_app, sandbox, monkeypatch)
    client = signed_in(app)
    answer = client.post(f"/orgs/{org.id}/review/mode", data={"review": "1"}, headers=HTMX)
    assert answer.status_code == 200
    assert "Review before posting is on" in answer.get_data(as_text=True)

    import_days(app, org, days=30)
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()
    waiting = in_state(app, org, EntryState.REVIEW)
    assert len(waiting) >= 8, "the sandbox's 30 days hold purchases to review"
    assert not in_state(app, org, EntryState.POSTED)
    assert documents_by_transaction(sandbox, org, waiting) == {}  # nothing in Xero
    with session_scope(app) as db:
        counts = ledger.counts_by_state(db, org.id)
    assert counts["review"] == len(waiting)

    page = client.get(f"/orgs/{org.id}/review").get_data(as_text=True)
    assert f"{len(waiting)} purchases waiting for your review" in page
    newest = max(waiting, key=lambda e: (e.transaction_date, e.id))
    assert newest.amazon_transaction_id in page  # the would-be document's reference
    assert "Amazon Business" in page
    manage = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert f"{len(waiting)} purchases are waiting for your review" in manage

    # Approve a selection (twice: a double click); exactly those post, once.
    chosen = [waiting[0], waiting[1]]
    data = {"entry_ids": [str(e.id) for e in chosen]}
    first = client.post(f"/orgs/{org.id}/review/approve", data=data, headers=HTMX)
    assert "Approved 2 purchases" in first.get_data(as_text=True)
    again = client.post(f"/orgs/{org.id}/review/approve", data=data, headers=HTMX)
    assert "Nothing to approve" in again.get_data(as_text=True)
    run_jobs()
    posted = in_state(app, org, EntryState.POSTED)
    assert {e.id for e in posted} == {e.id for e in chosen}
    in_xero = documents_by_transaction(sandbox, org, waiting)
    assert set(in_xero) == {e.amazon_transaction_id for e in chosen}
    assert all(len(in_xero[e.amazon_transaction_id]) == 1 for e in chosen)
    assert_exactly_once(app, sandbox, org)

    # Change one purchase's coding, then save and approve it: it posts with that account.
    recoded = waiting[2]
    form = client.get(f"/orgs/{org.id}/review/{recoded.id}/coding", headers=HTMX)
    fragment = form.get_data(as_text=True)
    fields = form_fields(fragment)
    accounts = re.findall(
        r'<option value="([^"]+)"',
        re.search(r'name="lines-0-account">(.*?)</select>', fragment, re.S).group(1),
    )
    mapped = fields["lines-0-account"]
    other = next(code for code in accounts if code != mapped)
    fields.update({"lines-0-account": other, "action": "approve"})
    saved = client.post(f"/orgs/{org.id}/review/{recoded.id}/coding", data=fields, headers=HTMX)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert "Coding saved. Approved 1 purchase" in saved.get_data(as_text=True)
    run_jobs()
    after = next(e for e in ledger_entries(app, org) if e.id == recoded.id)
    assert after.state == EntryState.POSTED, (after.state, after.reason, fields)
    [document] = documents_by_transaction(sandbox, org, [recoded])[recoded.amazon_transaction_id]
    assert document["LineItems"][0]["AccountCode"] == other

    # Two "approve all" at the same moment, from two tabs: every other purchase posts once.
    page = client.get(f"/orgs/{org.id}/review").get_data(as_text=True)
    as_of = unescape(re.search(r'name="as_of" value="([^"]+)"', page).group(1))
    rest = in_state(app, org, EntryState.REVIEW)
    tabs = [signed_in(app), signed_in(app)]
    start = threading.Barrier(2)
    answers: list[str] = []

    def approve_all(tab) -> None:
        start.wait()
        reply = tab.post(
            f"/orgs/{org.id}/review/approve", data={"all": "1", "as_of": as_of}, headers=HTMX
        )
        answers.append(reply.get_data(as_text=True))

    threads = [threading.Thread(target=approve_all, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    approved = [int(m) for text in answers for m in re.findall(r"Approved (\d+) purchase", text)]
    assert sum(approved) == len(rest)
    run_jobs()
    assert not in_state(app, org, EntryState.REVIEW)
    posted = assert_exactly_once(app, sandbox, org)
    assert {e.id for e in posted} == {e.id for e in waiting}
    in_xero = documents_by_transaction(sandbox, org, waiting)
    assert all(len(in_xero[e.amazon_transaction_id]) == 1 for e in waiting)
