"""``shouhou worker``: run background tasks with the configured backend, plus the scheduler.

One command for every backend, so deploy files and ``shouhou run`` never change: the database
backend runs django-tasks-db's worker loop, the redis backend an RQ worker. The periodic
scheduler (``core.scheduler``: outbox sweeper, offer expiry, SLA ticks ...) runs as a thread
inside the same process; run as many workers as you like, each job tick runs once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhou.core.scheduler import SchedulerThread, new_worker_id


class Command(BaseCommand):
    help = "Run the background worker (and the periodic scheduler) for the task backend."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Run tasks only, no periodic jobs."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between polls of an empty database queue (database backend).",
        )
        parser.add_argument(
            "--burst", action="store_true", help="Run what is queued now, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = settings.TASK_BACKEND
        if backend == "immediate":
            raise CommandError("TASK_BACKEND=immediate runs tasks in the web process; no worker.")
        worker_id = new_worker_id()
        scheduler = None
        if not options["no_scheduler"]:
            scheduler = SchedulerThread(
                worker_id=worker_id, interval=float(settings.SCHEDULER_TICK_SECONDS)
            )
            scheduler.start()
        try:
            if backend == "database":
                self._run_database(worker_id=worker_id, options=options)
            elif backend == "redis":
                self._run_redis(worker_id=worker_id, options=options)
            else:  # pragma: no cover - guarded by settings
                raise CommandError(f"No worker for TASK_BACKEND={backend}.")
        finally:
            if scheduler is not None:
                scheduler.stop()

    def _run_database(self, *, worker_id: str, options: dict[str, Any]) -> None:
        from django.core.management import call_command

        call_command(
            "db_worker",
            queue_name="*",
            interval=options["interval"],
            batch=options["burst"],
            reload=False,  # the reloader would run tasks in a child this process cannot stop
            worker_id=worker_id[:64],
            startup_delay=False,
        )

    def _run_redis(self, *, worker_id: str, options: dict[str, Any]) -> None:
        import django_rq
        from django_tasks_rq import Job
        from rq import SimpleWorker

        queue = django_rq.get_queue("default", job_class=Job)
        # SimpleWorker runs each task in this process. RQ's default Worker forks a child per
        # task, and a fork would copy the scheduler thread's open database connection (SQLite
        # forbids that; PostgreSQL sockets must not be shared either). Our tasks are short and
        # take ids; run more worker processes for more throughput.
        worker = SimpleWorker(
            [queue], connection=queue.connection, job_class=Job, name=worker_id[:64]
        )
        # with_scheduler moves deferred tasks (retries with run_after) into the queue on time.
        worker.work(with_scheduler=True, burst=options["burst"])
