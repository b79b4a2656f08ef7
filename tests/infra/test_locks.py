"""The organisation's locks (plugin/infra/locks.py) in a real Redis: who holds one, and that a
worker whose lock expired and was taken by another never releases or extends the other's."""

from __future__ import annotations

import time

import pytest

from plugin.infra.locks import ATTACH
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import org_lock
from plugin.infra.locks import running_holder
from plugin.infra.locks import seconds_left


def expire_now(redis_client, key: str) -> None:
    """What Redis does when a lock's ttl runs out under a slow or stopped worker."""
    redis_client.pexpire(key, 1)
    time.sleep(0.05)
    assert not redis_client.exists(key)


def test_the_holder_is_the_lock_and_is_reported(redis_client):
    with org_lock(redis_client, 7, "import-41", ttl=60):
        assert redis_client.get("lock:org-work:7") == b"import-41"
        assert running_holder(redis_client, 7) == "import-41"
        assert 55 < seconds_left(redis_client, 7) <= 60
        with pytest.raises(AlreadyRunning) as busy, org_lock(redis_client, 7, "post-7"):
            pass
        assert (busy.value.org_id, busy.value.job_id) == (7, "import-41")
    assert running_holder(redis_client, 7) is None
    assert seconds_left(redis_client, 7) < 0


def test_the_attach_lock_does_not_hold_up_posting(redis_client):
    with org_lock(redis_client, 7, "attach-7", purpose=ATTACH):
        assert redis_client.get("lock:org-attach:7") == b"attach-7"
        assert running_holder(redis_client, 7) is None
        with org_lock(redis_client, 7, "post-7"):
            assert running_holder(redis_client, 7) == "post-7"


def test_keep_alive_renews_the_lock(redis_client):
    with org_lock(redis_client, 7, "import-41", ttl=60) as keep_alive:
        redis_client.expire("lock:org-work:7", 5)
        keep_alive()
        assert seconds_left(redis_client, 7) > 55


def test_a_worker_whose_lock_expired_and_was_taken_never_releases_the_new_holders(redis_client):
    with org_lock(redis_client, 7, "import-41", ttl=60) as keep_alive:
        expire_now(redis_client, "lock:org-work:7")
        with org_lock(redis_client, 7, "import-41-resume-1", ttl=120):
            keep_alive()  # the first worker wakes up: it must not extend the new holder's lock
            assert seconds_left(redis_client, 7) > 60
            # ... and leaving its block must not delete it
        assert running_holder(redis_client, 7) is None  # the new holder released its own


def test_leaving_after_the_new_holder_took_over_keeps_the_new_holders_lock(redis_client):
    first = org_lock(redis_client, 7, "import-41", ttl=60)
    first.__enter__()
    expire_now(redis_client, "lock:org-work:7")
    second = org_lock(redis_client, 7, "import-41-resume-1", ttl=60)
    second.__enter__()
    first.__exit__(None, None, None)  # the first worker ends late
    assert running_holder(redis_client, 7) == "import-41-resume-1"
    second.__exit__(None, None, None)
    assert running_holder(redis_client, 7) is None


def test_a_run_busy_for_longer_than_the_ttl_keeps_its_lock(redis_client):
    """Issue 19 point 5: the heartbeat renews the lock while the run is inside one long call
    (it used to be renewed only between batches, so a 3-second lock lapsed under a 20-second
    Xero and a second run started)."""
    with org_lock(redis_client, 7, "post-7", ttl=1):
        time.sleep(2.5)  # one slow call, no keep_alive from the run itself
        assert running_holder(redis_client, 7) == "post-7"
        with pytest.raises(AlreadyRunning), org_lock(redis_client, 7, "post-later-7", ttl=1):
            pass
    assert running_holder(redis_client, 7) is None


def test_the_heartbeat_never_takes_back_a_lock_it_lost(redis_client):
    """A Redis that restarted empty forgot the lock, and another run took it: the first run's
    heartbeat leaves the new holder's lock alone."""
    with org_lock(redis_client, 7, "post-7", ttl=1):
        redis_client.delete("lock:org-work:7")
        time.sleep(0.5)
        assert running_holder(redis_client, 7) is None  # not re-created
        with org_lock(redis_client, 7, "post-later-7", ttl=30):
            time.sleep(0.5)
            assert running_holder(redis_client, 7) == "post-later-7"
            assert seconds_left(redis_client, 7) > 25
