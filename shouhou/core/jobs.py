"""Periodic housekeeping of the task system itself."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management import call_command

from shouhou.core.scheduler import periodic


@periodic("tasks.prune_results", every=dt.timedelta(hours=6))
def prune_task_results() -> None:
    """The database backend keeps a row per task run; drop finished ones after a week."""
    if settings.TASK_BACKEND == "database":
        call_command("prune_db_task_results", min_age_days=7, failed_min_age_days=30, verbosity=0)
