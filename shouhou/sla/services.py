"""Every write to SLA clocks and policies.

Clocks follow the work order from inside its own transactions (``workorders.hooks``, registered
in ``apps.py``): made at intake, the arrival clock when the order is accepted, paused while it
is on hold, met when the order reaches each target's milestone, cancelled with it. The order row
is already locked by the work-order service, so these writes never race one another; the
periodic job (``sla_tick``) claims each warning and each breach with a conditional UPDATE, so it
records each once however many workers run it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from shouhou.sla.choices import MET_BY, SlaTarget
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.sla.selectors import OPEN_CLOCK, Targets, sla_policy_for
from shouhou.workorders.choices import EventType, WorkOrderStatus
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_log

S = WorkOrderStatus
T = SlaTarget
logger = logging.getLogger(__name__)
# The work-order timestamp of each target's milestone.
MILESTONE_FIELDS: dict[str, str] = {
    T.RESPONSE: "accepted_at",
    T.ARRIVAL: "started_at",
    T.RESOLUTION: "completed_at",
}
_DISPATCH_STEPS = frozenset({S.ACCEPTED, S.ASSIGNED, S.SCHEDULED})
TICK_BATCH = 500  # clocks per kind per tick; the next tick takes the rest


def _clock_times(
    targets: Targets, target: str, started_at: dt.datetime
) -> tuple[int, dt.datetime, dt.datetime]:
    """A new clock's target minutes, warning time and due time."""
    minutes = targets.minutes(target)
    span = dt.timedelta(minutes=minutes)
    return minutes, started_at + span * targets.warn_at_percent / 100, started_at + span


def _new_clock(
    *, work_order: WorkOrder, target: str, targets: Targets, started_at: dt.datetime
) -> SlaClock:
    minutes, warn_at, due_at = _clock_times(targets, target, started_at)
    return SlaClock(
        work_order=work_order,
        policy_id=targets.policy_id,
        target=target,
        target_minutes=minutes,
        started_at=started_at,
        warn_at=warn_at,
        due_at=due_at,
    )


def sla_clocks_start(*, work_order: WorkOrder, **_: Any) -> None:
    """Intake (``hooks.CREATED``): the response and resolution clocks start at submission.

    One hand-written statement: this runs inside every intake, where the ORM's bulk insert
    cost several times the CPU of the SQL it sends. A clock that already exists is left
    alone (``ON CONFLICT DO NOTHING``, like ``ignore_conflicts``)."""
    targets = sla_policy_for(work_order=work_order)
    started_at = work_order.submitted_at
    targets_started = (T.RESPONSE, T.RESOLUTION)
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, 0)"] * len(targets_started))
    params: list[Any] = []
    for target in targets_started:  # the values of _new_clock, without a model instance
        minutes, warn_at, due_at = _clock_times(targets, target, started_at)
        params += [work_order.pk, targets.policy_id, target, minutes, started_at, warn_at, due_at]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SlaClock._meta.db_table} "  # noqa: S608 - the table name is ours
            "(work_order_id, policy_id, target, target_minutes, started_at, warn_at, due_at, "
            f"paused_seconds) VALUES {rows} ON CONFLICT (work_order_id, target) DO NOTHING",
            params,
        )


def _missing_clocks(work_order: WorkOrder, have: set[str]) -> list[SlaClock]:
    """Clocks the order should have by now and lacks (an order older than this app gets
    them on its next change, measured from its own timestamps)."""
    wanted: list[tuple[str, dt.datetime]] = []
    for target in (T.RESPONSE, T.RESOLUTION):
        if target not in have:
            wanted.append((target, work_order.submitted_at))
    if T.ARRIVAL not in have and work_order.accepted_at is not None:
        wanted.append((T.ARRIVAL, work_order.accepted_at))
    if not wanted:
        return []
    targets = sla_policy_for(work_order=work_order)
    clocks = []
    for wanted_target, start in wanted:
        clock = _new_clock(
            work_order=work_order, target=wanted_target, targets=targets, started_at=start
        )
        # a milestone the order passed before it had clocks counts as met then
        clock.met_at = getattr(work_order, MILESTONE_FIELDS[wanted_target])
        clocks.append(clock)
    return clocks


def _resume(clock: SlaClock, at: dt.datetime) -> None:
    if clock.paused_at is None:
        return
    paused = max(at - clock.paused_at, dt.timedelta(0))
    clock.due_at += paused
    clock.warn_at += paused
    clock.paused_seconds += int(paused.total_seconds())
    clock.paused_at = None


