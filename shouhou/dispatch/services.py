"""Writes of dispatch: technicians, and the peak batch that assigns many orders at once."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from shouhou.accounts.choices import Role
from shouhou.accounts.models import Organization, Outlet
from shouhou.accounts.services import membership_grant, user_get_or_create_by_phone
from shouhou.catalog.models import SkillTag
from shouhou.core.errors import DomainError
from shouhou.dispatch.batch import DEFAULT_CANDIDATES, BatchOrder, plan_batch
from shouhou.dispatch.models import Technician, TechnicianSkill, TechnicianStatus
from shouhou.dispatch.selectors import technician_pool, weights_for

if TYPE_CHECKING:
    from shouhou.workorders.services import Actor


@transaction.atomic
def technician_onboard(
    *,
    organization: Organization,
    phone: str,
    display_name: str,
    home_latitude: Decimal,
    home_longitude: Decimal,
    outlet: Outlet | None = None,
    skills: dict[SkillTag, int] | None = None,
) -> Technician:
    """Create (or return) the technician with this number in ``organization``.

    Creates the login if the number has none, grants the ``technician`` role and records the
    skills with their levels. Idempotent: a second call changes nothing that exists.
    """
    user = user_get_or_create_by_phone(phone=phone, display_name=display_name)
    membership_grant(user=user, organization=organization, role=Role.TECHNICIAN, outlet=outlet)
    technician, _created = Technician.objects.get_or_create(
        organization=organization,
        user=user,
        defaults={
            "outlet": outlet,
            "home_latitude": home_latitude,
            "home_longitude": home_longitude,
        },
    )
    for skill, level in (skills or {}).items():
        if skill.organization_id != organization.pk:
            continue
        TechnicianSkill.objects.get_or_create(
            technician=technician, skill=skill, defaults={"level": level}
        )
    return technician


def technician_set_status(
    *,
    technician: Technician,
    status: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Technician:
    """Set the technician's live status (off duty, available, on the way, on site) and, when a
    position comes with it, their last known location. Writes only those columns."""
    if status not in TechnicianStatus.values:
        raise ValueError(f"unknown technician status {status!r}")
    technician.status = status
    fields = ["status", "updated_at"]
    if latitude is not None and longitude is not None:
        technician.last_latitude, technician.last_longitude = latitude, longitude
        technician.last_seen_at = timezone.now()
        fields += ["last_latitude", "last_longitude", "last_seen_at"]
    technician.save(update_fields=fields)
    return technician


# --- peak batch ------------------------------------------------------------------------------

# Orders a technician travels to or serves remotely; carry-in and mail-in orders go to an
# outlet first (outlet matching is a later step of issue 4).
BATCH_MODES = ("on_site", "remote")
BATCH_LIMIT = 2_000  # orders per run; a larger backlog is served by the next run
BATCH_CHUNK = 50  # assignments per transaction: short locks, and a crash keeps what committed


@dataclass(frozen=True)
class BatchAssigned:
    number: str
    technician_id: int
    technician: str
    score: float
    place: int


@dataclass(frozen=True)
class BatchLeft:
    """An order the batch did not assign, and why: ``no_eligible_technician`` (a hard
    constraint rules out everyone; ``excluded`` says which), ``capacity_taken`` (its candidates'
    capacity went to orders where it counted more), ``changed`` (someone else acted on the order
    meanwhile) or ``refused`` (the assignment service said no; ``detail`` says why)."""

    number: str
    reason: str
    excluded: dict[str, int] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True)
class BatchResult:
    assigned: list[BatchAssigned]
    unassigned: list[BatchLeft]
    technicians: int
    planning_ms: float


def batch_dispatch(
    *,
    organization: Organization,
    actor: Actor,
    at: dt.datetime | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    chunk_size: int = BATCH_CHUNK,
) -> BatchResult:
    """Give every waiting order of ``organization`` (accepted, no technician, on site or
    remote) to its network's technicians in one optimal batch (``dispatch.batch``).

    The plan is made from one snapshot; each assignment then goes through
    ``workorder_assign_technician`` (an event with the explanation, the batch's slot included),
    ``chunk_size`` orders per transaction. An order is re-read under lock first and skipped as
    ``changed`` if it is no longer accepted and unassigned, so an agent or a second batch acting
    at the same moment is never overwritten. A technician who declined an order is not given it
    again. Not atomic as a whole, by design: a long batch must not hold locks for seconds.
    """
    from shouhou.workorders.choices import EventType, WorkOrderStatus
    from shouhou.workorders.models import WorkOrder, WorkOrderEvent
    from shouhou.workorders.services import serving_organization_ids, workorder_assign_technician

    started = time.perf_counter()
    orders = list(
        WorkOrder.objects.filter(
            organization=organization,
            status=WorkOrderStatus.ACCEPTED,
            technician__isnull=True,
            fulfilment_mode__in=BATCH_MODES,
        )
        .select_related("fault_type")
        .prefetch_related("fault_type__required_skills")
        .order_by("pk")[:BATCH_LIMIT]
    )
    declined: dict[int, set[int]] = defaultdict(set)
    for work_order_id, data in WorkOrderEvent.objects.filter(
        work_order__in=orders, type=EventType.ASSIGNMENT_DECLINED
    ).values_list("work_order_id", "data"):
        if isinstance(data, dict) and data.get("technician_id"):
            declined[work_order_id].add(int(data["technician_id"]))
    pool = technician_pool(organization_ids=serving_organization_ids(organization), at=at)
    plan = plan_batch(
        pool,
        [
            BatchOrder(
                key=order.pk,
                latitude=float(order.latitude) if order.latitude is not None else None,
                longitude=float(order.longitude) if order.longitude is not None else None,
                required_skills=tuple(
                    skill.code for skill in order.fault_type.required_skills.all()
                )
                if order.fault_type
                else (),
                fault_code=order.fault_type.code if order.fault_type else None,
                priority=order.priority,
                excluded_technicians=frozenset(declined.get(order.pk, ())),
            )
            for order in orders
        ],
        k=candidates,
        weights=weights_for(organization.pk),
    )
    planning_ms = (time.perf_counter() - started) * 1000
    by_pk = {order.pk: order for order in orders}
    technicians = Technician.objects.select_related("user", "outlet", "organization").in_bulk(
        [planned.technician_id for planned in plan.assigned]
    )
    assigned: list[BatchAssigned] = []
    unassigned = [
        BatchLeft(
            number=by_pk[planned.key].number, reason=planned.reason, excluded=planned.excluded
        )
        for planned in plan.unassigned
    ]
    todo = plan.assigned
    for first in range(0, len(todo), chunk_size):
        with transaction.atomic():
            for planned in todo[first : first + chunk_size]:
                order = by_pk[planned.key]
                assert planned.technician_id is not None
                technician = technicians[planned.technician_id]
                try:
                    with transaction.atomic():
                        locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
                        if (
                            locked.status != WorkOrderStatus.ACCEPTED
                            or locked.technician_id is not None
                        ):
                            unassigned.append(BatchLeft(number=order.number, reason="changed"))
                            continue
                        workorder_assign_technician(
                            work_order=locked,
                            technician=technician,
                            actor=actor,
                            explanation=planned.explanation,
                        )
                except DomainError as error:
                    unassigned.append(
                        BatchLeft(number=order.number, reason="refused", detail=str(error))
                    )
                    continue
                assigned.append(
                    BatchAssigned(
                        number=order.number,
                        technician_id=technician.pk,
                        technician=str(technician),
                        score=float(planned.explanation["score"]),  # type: ignore[arg-type]
                        place=int(planned.explanation["place"]),  # type: ignore[call-overload]
                    )
                )
    return BatchResult(assigned, unassigned, len(pool), round(planning_ms, 1))
