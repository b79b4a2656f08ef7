"""In a real browser (issue 15 point 10): a large history import from an Amazon slowed as the
proof suite slows it (every call takes a while), watched on the wizard's import step and then on
Manage Integrations' import section. Sampled every quarter second, the bar and the words move at
least every 2 seconds and say what is happening: the store, the page, fetched and new.

3,000 purchases over 90 days in the sandbox; the wizard imports 60 days of them (about 2,000,
some 20 pages of 100), Manage 30 days again (all already known). Screenshots of the running
import are kept beside the others in test-artifacts/."""

from __future__ import annotations

import itertools
import logging
import re
import time
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import utcnow
from tests.browser.test_wizard_flow import connect_amazon_uk
from tests.browser.test_wizard_flow import sign_up_with_xero
from tests.common.pipeline import finish_setup

pytestmark = pytest.mark.browser
log = logging.getLogger(__name__)

PURCHASES = 3000
AMAZON_SECONDS = 0.6  # each Amazon call, as the proof suite's ``latency`` slows them
MOVES_WITHIN = 2.0
WHERE = re.compile(r"UK store: page (\d+) — (\d+) fetched, (\d+) new")
NOW = re.compile(r"Asking Amazon for the next page…|Recording page \d+: \d+ of \d+…")
SAMPLE = """(selector) => {
  const box = document.querySelector(selector);
  if (!box) return null;
  const bar = box.querySelector("progress");
  return {value: bar ? bar.getAttribute("value") : null, text: box.innerText};
}"""


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return {"SANDBOX_AMAZON_TRANSACTIONS": PURCHASES, "SANDBOX_AMAZON_HISTORY_DAYS": 90}


def slow_amazon(sandbox_url: str, seconds: float) -> None:
    """Every Amazon call takes ``seconds`` (``tests/proof/scenario.py``'s ``latency``)."""
    answer = requests.post(
        f"{sandbox_url}/_sandbox/faults",
        json={"service": "amazon", "rates": {"slow": 1.0}, "slow_seconds": seconds},
        timeout=10,
    )
    answer.raise_for_status()


def watch(page, selector: str, finished: str, shots_at: tuple[int, ...]) -> list[dict]:
    """Sample the import's box every quarter second until ``finished`` shows; screenshots (no
    axe-core run, which would stall the sampling) at the given sample numbers."""
    samples: list[dict] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = page.evaluate(SAMPLE, selector)
        if seen is not None:
            samples.append({**seen, "at": time.monotonic()})
            if finished in seen["text"]:
                return samples
            if len(samples) in shots_at:
                shots = page.shots
                shots.count += 1
                path = shots.folder / f"{shots.count:02d}-{selector[1:]}-sample-{len(samples)}.png"
                page.screenshot(path=str(path), full_page=True)
        time.sleep(0.25)
    raise AssertionError(f"{selector}: not finished after 120 s; last seen {samples[-1:]}")


def assert_moves_and_says_where(samples: list[dict], label: str) -> list[int]:
    """From the first page named to the end, something changes at least every 2 s, each
    running sample names store, page, fetched and new, and the bar never moves back; the
    pages seen."""
    running = [s for s in samples if WHERE.search(s["text"])]
    assert len(running) >= 8, f"{label}: too few running samples {samples}"
    first = samples.index(running[0])
    changes = [samples[first]["at"]]
    for before, after in zip(samples[first:], samples[first + 1 :], strict=False):
        if (before["text"], before["value"]) != (after["text"], after["value"]):
            changes.append(after["at"])
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(changes)]
    assert max(gaps) <= MOVES_WITHIN, f"{label}: still for {max(gaps)} s; gaps {gaps}"
    pages, values = [], []
    for sample in running:
        page_number, fetched, new = (int(n) for n in WHERE.search(sample["text"]).groups())
        assert 0 <= new <= fetched
        assert NOW.search(sample["text"]), sample["text"]
        pages.append(page_number)
        values.append(int(sample["value"]))
    assert pages == sorted(pages), f"{label}: the page moved back"
    assert values == sorted(values), f"{label}: the bar moved back"
    assert values[-1] > values[0], f"{label}: the bar never moved ({values})"
    log.info(
        "%s: %d samples, %d changes, longest still %s s",
        label,
        len(samples),
        len(changes),
        max(gaps),
    )
    return pages


def test_a_large_import_shows_progress_you_can_watch(live_app, page):
    sign_up_with_xero(page, live_app.url)
    connect_amazon_uk(page)
    org_id = int(re.search(r"/orgs/(\d+)/", page.url).group(1))
    slow_amazon(live_app.sandbox.url, AMAZON_SECONDS)

    # The wizard: 60 days of a 3,000-purchase history.
    today = utcnow().date()
    page.fill("#start", (today - timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Start import").click()
    page.locator("#import-progress").wait_for()
    page.get_by_text(WHERE).wait_for(timeout=20_000)
    page.shots("wizard import running")  # axe-core on the running page, before sampling
    samples = watch(page, "#import-progress", "Import finished.", (8, 32, 60))
    pages = assert_moves_and_says_where(samples, "wizard")
    assert pages[-1] >= 15
    page.shots("wizard import finished")
    with session_scope(live_app.app) as db:
        run = db.exec(select(ImportRun).where(ImportRun.organisation_id == org_id)).one()
        assert run.fetched >= 1500
    done = page.locator("#import-progress").inner_text()
    assert f"{run.new} new purchases imported" in done
    assert re.search(rf"Fetched\s+{run.fetched}\b", done)

    # Manage Integrations: 30 days again, every purchase already known.
    with session_scope(live_app.app) as db:
        org = db.get(Organisation, org_id)
    finish_setup(live_app.app, org)
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.fill("#import-start", (today - timedelta(days=30)).isoformat())
    page.fill("#import-end", today.isoformat())
    page.locator("#manage-import").get_by_role("button", name="Import").click()
    page.locator("#manage-import").get_by_text(WHERE).wait_for(timeout=20_000)
    page.shots("manage import running")
    samples = watch(page, "#manage-import", "already known", (8, 24))
    assert_moves_and_says_where(samples, "manage")
    assert all(WHERE.search(s["text"]).group(3) == "0" for s in samples if WHERE.search(s["text"]))
    page.shots("manage import finished")
    with session_scope(live_app.app) as db:
        manual = db.exec(
            select(ImportRun).where(
                ImportRun.organisation_id == org_id, ImportRun.trigger == ImportTrigger.MANUAL
            )
        ).one()
    assert manual.new == 0
    assert manual.already_known > 500
    said = page.locator("#manage-import").inner_text()
    assert f"0 new, {manual.already_known} already known" in said