def sla_clocks_follow(
    *, work_order: WorkOrder, previous: str, to: str, at: dt.datetime, **_: Any
) -> None:
    """Every status change (``hooks.STATUS_CHANGED``), inside the transition's transaction.

    Leaving ``on_hold`` resumes the paused clocks (their due and warning times move by the
    paused time); entering it pauses the open ones; reaching a target's milestone meets its
    clock; ``cancelled`` cancels every open clock. A met or cancelled clock never changes
    again (a completion the customer rejects does not reopen the resolution clock).

    Moves among accepted, assigned and scheduled change no clock (the response clock was met
    on leaving ``submitted``, nothing else starts or stops there), so they read nothing: they
    are on the dispatch path, which is timed (docs/dispatch.md). An order older than the clocks
    gets its clocks at its next other change."""
    if previous in _DISPATCH_STEPS and to in _DISPATCH_STEPS:
        return
    clocks = list(SlaClock.objects.select_for_update().filter(work_order=work_order))
    fresh = _missing_clocks(work_order, {clock.target for clock in clocks})
    changed: list[SlaClock] = []
    for clock in [*clocks, *fresh]:
        if not clock.is_open:
            continue
        before = (clock.paused_at, clock.due_at, clock.met_at, clock.cancelled_at)
        if previous == S.ON_HOLD:
            _resume(clock, at)
        if to == S.CANCELLED:
            clock.cancelled_at = at
        elif to in MET_BY[clock.target]:
            clock.met_at = at
        elif to == S.ON_HOLD and clock.paused_at is None:
            clock.paused_at = at
        if clock.pk is not None and before != (
            clock.paused_at,
            clock.due_at,
            clock.met_at,
            clock.cancelled_at,
        ):
            changed.append(clock)
    if fresh:
        SlaClock.objects.bulk_create(fresh, ignore_conflicts=True)
    for clock in changed:  # at most three rows: plain UPDATEs are cheaper than a CASE
        clock.save(
            update_fields=[
                "paused_at",
                "paused_seconds",
                "due_at",
                "warn_at",
                "met_at",
                "cancelled_at",
            ]
        )


# --- the periodic job ------------------------------------------------------------------------


@dataclass(frozen=True)
class TickReport:
    warned: list[int]  # clock ids that got their warning now
    breached: list[int]  # clock ids that got their breach now


def _record(clock_id: int, event_type: str) -> None:
    clock = SlaClock.objects.select_related("work_order").get(pk=clock_id)
    workorder_log(
        work_order=clock.work_order,
        type=event_type,
        actor=Actor.system(),
        data={
            "target": clock.target,
            "due_at": clock.due_at.isoformat(),
            "target_minutes": clock.target_minutes,
            "clock_id": clock.pk,
        },
        is_internal=True,
    )


def sla_tick(*, now: dt.datetime | None = None, batch: int = TICK_BATCH) -> TickReport:
    """Record a ``sla_warning`` event for each running clock past its warning point and a
    ``sla_breached`` event for each past its due time — once per clock.

    Each clock is claimed with one conditional UPDATE (``warned_at IS NULL`` /
    ``breached_at IS NULL``, still open, not paused) in the same transaction as its event, so
    two workers never both record it, and a clock met or paused meanwhile is left alone. A clock
    found already past due without a warning gets only the breach (its ``warned_at`` is set
    too, so it is never warned afterwards)."""
    now = now or timezone.now()
    to_breach = list(
        SlaClock.objects.filter(
            OPEN_CLOCK, paused_at__isnull=True, breached_at__isnull=True, due_at__lte=now
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    to_warn = list(
        SlaClock.objects.filter(
            OPEN_CLOCK,
            paused_at__isnull=True,
            warned_at__isnull=True,
            warn_at__lte=now,
            due_at__gt=now,
        )
        .order_by("warn_at")
        .values_list("pk", flat=True)[:batch]
    )
    breached: list[int] = []
    for pk in to_breach:
        with transaction.atomic():
            won = SlaClock.objects.filter(
                OPEN_CLOCK, pk=pk, paused_at__isnull=True, breached_at__isnull=True, due_at__lte=now
            ).update(breached_at=now, warned_at=Coalesce(F("warned_at"), now))
            if won:
                _record(pk, EventType.SLA_BREACHED)
                breached.append(pk)
    warned: list[int] = []
    for pk in to_warn:
        with transaction.atomic():
            won = SlaClock.objects.filter(
                OPEN_CLOCK,
                pk=pk,
                paused_at__isnull=True,
                warned_at__isnull=True,
                warn_at__lte=now,
                due_at__gt=now,
            ).update(warned_at=now)
            if won:
                _record(pk, EventType.SLA_WARNING)
                warned.append(pk)
    if warned or breached:
        logger.info("SLA tick: %d warned, %d breached", len(warned), len(breached))
    return TickReport(warned=warned, breached=breached)


# --- policies --------------------------------------------------------------------------------


@transaction.atomic
def sla_policy_save(*, policy: SlaPolicy) -> SlaPolicy:
    """Create or change a policy after every check of the model (target ranges, the warning
    threshold, the service type's organisation, one active policy per organisation × service
    type × priority). Raises django's ``ValidationError`` (field → messages) on a refusal."""
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def sla_policy_delete(*, policy: SlaPolicy) -> None:
    """Delete a policy. Clocks it set keep their minutes and due times (their ``policy``
    becomes empty); new orders get the next matching policy or the built-in default."""
    policy.delete()
