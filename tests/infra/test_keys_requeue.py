"""A job queued for later waits under one of two ids, never the id of the job running now: RQ
deletes a finished job's key (``result_ttl=0``), which would delete the job just scheduled
under the same id (found by scripts/bench_import.py at 10,000 transactions; the choice between
the two is ``plugin.infra.queues.enqueue_later``, tested in tests/work/test_recovery.py)."""

from __future__ import annotations

from plugin.infra import keys


def test_every_retry_has_two_ids():
    assert keys.post_later_job_ids(7) == ("post-later-7", "post-later-7-again")
    assert keys.post_after_busy_job_ids(7) == ("post-after-busy-7", "post-after-busy-7-again")
    assert keys.post_lookup_job_ids(7) == ("post-lookup-7", "post-lookup-7-again")
    assert keys.settle_later_job_ids(7) == ("settle-later-7", "settle-later-7-again")
    assert keys.import_later_job_ids(5) == ("import-5-later", "import-5-later-again")
