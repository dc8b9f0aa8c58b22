"""Reads for dispatch: the technician pool of a network at a moment, and suggestions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from shouhou.dispatch.matching import Ranking, TechnicianPool, Weights, build_pool, rank
from shouhou.dispatch.models import (
    DayOff,
    DispatchPolicy,
    Shift,
    Technician,
    TechnicianSkill,
    TechnicianStatus,
)

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


def technician_pool(*, organization_ids: set[int], at: dt.datetime | None = None) -> TechnicianPool:
    """Active technicians of these organisations as arrays, with their state at ``at``.

    Three flat queries whatever the number of technicians (technicians with today's shift, day
    off and load; skills; first-time-fix history), read as plain values: no model instances
    and few round trips, because this runs on every suggestion and every assignment.
    """
    from shouhou.core.phone import mask_phone
    from shouhou.workorders.models import Visit, WorkOrder

    moment = timezone.localtime(at or timezone.now())
    day, now_time, weekday = moment.date(), moment.time(), moment.weekday()
    # Shift, day off and today's load ride along as subqueries: one round trip for the state
    # that changes during the day.
    todays_load = (
        WorkOrder.objects.filter(technician=OuterRef("pk"), status__in=OPEN_STATUSES)
        .filter(Q(appointment_start__isnull=True) | Q(appointment_start__date=day))
        .values("technician")
        .annotate(n=Count("pk"))
        .values("n")
    )
    technicians = list(
        Technician.objects.filter(organization_id__in=organization_ids, is_active=True)
        .annotate(
            on_shift_now=Exists(
                Shift.objects.filter(
                    technician=OuterRef("pk"),
                    weekday=weekday,
                    starts_at__lte=now_time,
                    ends_at__gt=now_time,
                )
            ),
            off_today=Exists(DayOff.objects.filter(technician=OuterRef("pk"), day=day)),
            todays_load=Coalesce(Subquery(todays_load), 0),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "user__display_name",
            "user__phone",
            "home_latitude",
            "home_longitude",
            "last_latitude",
            "last_longitude",
            "service_radius_km",
            "daily_capacity",
            "rating_total",
            "rating_count",
            "status",
            "on_shift_now",
            "off_today",
            "todays_load",
        )
    )
    ids = [row[0] for row in technicians]
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for technician_id, code, level in TechnicianSkill.objects.filter(
        technician_id__in=ids
    ).values_list("technician_id", "skill__code", "level"):
        skills[technician_id][code] = level
    # First-time fix: of the orders a technician made the first visit to, how many were fixed
    # on that visit, per fault type.
    first_visits = (
        Visit.objects.filter(technician_id__in=ids, status="done")
        .values("work_order")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    history: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for technician_id, fault_code, outcome in Visit.objects.filter(
        pk__in=first_visits, work_order__fault_type__isnull=False
    ).values_list("technician_id", "work_order__fault_type__code", "outcome"):
        tally = history[technician_id][fault_code]
        tally[0] += outcome == "fixed"
        tally[1] += 1
    rows: list[dict[str, Any]] = []
    for (
        pk,
        display_name,
        phone,
        home_latitude,
        home_longitude,
        last_latitude,
        last_longitude,
        radius_km,
        capacity,
        rating_total,
        rating_count,
        status,
        on_shift_now,
        off_today,
        todays_load,
    ) in technicians:
        home = (float(home_latitude), float(home_longitude))
        here = (
            (float(last_latitude), float(last_longitude))
            if last_latitude is not None and last_longitude is not None
            else home
        )
        rows.append(
            {
                "id": pk,
                # the same words as str(technician): the display name, else the masked number
                "name": display_name or mask_phone(phone),
                "latitude": here[0],
                "longitude": here[1],
                "home_latitude": home[0],
                "home_longitude": home[1],
                "radius_km": radius_km,
                "load": todays_load,
                "capacity": capacity,
                "rating": float((rating_total / rating_count).quantize(Decimal("0.01")))
                if rating_count
                else None,
                "on_shift": bool(on_shift_now) and not off_today,
                "on_duty": status != TechnicianStatus.OFF_DUTY,
                "skills": skills.get(pk, {}),
                "first_time_fix": {
                    code: fixed / total for code, (fixed, total) in history[pk].items()
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
) -> Ranking:
    """Ranked technicians of the order's network (or of ``organization_ids``, when the caller
    may only give the order to some of it) for this order, with the reasons."""
    from shouhou.accounts.models import Organization
    from shouhou.catalog.models import FaultType
    from shouhou.workorders.services import serving_organization_ids

    if organization_ids is None:
        # only the id is needed: no need to load the organisation row
        organization_ids = serving_organization_ids(Organization(pk=work_order.organization_id))
    pool = technician_pool(organization_ids=organization_ids, at=at)
    fault_code: str | None = None
    required: list[str] = []
    if work_order.fault_type_id is not None:
        # the fault's code and its required skills' codes in one query
        rows = list(
            FaultType.objects.filter(pk=work_order.fault_type_id).values_list(
                "code", "required_skills__code"
            )
        )
        fault_code = rows[0][0] if rows else None
        required = [code for _fault, code in rows if code is not None]
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
