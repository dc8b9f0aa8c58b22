"""``shouhou scheduler``: run only the periodic jobs (``shouhou worker`` already does).

For deployments that run task workers some other way; safe alongside any number of workers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from shouhou.core.scheduler import SchedulerThread, new_worker_id, run_due_jobs


class Command(BaseCommand):
    help = "Run the periodic scheduler (outbox sweeper and other time-based jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = new_worker_id()
        if options["once"]:
            for name in run_due_jobs(worker_id=worker_id):
                self.stdout.write(f"ran {name}")
            return
        thread = SchedulerThread(
            worker_id=worker_id, interval=float(settings.SCHEDULER_TICK_SECONDS)
        )
        thread.start()
        try:
            while thread.is_alive():
                thread.join(1.0)
        except KeyboardInterrupt:
            thread.stop()
