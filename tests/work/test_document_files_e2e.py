"""Amazon's report documents as they really are (spec §9 item 3), end to end with the sandbox.

The sandbox serves each document as a ZIP archive holding the PDF, every other one gzipped as
well; on request it serves an archive holding something else, or a corrupt archive. The PDF
inside is attached; anything else is kept on the entry as a clear reason, nothing is attached,
and the run goes on.
"""

from __future__ import annotations

import pytest
import requests

from plugin.infra.queues import get_queue
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents


def _posted(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=20)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"speed": 30}, timeout=5)  # reports
    return app, client, org


def _attach(app, org, run_jobs, limit):
    job = get_queue("low", app).enqueue("jobs.attachments.attach_documents", org.id, limit)
    run_jobs()
    job.refresh()
    return job.return_value()


def _files_by_document(sandbox, org):
    documents = sandbox_documents(sandbox, org)
    return {
        document[id_field]: [a["FileName"] for a in document.get("Attachments") or []]
        for endpoint, id_field in (
            ("BankTransactions", "BankTransactionID"),
            ("Invoices", "InvoiceID"),
            ("CreditNotes", "CreditNoteID"),
        )
        for document in documents[endpoint]
    }


def test_zip_and_gzip_zip_documents_are_attached_as_their_pdf(pipeline, sandbox, run_jobs):
    app, _client, org = _posted(pipeline, sandbox, run_jobs)
    # ALTERNATE (the default): the first report's document is a ZIP, the second gzip+ZIP.
    answer = _attach(app, org, run_jobs, 2)
    assert answer["attached"] == 2
    assert answer["unreadable"] == 0
    stats = requests.get(f"{sandbox.url}/_sandbox/amazon/stats", timeout=5).json()
    assert stats["downloads"] == 2
    files = _files_by_document(sandbox, org)
    attached = [e for e in ledger_entries(app, org) if e.attachment_state == "attached"]
    assert len(attached) == 2
    for entry in attached:
        assert files[entry.xero_document_id] == [f"Amazon-{entry.invoice_number}.pdf"]
        assert entry.attachment_note is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        # Both wait out the Document API's pace (0.1 requests a second); the unit cases in
        # tests/amazon/test_reports.py cover every kind of bad download in the default run.
        pytest.param("not_pdf", "which is not a PDF", marks=pytest.mark.slow),
        ("corrupt_zip", "ZIP archive that could not be opened"),
    ],
)
def test_a_document_that_is_not_a_pdf_is_kept_as_a_reason_not_attached(
    pipeline, sandbox, run_jobs, content, reason
):
    app, client, org = _posted(pipeline, sandbox, run_jobs)
    requests.post(f"{sandbox.url}/_sandbox/amazon/reports", json={"content": content}, timeout=5)
    answer = _attach(app, org, run_jobs, 2)
    assert answer == {
        "org": org.id,
        "attached": 0,
        "unavailable": 0,
        "unreadable": 2,
        "order_summaries": 0,
        "budget_reserved": False,
    }
    unreadable = [e for e in ledger_entries(app, org) if e.attachment_state == "unreadable"]
    assert len(unreadable) == 2
    files = _files_by_document(sandbox, org)
    for entry in unreadable:
        assert reason in entry.attachment_note
        assert "it was not attached" in entry.attachment_note
        assert files[entry.xero_document_id] == []
    page = client.get(f"/orgs/{org.id}/entries/{unreadable[0].amazon_transaction_id}")
    text = page.get_data(as_text=True)
    assert "Amazon&#39;s document could not be read" in text
    assert reason in text

    # Amazon serves PDFs again: the next entries are attached, the unreadable ones kept as they are.
    requests.post(f"{sandbox.url}/_sandbox/amazon/reports", json={"content": "pdf"}, timeout=5)
    assert _attach(app, org, run_jobs, 2)["attached"] == 2
    states = sorted(str(e.attachment_state) for e in ledger_entries(app, org) if e.attachment_state)
    assert states == ["attached", "attached", "unreadable", "unreadable"]
