"""``shouhou worker``: run background tasks with the configured task backend."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the background worker for the configured task backend."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TASK_BACKEND == "database":
            call_command("db_worker", queue_name="*", interval=1.0)
        elif settings.TASK_BACKEND == "immediate":
            raise CommandError("TASK_BACKEND=immediate runs tasks in the web process; no worker.")
        else:  # pragma: no cover - guarded by settings
            raise CommandError(f"No worker for TASK_BACKEND={settings.TASK_BACKEND}.")
