"""Reads for dispatch: the technician pool of a network at a moment, suggestions, offers,
the job pool as a technician sees it, and the first-dispatch success rate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from shouhou.core.cache import TtlCache
from shouhou.dispatch.matching import Ranking, TechnicianPool, Weights, rank
from shouhou.dispatch.models import DispatchPolicy, Technician, TechnicianStatus
from shouhou.dispatch.roster import live_rows, roster_for

policy_cache: TtlCache[Any] = TtlCache("DISPATCH_CACHE_SECONDS")


def dispatch_policy_cached(organization_id: int) -> DispatchPolicy | None:
    """The organisation's dispatch policy (None: the defaults), remembered per process for
    ``DISPATCH_CACHE_SECONDS``; a change in this process clears it at once."""
    return policy_cache.get_or_compute(
        ("policy", organization_id),
        lambda: DispatchPolicy.objects.filter(organization_id=organization_id).first(),
    )


def mode_overrides_cached(organization_id: int) -> dict[int, str]:
    """Service type id -> dispatch mode, for the organisation's per-service-type overrides."""
    from shouhou.dispatch.models import DispatchModeOverride

    return policy_cache.get_or_compute(
        ("overrides", organization_id),
        lambda: dict(
            DispatchModeOverride.objects.filter(organization_id=organization_id).values_list(
                "service_type_id", "mode"
            )
        ),
    )


