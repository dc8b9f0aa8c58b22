"""Reads for dispatch: the technician pool of a network at a moment, suggestions, offers,
the job pool as a technician sees it, and the first-dispatch success rate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q
from django.http import Http404
from django.utils import timezone

from shouhou.dispatch.matching import Ranking, TechnicianPool, Weights, build_pool, rank
from shouhou.dispatch.models import DispatchPolicy, Technician, TechnicianStatus

OPEN_STATUSES = ("assigned", "scheduled", "in_service")


def weights_for(organization_id: int) -> Weights:
    policy = DispatchPolicy.objects.filter(organization_id=organization_id).first()
    if policy is None:
        return Weights()
    return Weights(
        travel=policy.weight_travel,
        load=policy.weight_load,
        rating=policy.weight_rating,
        first_time_fix=policy.weight_first_time_fix,
        skill_level=policy.weight_skill_level,
        road_factor=policy.road_factor,
        speed_kmh=policy.speed_kmh,
    )


def technician_pool(
    *,
    organization_ids: set[int],
    at: dt.datetime | None = None,
    technician_ids: set[int] | None = None,
) -> TechnicianPool:
    """Active technicians of these organisations (or only ``technician_ids`` of them) as
    arrays, with their state at ``at``.

    Five queries whatever the number of technicians: technicians with shifts, days off,
    skills, today's load, first-time-fix history.
    """
    from shouhou.workorders.models import Visit, WorkOrder

    moment = timezone.localtime(at or timezone.now())
    day, now_time, weekday = moment.date(), moment.time(), moment.weekday()
    queryset = Technician.objects.filter(organization_id__in=organization_ids, is_active=True)
    if technician_ids is not None:
        queryset = queryset.filter(pk__in=technician_ids)
    technicians = list(
        queryset.select_related("user")
        .prefetch_related("shifts", "skill_levels__skill")
        .order_by("pk")
    )
    off_today = set(
        Technician.objects.filter(
            pk__in=[t.pk for t in technicians], days_off__day=day
        ).values_list("pk", flat=True)
    )
    load = dict(
        WorkOrder.objects.filter(technician__in=technicians, status__in=OPEN_STATUSES)
        .filter(Q(appointment_start__isnull=True) | Q(appointment_start__date=day))
        .values_list("technician")
        .annotate(n=Count("pk"))
        .values_list("technician", "n")
    )
    # First-time fix: of the orders a technician made the first visit to, how many were fixed
    # on that visit, per fault type.
    first_visits = (
        Visit.objects.filter(technician__in=technicians, status="done")
        .values("work_order")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    history: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for technician_id, fault_code, outcome in Visit.objects.filter(
        pk__in=list(first_visits), work_order__fault_type__isnull=False
    ).values_list("technician_id", "work_order__fault_type__code", "outcome"):
        tally = history[technician_id][fault_code]
        tally[0] += outcome == "fixed"
        tally[1] += 1
    rows: list[dict[str, Any]] = []
    for technician in technicians:
        on_shift = technician.pk not in off_today and any(
            shift.weekday == weekday and shift.starts_at <= now_time < shift.ends_at
            for shift in technician.shifts.all()
        )
        home = (float(technician.home_latitude), float(technician.home_longitude))
        here = (
            (float(technician.last_latitude), float(technician.last_longitude))
            if technician.last_latitude is not None and technician.last_longitude is not None
            else home
        )
        rows.append(
            {
                "id": technician.pk,
                "name": str(technician),
                "latitude": here[0],
                "longitude": here[1],
                "home_latitude": home[0],
                "home_longitude": home[1],
                "radius_km": technician.service_radius_km,
                "load": load.get(technician.pk, 0),
                "capacity": technician.daily_capacity,
                "rating": float(technician.rating) if technician.rating is not None else None,
                "on_shift": on_shift,
                "on_duty": technician.status != TechnicianStatus.OFF_DUTY,
                "skills": {
                    level.skill.code: level.level for level in technician.skill_levels.all()
                },
                "first_time_fix": {
                    code: fixed / total for code, (fixed, total) in history[technician.pk].items()
                },
            }
        )
    return build_pool(rows)


def technician_suggestions(
    *,
    work_order: Any,
    limit: int = 5,
    at: dt.datetime | None = None,
    organization_ids: set[int] | None = None,
    pool: TechnicianPool | None = None,
) -> Ranking:
    """Ranked technicians of the order's network (or of ``organization_ids``, when the caller
    may only give the order to some of it, or of a ``pool`` already built) for this order,
    with the reasons."""
    from shouhou.workorders.services import serving_organization_ids

    if pool is None:
        if organization_ids is None:
            organization_ids = serving_organization_ids(work_order.organization)
        pool = technician_pool(organization_ids=organization_ids, at=at)
    fault = work_order.fault_type
    return rank(
        pool,
        latitude=float(work_order.latitude) if work_order.latitude is not None else None,
        longitude=float(work_order.longitude) if work_order.longitude is not None else None,
        required_skills=[skill.code for skill in fault.required_skills.all()] if fault else [],
        fault_code=fault.code if fault else None,
        priority=work_order.priority,
        weights=weights_for(work_order.organization_id),
        limit=limit,
    )


def explanation_for(*, work_order: Any, technician_id: int) -> dict[str, Any]:
    """Why ``technician_id`` ranks where it does for this order (stored on the assignment
    event): score, place and breakdown, or the fact that a hard constraint excluded them."""
    ranking = technician_suggestions(work_order=work_order, limit=10_000)
    for place, candidate in enumerate(ranking.candidates, 1):
        if candidate.technician_id == technician_id:
            return {
                "place": place,
                "of": len(ranking.candidates),
                "score": candidate.score,
                **candidate.breakdown,
            }
    return {
        "place": None,
        "of": len(ranking.candidates),
        "excluded_by_constraints": True,
        "excluded": ranking.excluded,
    }


# --- dispatch modes: offers, the job pool, the first-dispatch success rate -------------------


def pool_job_distance(*, work_order: Any, technician: Technician, at: dt.datetime) -> float | None:
    """Kilometres by road from the technician to the pooled job, or None when the technician
    fails one of the ranking's hard constraints for it (not in the order's network, a missing
    skill, outside the service area, off shift or duty, at capacity)."""
    from shouhou.workorders.services import serving_organization_ids

    if technician.organization_id not in serving_organization_ids(work_order.organization):
        return None
    pool = technician_pool(
        organization_ids={technician.organization_id}, at=at, technician_ids={technician.pk}
    )
    ranking = technician_suggestions(work_order=work_order, pool=pool, limit=1)
    if not ranking.candidates:
        return None
    return float(ranking.candidates[0].breakdown["distance_km"])


def _technicians_of(user: Any) -> list[Technician]:
    from shouhou.workorders.selectors import technician_profiles_of

    return list(technician_profiles_of(user=user))


def offer_list_for_technician(*, user: Any, now: dt.datetime | None = None) -> list[Any]:
    """The user's open offers (still in time, order still waiting), soonest to expire first.

    Expires what is due first (lazily: no worker is needed for offers to move on)."""
    from shouhou.dispatch.models import AttemptOutcome, DispatchAttempt, DispatchMode
    from shouhou.dispatch.offers import offers_expire_due

    now = now or timezone.now()
    offers_expire_due(now=now)
    return list(
        DispatchAttempt.objects.filter(
            technician__in=_technicians_of(user),
            mode=DispatchMode.OFFER,
            outcome=AttemptOutcome.PENDING,
            expires_at__gt=now,
            work_order__status="accepted",
        )
        .select_related(
            "work_order__service_type",
            "work_order__fault_type",
            "work_order__product_model__brand",
            "work_order__category",
            "work_order__address",
            "technician",
        )
        .order_by("expires_at", "pk")
    )


def offer_get_for_technician(*, user: Any, pk: int) -> Any:
    """One offer made to the user (in any state); anybody else's answers 404."""
    from shouhou.dispatch.models import DispatchAttempt, DispatchMode

    try:
        return DispatchAttempt.objects.select_related("work_order", "technician").get(
            pk=pk, mode=DispatchMode.OFFER, technician__in=_technicians_of(user)
        )
    except DispatchAttempt.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class PoolJob:
    attempt: Any
    work_order: Any
    technician: Technician
    distance_km: float | None


