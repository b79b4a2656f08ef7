"""In a real browser (issue 15 point 5, outages named rightly): with the sandbox's Xero
answering 429 to every call, Manage's status says Xero asked us to slow down; answering 503,
that Xero is unavailable; each with what happens next, and neither says Xero is failing.
(Xero answering 500 is ``test_manage_messages.test_xero_failing_is_named_on_the_status``.)"""

from __future__ import annotations

import pytest
import requests

from plugin.infra.queues import get_queue
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.browser.test_manage_messages import _imported
from tests.browser.test_manage_messages import _section_shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("fault", "headline", "next_step"),
    [
        ("429", "Xero asked us to slow down; posting resumes at ", "posting carries on by itself"),
        (
            "503",
            "Xero is unavailable (maintenance or the organisation is offline)",
            "when Xero is back",
        ),
    ],
    ids=["rate-limited", "unavailable"],
)
def test_an_outage_is_named_for_what_it_is(live_app, page, fault, headline, next_step):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    _imported(app, org_id)
    answer = requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"service": "xero", "rates": {fault: 1.0}},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    get_queue("high", app).enqueue("jobs.posting.post_ready", org_id)

    def notice() -> str:
        page.goto(f"{live_app.url}/orgs/{org_id}/manage")
        shown = page.locator("#xero-pause")
        return shown.inner_text() if shown.count() else ""

    said = wait_until(f"the {fault} pause on the status", notice, timeout=60)
    assert said.startswith(headline), said
    assert next_step in said
    assert "failing" not in page.locator("#manage-status").inner_text()
    _section_shot(page, "#manage-status", f"xero answering {fault}")
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"clear": True}, timeout=10)