def weights_for(organization_id: int) -> Weights:
    policy = dispatch_policy_cached(organization_id)
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

    Live state (position, status, load, capacity, rating) is read fresh in one statement; the
    roster (skills, first-time-fix history, shifts, days off) is kept per process for a short
    while (``dispatch.roster``), because this runs on every suggestion and every assignment.
    """
    moment = timezone.localtime(at or timezone.now())
    live = live_rows(
        organization_ids=organization_ids, day=moment.date(), technician_ids=technician_ids
    )
    roster = roster_for(tuple(row.id for row in live), moment.date())
    on_duty = np.fromiter((row.on_duty for row in live), dtype=np.bool_, count=len(live))
    return TechnicianPool(
        ids=np.array(roster.ids, dtype=np.int64),
        names=[row.name for row in live],
        latitudes=np.array([row.latitude for row in live], dtype=np.float32),
        longitudes=np.array([row.longitude for row in live], dtype=np.float32),
        home_latitudes=np.array([row.home_latitude for row in live], dtype=np.float32),
        home_longitudes=np.array([row.home_longitude for row in live], dtype=np.float32),
        radius_km=np.array([row.radius_km for row in live], dtype=np.float32),
        load=np.array([row.load for row in live], dtype=np.float32),
        capacity=np.array([row.capacity for row in live], dtype=np.float32),
        rating=np.array(
            [np.nan if row.rating is None else row.rating for row in live], dtype=np.float32
        ),
        on_shift=roster.on_shift(moment),
        on_duty=on_duty,
        skills=roster.skills,
        skill_codes=roster.skill_codes,
        first_time_fix=roster.first_time_fix,
    )


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
    from shouhou.accounts.models import Organization
    from shouhou.catalog.selectors import fault_type_skill_codes
    from shouhou.workorders.services import serving_organization_ids

    if pool is None:
        if organization_ids is None:
            # only the id is needed: no need to load the organisation row
            organization_ids = serving_organization_ids(Organization(pk=work_order.organization_id))
        pool = technician_pool(organization_ids=organization_ids, at=at)
    fault_code: str | None = None
    required: tuple[str, ...] = ()
    if work_order.fault_type_id is not None:
        fault_code, required = fault_type_skill_codes(work_order.fault_type_id)
    return rank(
        pool,
        latitude=float(work_order.latitude) if work_order.latitude is not None else None,
        longitude=float(work_order.longitude) if work_order.longitude is not None else None,
        required_skills=required,
        fault_code=fault_code,
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


# --- the dispatch board -----------------------------------------------------------------------

# An order is "at risk" when its work has not started (accepted, assigned or scheduled), its
# time window — the appointment if one is set, else the customer's preferred time — starts
# within RISK_HORIZON or has already started, and no technician is on the way to it. "late":
# the window has started; "soon": it starts within the horizon. Orders without any window are
# never at risk by this rule (SLA clocks, issue 5, will cover them).
RISK_HORIZON = dt.timedelta(hours=2)
BOARD_STATUSES = ("accepted", "assigned", "scheduled")
BOARD_LIMIT = 300  # orders per list on the board


def order_risk(*, work_order: Any, at: dt.datetime, on_the_way: bool = False) -> str:
    """ "late", "soon" or "" for one order (see RISK_HORIZON for the rule)."""
    if work_order.status not in BOARD_STATUSES or on_the_way:
        return ""
    start = work_order.appointment_start or work_order.preferred_start
    if start is None:
        return ""
    if start <= at:
        return "late"
    if start <= at + RISK_HORIZON:
        return "soon"
    return ""


def dispatch_board(*, organization_id: int, at: dt.datetime | None = None) -> dict[str, Any]:
    """What the board shows for one organisation: the orders waiting for a technician, the
    orders at risk (with a technician but late or close and nobody on the way) and the network's
    technicians with live status, position and today's load. Scoped: only orders the
    organisation owns or serves, only technicians of its network."""
    from shouhou.workorders.models import Visit, WorkOrder
    from shouhou.workorders.services import serving_organization_ids

    moment = at or timezone.now()
    scoped = WorkOrder.objects.filter(
        Q(organization_id=organization_id) | Q(service_organization_id=organization_id)
    ).select_related("fault_type", "technician__user", "customer")
    urgency = Case(
        When(priority="urgent", then=Value(0)),
        When(priority="high", then=Value(1)),
        When(priority="normal", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    waiting = list(
        scoped.filter(status="accepted", technician__isnull=True)
        .annotate(urgency=urgency)
        .order_by("urgency", "accepted_at", "pk")[:BOARD_LIMIT]
    )
    windowed = list(
        scoped.filter(status__in=BOARD_STATUSES, technician__isnull=False)
        .filter(
            Q(appointment_start__lte=moment + RISK_HORIZON)
            | Q(appointment_start__isnull=True, preferred_start__lte=moment + RISK_HORIZON)
        )
        .order_by("appointment_start", "preferred_start", "pk")[:BOARD_LIMIT]
    )
    on_the_way = set(
        Visit.objects.filter(
            work_order__in=[*waiting, *windowed], status__in=("en_route", "on_site")
        ).values_list("work_order_id", flat=True)
    )
    risks = {
        order.pk: order_risk(work_order=order, at=moment, on_the_way=order.pk in on_the_way)
        for order in [*waiting, *windowed]
    }
    at_risk = [order for order in windowed if risks[order.pk]]
    network = serving_organization_ids(_organization(organization_id))
    pool = technician_pool(organization_ids=network, at=moment)
    statuses = dict(Technician.objects.filter(pk__in=pool.ids.tolist()).values_list("pk", "status"))
    technicians = [
        {
            "id": int(pool.ids[row]),
            "name": pool.names[row],
            "status": statuses.get(int(pool.ids[row]), TechnicianStatus.OFF_DUTY),
            "status_label": str(
                TechnicianStatus(statuses.get(int(pool.ids[row]), TechnicianStatus.OFF_DUTY)).label
            ),
            "on_shift": bool(pool.on_shift[row]),
            "load": int(pool.load[row]),
            "capacity": int(pool.capacity[row]),
            "latitude": round(float(pool.latitudes[row]), 6),
            "longitude": round(float(pool.longitudes[row]), 6),
        }
        for row in range(len(pool))
    ]
    return {
        "at": moment,
        "waiting": waiting,
        "at_risk": at_risk,
        "risks": risks,
        "technicians": technicians,
    }


def _organization(organization_id: int) -> Any:
    from shouhou.accounts.models import Organization

    return Organization(pk=organization_id)