def pool_list_for_technician(*, user: Any, now: dt.datetime | None = None) -> list[PoolJob]:
    """The job pool as this technician sees it: pending pool entries of the organisations
    they serve, only those they pass the hard constraints for, nearest first."""
    from shouhou.dispatch.models import AttemptOutcome, DispatchAttempt, DispatchMode
    from shouhou.dispatch.offers import offers_expire_due

    now = now or timezone.now()
    offers_expire_due(now=now)
    jobs: list[PoolJob] = []
    for technician in _technicians_of(user):
        organization_ids = {technician.organization_id}
        if technician.organization.parent_id:
            organization_ids.add(technician.organization.parent_id)
        entries = list(
            DispatchAttempt.objects.filter(
                organization_id__in=organization_ids,
                mode=DispatchMode.POOL,
                outcome=AttemptOutcome.PENDING,
                work_order__status="accepted",
                work_order__technician__isnull=True,
            )
            .select_related(
                "work_order__organization",
                "work_order__service_type",
                "work_order__fault_type",
                "work_order__product_model__brand",
                "work_order__category",
                "work_order__address",
            )
            .prefetch_related("work_order__fault_type__required_skills")
            .order_by("offered_at", "pk")
        )
        if not entries:
            continue
        pool = technician_pool(
            organization_ids={technician.organization_id}, at=now, technician_ids={technician.pk}
        )
        for entry in entries:
            ranking = technician_suggestions(work_order=entry.work_order, pool=pool, limit=1)
            if ranking.candidates:
                distance = ranking.candidates[0].breakdown["distance_km"]
                jobs.append(PoolJob(entry, entry.work_order, technician, float(distance)))
    jobs.sort(key=lambda job: (job.distance_km or 0.0, job.attempt.pk))
    return jobs


