"""A posting job paused by a rate limit re-queues itself under an id other than its own: RQ
deletes a finished job's key (``result_ttl=0``), which would delete the job just scheduled
under the same id (found by scripts/bench_import.py at 10,000 transactions)."""

from __future__ import annotations

from plugin.infra.keys import post_later_job_id


def test_first_pause_uses_the_known_id():
    assert post_later_job_id(7, "post-7") == "post-later-7"
    assert post_later_job_id(7, None) == "post-later-7"


def test_a_paused_later_job_never_reuses_its_own_id():
    assert post_later_job_id(7, "post-later-7") == "post-later-7-again"
    assert post_later_job_id(7, "post-later-7-again") == "post-later-7"


def test_a_busy_retry_never_reuses_its_own_id():
    """The same trap for the retry after a busy organisation: a second busy in a row was
    dropped (``DuplicateJobError`` for the running job's own id) and never retried."""
    assert post_later_job_id(7, "post-7", "after-busy") == "post-after-busy-7"
    assert post_later_job_id(7, "post-after-busy-7", "after-busy") == "post-after-busy-7-again"
    assert post_later_job_id(7, "post-after-busy-7-again", "after-busy") == "post-after-busy-7"
