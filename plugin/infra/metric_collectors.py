"""The figures ``/metrics`` reads at scrape time rather than counting as they change: the RQ
queue depths (per queue: waiting, running, scheduled, failed) and the ledger's entries by state
(one ``GROUP BY`` on the ``organisation_id, state`` index)."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import select

from plugin.models import EntryState
from plugin.models import LedgerEntry


class QueueDepthCollector(Collector):
    """``abx_queue_jobs{queue, state}``; ``abx_redis_up`` 0 when Redis does not answer."""

    def __init__(self, queues: Sequence[Queue]) -> None:
        self.queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = GaugeMetricFamily(
            "abx_queue_jobs", "Jobs per RQ queue and state.", labels=["queue", "state"]
        )
        up = GaugeMetricFamily("abx_redis_up", "1 when Redis answered the scrape.")
        try:
            for queue in self.queues:
                depths.add_metric([queue.name, "queued"], queue.count)
                depths.add_metric([queue.name, "started"], queue.started_job_registry.count)
                depths.add_metric([queue.name, "scheduled"], queue.scheduled_job_registry.count)
                depths.add_metric([queue.name, "failed"], queue.failed_job_registry.count)
        except (redis.RedisError, OSError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield depths


class EntriesByStateCollector(Collector):
    """``abx_ledger_entries{state}``: every organisation's entries, per state (0 included)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "abx_ledger_entries", "Ledger entries per state.", labels=["state"]
        )
        counts = dict.fromkeys((str(state) for state in EntryState), 0)
        with Session(self.engine) as session:
            rows = session.exec(select(LedgerEntry.state, func.count()).group_by(LedgerEntry.state))
            for state, count in rows:
                counts[str(state)] = int(count)
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family
