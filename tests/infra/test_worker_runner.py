"""plugin/infra/worker_runner.py: a worker whose RQ loop ends on a Redis error starts again in the
same process once Redis answers, and stops for good when asked to."""

from __future__ import annotations

import redis

from plugin.infra import worker_runner


class FakeWorker:
    """Stands in for rq.Worker: the first loop dies with Redis, the second is stopped."""

    made: list[FakeWorker] = []

    def __init__(
        self, queues, connection, name, maintenance_interval, worker_ttl, job_monitoring_interval
    ):
        assert job_monitoring_interval == 10  # beats for its job often enough for job_alive
        self.name = name
        self.horse_pid = 0
        self._stop_requested = False
        self._shutdown_requested_date = None
        self.deaths = 0
        FakeWorker.made.append(self)

    def work(self, with_scheduler, burst, logging_level):
        if len(FakeWorker.made) == 1:
            raise redis.ConnectionError("Redis went away mid-job")
        self._shutdown_requested_date = "now"  # SIGTERM while idle

    def register_death(self):
        self.deaths += 1


def test_a_worker_that_lost_redis_starts_again_once_redis_answers(monkeypatch):
    FakeWorker.made = []
    looks = iter([False, False, True])
    monkeypatch.setattr(worker_runner, "Worker", FakeWorker)
    monkeypatch.setattr(worker_runner, "redis_ok", lambda client: (next(looks), "down"))
    starts, pauses = [], []
    restarts = worker_runner.run_worker(
        [], None, "w", burst=False, on_start=lambda: starts.append(1), sleep=pauses.append
    )
    assert restarts == 1
    assert [w.name for w in FakeWorker.made] == ["w", "w-1"]
    assert len(starts) == 2  # the recovery job is queued by each fresh worker
    assert pauses == [1, 2]  # backed off while Redis did not answer
    assert FakeWorker.made[0].deaths == 1  # the old worker is marked dead
    assert FakeWorker.made[1].deaths == 0


def test_a_burst_worker_is_never_restarted(monkeypatch):
    FakeWorker.made = []
    monkeypatch.setattr(worker_runner, "Worker", FakeWorker)
    assert worker_runner.run_worker([], None, None, burst=True, on_start=lambda: None) == 0
    assert len(FakeWorker.made) == 1
