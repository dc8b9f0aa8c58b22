"""Daily route plans: services and selectors (issue 4, item 7).

``route_plan_build`` orders one technician's on-site jobs of a day (assigned or scheduled,
with an appointment that day) and stores the plan with an ETA per stop; ``route_replan_later``
asks for that after the current transaction commits (the work-order services call it when a job
is assigned, scheduled or cancelled). The solver sits behind ``dispatch.routing``.

A module of its own rather than ``dispatch/services.py``: it reads work orders, and
``workorders.services`` imports ``dispatch.services`` at module level, so keeping route code
here keeps that import graph one-way and PyVRP out of every work-order write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.dispatch.models import DispatchPolicy, RoutePlan, RouteStop, Technician
from shouhou.dispatch.routing import (
    RouteJob,
    RouteProblem,
    RouteVehicle,
    solve_routes,
    straight_line_matrices,
)
from shouhou.workorders.choices import PRIORITY_RANK, FulfilmentMode, VisitStatus
from shouhou.workorders.choices import WorkOrderStatus as S
from shouhou.workorders.models import Visit, WorkOrder

ROUTED_STATUSES = (S.ASSIGNED, S.SCHEDULED)
DEFAULT_SOLVE_SECONDS = 1.0
DEFAULT_DURATION_MINUTES = 60

# Why a job is on the day's list but not on the route; the codes are stored on the plan.
UNASSIGNED_REASONS: dict[str, Any] = {
    "no_shift": _("The technician does not work that day."),
    "no_location": _("The job has no map position."),
    "skill": _("The technician lacks a skill the job needs."),
    "does_not_fit": _("It cannot be reached within its time window before the shift ends."),
}


@dataclass(frozen=True)
class _Job:
    work_order: WorkOrder
    visit: Visit | None


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _seconds(moment: dt.datetime, midnight: dt.datetime) -> int:
    return max(0, min(86_400, int((moment - midnight).total_seconds())))


def route_jobs_for_day(*, technician: Technician, day: dt.date) -> QuerySet[WorkOrder]:
    """The technician's on-site orders to route that day: assigned or scheduled, with an
    appointment that starts on that (local) day."""
    midnight = _local_midnight(day)
    return (
        WorkOrder.objects.filter(
            technician=technician,
            fulfilment_mode=FulfilmentMode.ON_SITE,
            status__in=ROUTED_STATUSES,
            appointment_start__gte=midnight,
            appointment_start__lt=midnight + dt.timedelta(days=1),
        )
        .select_related("fault_type")
        .prefetch_related(
            "fault_type__required_skills",
            Prefetch(
                "visits",
                queryset=Visit.objects.filter(status=VisitStatus.PLANNED),
                to_attr="planned_visits",
            ),
        )
        .order_by("appointment_start", "pk")
    )


def _shift_window(technician: Technician, day: dt.date) -> tuple[int, int] | None:
    if technician.days_off.filter(day=day).exists():
        return None
    shifts = list(technician.shifts.filter(weekday=day.weekday()))
    if not shifts:
        return None
    # Several shifts in a day are taken as one span from the first start to the last end.
    start = min(s.starts_at for s in shifts)
    end = max(s.ends_at for s in shifts)
    return (
        start.hour * 3600 + start.minute * 60 + start.second,
        end.hour * 3600 + end.minute * 60 + end.second,
    )


def route_plan_build(
    *,
    technician: Technician,
    day: dt.date,
    seconds: float = DEFAULT_SOLVE_SECONDS,
    now: dt.datetime | None = None,
) -> RoutePlan:
    """Solve the technician's route for ``day`` and store it (replacing the previous plan).

    The route leaves from the last known position when the day is today and the position was
    reported today, else from the home base, no earlier than the shift start (or now), and
    returns to the home base by the shift end. Each job must start inside its appointment
    window and takes its fault type's typical duration. Jobs that cannot be fitted are listed
    in ``plan.unassigned`` with a reason; they keep their appointment and are never dropped
    from the order itself. Guarantees one plan per technician and day.
    """
    now = now or timezone.now()
    midnight = _local_midnight(day)
    orders = list(route_jobs_for_day(technician=technician, day=day))
    jobs = [
        _Job(order, order.planned_visits[0] if order.planned_visits else None)  # type: ignore[attr-defined]
        for order in orders
    ]
    policy = DispatchPolicy.objects.filter(organization_id=technician.organization_id).first()
    unassigned: list[dict[str, str]] = []
    shift = _shift_window(technician, day)
    if shift is None:
        unassigned = [{"work_order": j.work_order.number, "reason": "no_shift"} for j in jobs]
        jobs = []
    else:
        for job in [j for j in jobs if j.work_order.latitude is None]:
            unassigned.append({"work_order": job.work_order.number, "reason": "no_location"})
        jobs = [j for j in jobs if j.work_order.latitude is not None]
    skills = frozenset(technician.skill_levels.values_list("skill__code", flat=True))

    stops: list[RouteStop] = []
    solution = None
    if jobs and shift is not None:
        shift_start, shift_end = shift
        if timezone.localdate(now) == day:
            shift_start = max(shift_start, _seconds(timezone.localtime(now), midnight))
        starts_from_last = (
            technician.last_latitude is not None
            and technician.last_seen_at is not None
            and timezone.localdate(technician.last_seen_at) == day
        )
        start = (
            (technician.last_latitude, technician.last_longitude)
            if starts_from_last
            else (technician.home_latitude, technician.home_longitude)
        )
        points = [start, (technician.home_latitude, technician.home_longitude)]
        points += [(j.work_order.latitude, j.work_order.longitude) for j in jobs]
        distance, duration = straight_line_matrices(
            [float(p[0]) for p in points],  # type: ignore[arg-type]
            [float(p[1]) for p in points],  # type: ignore[arg-type]
            road_factor=policy.road_factor if policy else 1.35,
            speed_kmh=policy.speed_kmh if policy else 25.0,
        )
        route_jobs = []
        for i, job in enumerate(jobs):
            order = job.work_order
            assert order.appointment_start is not None
            window_end = order.appointment_end or order.appointment_start
            route_jobs.append(
                RouteJob(
                    key=i,
                    point=2 + i,
                    service_seconds=60
                    * (
                        order.fault_type.typical_duration_minutes
                        if order.fault_type
                        else DEFAULT_DURATION_MINUTES
                    ),
                    window_start=_seconds(order.appointment_start, midnight),
                    window_end=_seconds(window_end, midnight),
                    skills=frozenset(s.code for s in order.fault_type.required_skills.all())
                    if order.fault_type
                    else frozenset(),
                    priority=PRIORITY_RANK.get(order.priority, 1),
                )
            )
        lacking = {i for i, rj in enumerate(route_jobs) if not rj.skills <= skills}
        problem = RouteProblem(
            vehicles=[RouteVehicle(technician.pk, 0, 1, shift_start, shift_end, skills)],
            jobs=[rj for i, rj in enumerate(route_jobs) if i not in lacking],
            distance=distance,
            duration=duration,
        )
        solution = solve_routes(problem, seconds=seconds)
        for i in sorted(lacking):
            unassigned.append({"work_order": jobs[i].work_order.number, "reason": "skill"})
        for key in solution.unassigned:
            assert isinstance(key, int)
            unassigned.append({"work_order": jobs[key].work_order.number, "reason": "does_not_fit"})
        for sequence, planned in enumerate(solution.routes[0].stops, start=1):
            assert isinstance(planned.job, int)
            job = jobs[planned.job]
            stops.append(
                RouteStop(
                    work_order=job.work_order,
                    visit=job.visit,
                    sequence=sequence,
                    eta=midnight + dt.timedelta(seconds=planned.arrival),
                    planned_start=midnight + dt.timedelta(seconds=planned.start),
                    planned_end=midnight + dt.timedelta(seconds=planned.end),
                    travel_seconds=planned.travel_seconds,
                    distance_m=planned.distance_m,
                )
            )

    route = solution.routes[0] if solution else None
    with transaction.atomic():
        # One writer per technician at a time; the solve above ran outside any lock.
        Technician.objects.select_for_update().filter(pk=technician.pk).first()
        plan, _created = RoutePlan.objects.update_or_create(
            technician=technician,
            day=day,
            defaults={
                "organization_id": technician.organization_id,
                "computed_at": timezone.now(),
                "starts_at": midnight + dt.timedelta(seconds=route.departure)
                if route and route.stops
                else None,
                "ends_at": midnight + dt.timedelta(seconds=route.return_at)
                if route and route.stops
                else None,
                "total_travel_seconds": route.travel_seconds if route and route.stops else 0,
                "total_distance_m": route.distance_m if route and route.stops else 0,
                "unassigned": unassigned,
                "solver": solution.solver if solution else "",
                "solve_seconds": round(solution.seconds, 3) if solution else 0,
            },
        )
        plan.stops.all().delete()
        for stop in stops:
            stop.plan = plan
        RouteStop.objects.bulk_create(stops)
    return plan


def route_replan_later(*, technician_id: int | None, day: dt.date | None) -> None:
    """Re-plan the technician's day after the current transaction commits (no-op without a
    technician or a day). The work-order services call this; the solve runs in a task."""
    if technician_id is None or day is None:
        return

    def enqueue() -> None:
        from shouhou.dispatch.tasks import route_replan

        route_replan.enqueue(technician_id=technician_id, day=day.isoformat())

    transaction.on_commit(enqueue)


# --- selectors -------------------------------------------------------------------------------


def route_plan_get(*, technician: Technician, day: dt.date) -> RoutePlan | None:
    """The stored plan with its stops (work orders loaded), or None."""
    return (
        RoutePlan.objects.filter(technician=technician, day=day)
        .prefetch_related(
            Prefetch(
                "stops",
                queryset=RouteStop.objects.select_related("work_order").order_by("sequence"),
            )
        )
        .first()
    )


def route_technicians_visible_to(user: Any) -> QuerySet[Technician]:
    """Technicians whose routes ``user`` may read: staff of their organisation (admin, agent,
    outlet manager) and the technician themselves."""
    from shouhou.workorders.access import OPERATOR_ROLES

    queryset = Technician.objects.select_related("user")
    if sees_everything(user):
        return queryset
    ids = organization_ids_for(user, roles=OPERATOR_ROLES)
    return queryset.filter(Q(organization_id__in=ids) | Q(user_id=user.pk))


def route_etas_for(*, work_orders: list[WorkOrder]) -> dict[int, dt.datetime]:
    """ETA of each order's stop on its technician's latest plan, by work-order id (one query;
    none once the order is past the visit or cancelled)."""
    ids = [order.pk for order in work_orders if order.status in ROUTED_STATUSES]
    if not ids:
        return {}
    rows = RouteStop.objects.filter(work_order_id__in=ids).values_list(
        "work_order_id", "eta", "plan__computed_at"
    )
    latest: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for order_id, eta, computed_at in rows:
        if order_id not in latest or computed_at > latest[order_id][1]:
            latest[order_id] = (eta, computed_at)
    return {order_id: eta for order_id, (eta, _c) in latest.items()}
