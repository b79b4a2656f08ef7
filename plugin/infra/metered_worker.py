"""The RQ worker class the app runs (``run_worker``): RQ's forking ``Worker`` that counts each
job's outcome (``abx_jobs_total``), gives its work-horses one metrics file per worker
(``plugin/infra/metrics.py``), puts the job's ids on every log line about it
(``plugin/infra/log_context.py``) and bumps its organisation's change signal when it ends
(``plugin/infra/job_ends.py``)."""

from __future__ import annotations

from typing import Any

from rq import Queue
from rq import Worker
from rq.job import Job

from plugin.infra import job_ends
from plugin.infra import log_context
from plugin.infra import metrics


class MeteredWorker(Worker):
    """``rq.Worker`` with the outcome of every job counted where RQ records it."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        log_context.working_on(job)  # the work-horse forked from here inherits it
        try:
            super().execute_job(job, queue)
        finally:
            log_context.working_on(None)

    def unsubscribe(self) -> None:
        """Stop listening for commands without waiting out a 60-second read: RQ sends
        UNSUBSCRIBE and then stops the pub/sub thread, and redis-py 8.2's ``stop`` joins it with
        no time-out; when the thread had already read the reply and gone back to its 60-second
        ``get_message``, a burst or stopping worker hung for a minute. Clearing the thread's
        flag first makes the UNSUBSCRIBE reply end its loop."""
        thread = self.pubsub_thread
        if thread is not None:
            thread._running.clear()
        super().unsubscribe()

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        metrics.enter_work_horse()
        super().main_work_horse(job, queue)

    def handle_job_success(
        self, job: Job, queue: Queue, started_job_registry: Any, execution: Any
    ) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)
        metrics.job_finished(queue.name, job.func_name or "?", "succeeded")
        self._tell_the_page(job)

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Any = None,
    ) -> None:
        # Read before RQ clears them: a stop asked for, or a retry still to come.
        if self._stopped_job_id == job.id:
            outcome = "stopped"
        elif job.should_retry:
            outcome = "retried"
        else:
            outcome = "failed"
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        metrics.job_finished(queue.name, job.func_name or "?", outcome)
        self._tell_the_page(job)

    def _tell_the_page(self, job: Job) -> None:
        """Bump the organisation's change signal (Manage Integrations refreshes within 2 s)."""
        org_id = log_context.org_of_job(job)
        if org_id is not None:
            job_ends.job_ended(self.connection, org_id)
