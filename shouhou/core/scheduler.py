"""The periodic scheduler that runs inside every worker (``shouhou worker``).

Apps register time-based jobs (the outbox sweeper, offer expiry, SLA ticks, reminders) with
:func:`periodic`; the scheduler loop calls each job when it is due. Any number of workers may
run the loop: a job runs only after this worker wins its lease with a conditional UPDATE on
``PeriodicJobState``, so one tick of a job runs once however many workers there are. Jobs must
be idempotent and quick (a job with heavy work enqueues tasks instead of doing it inline); a
worker that dies mid-job leaves a lease that expires after ``lease`` and the job runs again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from shouhou.core.models import PeriodicJobState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    func: Callable[[], object]
    lease: dt.timedelta


_JOBS: dict[str, PeriodicJob] = {}


def periodic(
    name: str, *, every: dt.timedelta, lease: dt.timedelta | None = None
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register ``func`` to run every ``every`` in the worker's scheduler.

    ``lease`` bounds one run: if the worker running it dies, another may start the job after
    that long (default: ten times the period, at least five minutes).
    """

    def register(func: Callable[[], object]) -> Callable[[], object]:
        _JOBS[name] = PeriodicJob(
            name=name,
            every=every,
            func=func,
            lease=lease or max(every * 10, dt.timedelta(minutes=5)),
        )
        return func

    return register


def registered_jobs() -> dict[str, PeriodicJob]:
    """Every registered job; importing each app's ``jobs`` module registers its jobs."""
    autodiscover_modules("jobs")
    return dict(_JOBS)


def job_try_run(*, job: PeriodicJob, worker_id: str) -> bool:
    """Run ``job`` if it is due and this worker wins its lease; True if it ran."""
    now = timezone.now()
    PeriodicJobState.objects.bulk_create(
        [PeriodicJobState(name=job.name, next_run_at=now)], ignore_conflicts=True
    )
    won = (
        PeriodicJobState.objects.filter(name=job.name, next_run_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_by=worker_id, locked_until=now + job.lease, last_started_at=now)
    )
    if not won:
        return False
    error = ""
    try:
        job.func()
    except Exception:
        logger.exception("Periodic job %s failed", job.name)
        error = traceback.format_exc()[-4000:]
    finished = timezone.now()
    # The next run is counted from the start, so a slow job does not drift; a job that ran
    # longer than its period runs again on the next tick.
    PeriodicJobState.objects.filter(name=job.name, locked_by=worker_id).update(
        locked_by="",
        locked_until=None,
        last_finished_at=finished,
        next_run_at=now + job.every,
        last_error=error,
        runs=F("runs") + 1,
    )
    return True


def run_due_jobs(*, worker_id: str) -> list[str]:
    """One scheduler tick: run every due job this worker wins; the names of those it ran."""
    ran = []
    for job in registered_jobs().values():
        if job_try_run(job=job, worker_id=worker_id):
            ran.append(job.name)
    return ran


def new_worker_id() -> str:
    return f"{os.uname().nodename[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


class SchedulerThread(threading.Thread):
    """Ticks the scheduler every ``interval`` seconds until ``stop()`` (a daemon thread)."""

    def __init__(self, *, worker_id: str, interval: float) -> None:
        super().__init__(name="shouhou-scheduler", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        logger.info("Scheduler started (worker %s, tick %.1fs)", self.worker_id, self.interval)
        while not self._stopped.is_set():
            close_old_connections()
            try:
                run_due_jobs(worker_id=self.worker_id)
            except Exception:
                # A database hiccup must not kill the scheduler; the next tick tries again.
                logger.exception("Scheduler tick failed")
            close_old_connections()
            self._stopped.wait(self.interval)

    def stop(self) -> None:
        self._stopped.set()