def pool_entry_get_for_technician(*, user: Any, pk: int) -> tuple[Any, Technician]:
    """A pool entry of an organisation the user serves as a technician (in any state, so a
    late grab can be told who won), with the technician profile that serves it; anything
    else answers 404."""
    from shouhou.dispatch.models import DispatchAttempt, DispatchMode

    serving: dict[int, Technician] = {}
    for technician in _technicians_of(user):
        serving.setdefault(technician.organization_id, technician)
        if technician.organization.parent_id:
            serving.setdefault(technician.organization.parent_id, technician)
    try:
        entry = DispatchAttempt.objects.select_related("work_order__organization").get(
            pk=pk, mode=DispatchMode.POOL, organization_id__in=list(serving)
        )
    except DispatchAttempt.DoesNotExist:
        raise Http404 from None
    return entry, serving[entry.organization_id]


def attempts_for_order(*, work_order: Any) -> list[Any]:
    """Every dispatch attempt of the order, first first (for the console)."""
    from shouhou.dispatch.models import DispatchAttempt

    return list(
        DispatchAttempt.objects.filter(work_order=work_order)
        .select_related("technician__user")
        .order_by("sequence")
    )


@dataclass(frozen=True)
class SuccessRate:
    """Of the orders first dispatched in a period (offered, assigned or pooled), how many the
    first technician asked took (or, for the pool, somebody grabbed in time). Orders whose
    first attempt is still pending or was withdrawn (cancelled, taken back) do not count."""

    orders: int
    succeeded: int
    declined: int
    expired: int
    by_mode: dict[str, dict[str, int]]

    @property
    def rate(self) -> float | None:
        return round(self.succeeded / self.orders, 4) if self.orders else None


def first_dispatch_success_rate(
    *, organization_ids: set[int], since: dt.datetime, until: dt.datetime
) -> SuccessRate:
    """The first-dispatch success rate of these organisations' orders whose first attempt was
    made in [since, until). One query."""
    from shouhou.dispatch.models import AttemptOutcome, DispatchAttempt

    rows = (
        DispatchAttempt.objects.filter(
            organization_id__in=organization_ids,
            sequence=1,
            offered_at__gte=since,
            offered_at__lt=until,
            outcome__in=[
                AttemptOutcome.ACCEPTED,
                AttemptOutcome.DECLINED,
                AttemptOutcome.EXPIRED,
            ],
        )
        .values_list("mode", "outcome")
        .annotate(n=Count("pk"))
        .values_list("mode", "outcome", "n")
    )
    by_mode: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for mode, outcome, n in rows:
        by_mode[mode][outcome] += n
        totals[outcome] += n
    return SuccessRate(
        orders=sum(totals.values()),
        succeeded=totals[AttemptOutcome.ACCEPTED],
        declined=totals[AttemptOutcome.DECLINED],
        expired=totals[AttemptOutcome.EXPIRED],
        by_mode={mode: dict(counts) for mode, counts in by_mode.items()},
    )
