"""Background work for dispatch: thin wrappers that call a service with ids."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from shouhou.dispatch.models import Technician
from shouhou.dispatch.offers import offers_expire_due
from shouhou.dispatch.routes import route_jobs_for_day, route_plan_build


@task()
def route_replan(technician_id: int, day: str) -> int | None:
    """Re-plan a technician's route for ``day`` (ISO date). Idempotent: it rebuilds the plan
    from the orders as they are now. Returns the plan id (None for an unknown technician or
    a day with neither jobs nor an earlier plan)."""
    technician = Technician.objects.filter(pk=technician_id, is_active=True).first()
    if technician is None:
        return None
    date = dt.date.fromisoformat(day)
    has_plan = technician.route_plans.filter(day=date).exists()
    if not has_plan and not route_jobs_for_day(technician=technician, day=date).exists():
        return None
    return route_plan_build(technician=technician, day=date).pk


@task()
def offers_expire() -> int:
    """Expire due offers (moving each to the next technician) and due pool entries.

    Idempotent and safe to run often or twice at once; the periodic scheduler runs it every
    30 seconds or so. Pages also expire lazily, so offers move on without a worker too."""
    return offers_expire_due()
