"""Appointment slots: when a customer can come to an outlet, or an engineer can come to them.

Carry-in and mail-in (到店): an outlet's opening hours are cut into slots of
``OUTLET_SLOT_MINUTES``; each slot takes as many jobs as the outlet has service bays. A booking
takes one bay with a conditional ``UPDATE ... SET booked = booked + 1 WHERE booked <
capacity`` on the slot's counter row, so however many customers book the same slot at once,
exactly ``capacity`` succeed (the rest get ``SlotFull``).

On-site (上门): the two-hour windows of the intake form, offered when at least one technician
who could do the job is free for the whole window: on shift, not on a day off, under their
daily capacity, and clear of their other appointments by the travel time between the jobs
(the dispatch travel provider, straight line × road factor by default).

Dependency direction: dispatch uses workorders, never the other way. Booking and rescheduling
are dispatch services that take the slot and then call ``workorder_schedule`` /
``workorder_reschedule`` in the same transaction, so workorders' appointment services are
unchanged. The one place workorders reaches back is ``workorder_cancel``, which frees the bay
through a function-level import of ``slot_release`` (every cancellation passes there; a
module-level import would be a cycle).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhou.accounts.models import OpeningHours, Outlet
from shouhou.core.errors import Conflict, DomainError
from shouhou.dispatch.matching import StraightLineTravel, TravelTimeProvider, Weights
from shouhou.dispatch.models import OutletSlot, SlotBooking, Technician
from shouhou.dispatch.selectors import weights_for
from shouhou.workorders import services as workorder_services
from shouhou.workorders.choices import FulfilmentMode
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor

OUTLET_SLOT_MINUTES = 60
VISIT_WINDOW_HOURS = 2
VISIT_WINDOW_STARTS = (8, 10, 12, 14, 16, 18)  # the intake form's two-hour windows
DEFAULT_DAYS = 7
HORIZON_DAYS = 60
LEAD_MINUTES = 30  # no slot that starts sooner than this from now
BUSY_STATUSES = ("assigned", "scheduled", "in_service")
OUTLET_MODES = (FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN)


class SlotFull(Conflict):
    """Every bay of this slot is taken."""

    code = "slot_full"

    def __init__(self) -> None:
        super().__init__(_("This time is fully booked. Please choose another time."))


class SlotUnavailable(DomainError):
    """The time is not one of the outlet's or the technicians' available slots."""

    code = "slot_unavailable"


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    capacity: int  # bays (outlet) or free technicians (on-site)
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def is_available(self) -> bool:
        return self.free > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "capacity": self.capacity,
            "booked": self.booked,
            "free": self.free,
        }


def _earliest(moment: dt.datetime) -> dt.datetime:
    return moment + dt.timedelta(minutes=LEAD_MINUTES)


def _outlet_grid(
    hours: Iterable[OpeningHours], day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    step = dt.timedelta(minutes=OUTLET_SLOT_MINUTES)
    grid = []
    for period in hours:
        if period.weekday != day.weekday():
            continue
        start = timezone.make_aware(dt.datetime.combine(day, period.opens_at))
        closes = timezone.make_aware(dt.datetime.combine(day, period.closes_at))
        while start + step <= closes:
            grid.append((start, start + step))
            start += step
    return sorted(grid)


# --- selectors ---------------------------------------------------------------------------------


def outlet_slots(
    *,
    outlet: Outlet,
    days: int = DEFAULT_DAYS,
    at: dt.datetime | None = None,
    include_full: bool = False,
) -> list[Slot]:
    """The outlet's slots over the next ``days`` days (from ``at``): one per opening period
    step, each with the outlet's bays as capacity and the bays already booked. Two queries."""
    moment = at or timezone.now()
    earliest = _earliest(moment)
    local_day = timezone.localtime(moment).date()
    hours = list(outlet.opening_hours.all())
    grid = [
        window
        for offset in range(min(days, HORIZON_DAYS))
        for window in _outlet_grid(hours, local_day + dt.timedelta(days=offset))
        if window[0] >= earliest
    ]
    if not grid:
        return []
    rows = {
        row.start: row
        for row in OutletSlot.objects.filter(
            outlet=outlet, start__gte=grid[0][0], start__lte=grid[-1][0]
        )
    }
    slots = []
    for start, end in grid:
        row = rows.get(start)
        slot = Slot(
            start=start,
            end=end,
            capacity=row.capacity if row else outlet.service_bays,
            booked=row.booked if row else 0,
        )
        if include_full or slot.is_available:
            slots.append(slot)
    return slots


@dataclass
class _Calendar:
    technician: Technician
    busy: list[tuple[dt.datetime, dt.datetime, float | None, float | None]]  # with job position
    load: dict[dt.date, int]


def _technicians_for(
    *, organization_ids: set[int], fault_type: Any, technician_id: int | None
) -> list[Technician]:
    queryset = Technician.objects.filter(
        organization_id__in=organization_ids, is_active=True
    ).prefetch_related("shifts", "days_off", "skill_levels__skill")
    if technician_id is not None:
        queryset = queryset.filter(pk=technician_id)
    technicians = list(queryset.order_by("pk"))
    if fault_type is not None:
        needed = {skill.code for skill in fault_type.required_skills.all()}
        technicians = [
            t for t in technicians if needed <= {s.skill.code for s in t.skill_levels.all()}
        ]
    return technicians


def visit_windows(
    *,
    organization_ids: set[int],
    latitude: float | None = None,
    longitude: float | None = None,
    fault_type: Any = None,
    technician_id: int | None = None,
    exclude_work_order_id: int | None = None,
    days: int = DEFAULT_DAYS,
    at: dt.datetime | None = None,
    travel: TravelTimeProvider | None = None,
    weights: Weights | None = None,
    include_full: bool = False,
) -> list[Slot]:
    """The on-site windows over the next ``days`` days: ``capacity`` is how many technicians
    who could do the job are free for the whole window (``booked`` is always 0). Three
    queries: technicians with shifts, days off and skills; their appointments."""
    moment = at or timezone.now()
    earliest = _earliest(moment)
    weights = weights or Weights()
    travel = travel or StraightLineTravel()
    technicians = _technicians_for(
        organization_ids=organization_ids, fault_type=fault_type, technician_id=technician_id
    )
    if latitude is not None and longitude is not None and technician_id is None:
        technicians = _within_radius(technicians, float(latitude), float(longitude))
    first_day = timezone.localtime(moment).date()
    last_day = first_day + dt.timedelta(days=min(days, HORIZON_DAYS))
    calendars = {t.pk: _Calendar(t, [], defaultdict(int)) for t in technicians}
    appointments = WorkOrder.objects.filter(
        technician_id__in=list(calendars),
        status__in=BUSY_STATUSES,
        appointment_start__isnull=False,
        appointment_end__isnull=False,
        appointment_start__lt=timezone.make_aware(dt.datetime.combine(last_day, dt.time())),
        appointment_end__gt=moment - dt.timedelta(days=1),
    )
    if exclude_work_order_id is not None:
        appointments = appointments.exclude(pk=exclude_work_order_id)
    for technician_id_, start, end, job_lat, job_lng in appointments.values_list(
        "technician_id", "appointment_start", "appointment_end", "latitude", "longitude"
    ):
        if start is None or end is None:  # excluded by the filter; narrows the type
            continue
        calendar = calendars[technician_id_]
        calendar.busy.append(
            (
                start,
                end,
                float(job_lat) if job_lat is not None else None,
                float(job_lng) if job_lng is not None else None,
            )
        )
        calendar.load[timezone.localtime(start).date()] += 1
    gaps = _travel_gaps(calendars, latitude, longitude, travel, weights)
    windows: list[Slot] = []
    length = dt.timedelta(hours=VISIT_WINDOW_HOURS)
    for offset in range(min(days, HORIZON_DAYS)):
        day = first_day + dt.timedelta(days=offset)
        for hour in VISIT_WINDOW_STARTS:
            start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
            end = start + length
            if start < earliest:
                continue
            free = sum(
                1
                for calendar in calendars.values()
                if _is_free(calendar, day, start, end, gaps[calendar.technician.pk])
            )
            if free or include_full:
                windows.append(Slot(start=start, end=end, capacity=free, booked=0))
    return windows


def _within_radius(technicians: list[Technician], latitude: float, longitude: float) -> list[Any]:
    if not technicians:
        return technicians
    from shouhou.dispatch.matching import distance_km

    km = distance_km(
        latitude,
        longitude,
        np.array([float(t.home_latitude) for t in technicians], dtype=np.float32),
        np.array([float(t.home_longitude) for t in technicians], dtype=np.float32),
    )
    return [t for t, d in zip(technicians, km, strict=True) if d <= t.service_radius_km]


def _travel_gaps(
    calendars: dict[int, _Calendar],
    latitude: float | None,
    longitude: float | None,
    travel: TravelTimeProvider,
    weights: Weights,
) -> dict[int, list[dt.timedelta]]:
    """Per technician, per appointment: the travel time between that job and the new one
    (zero when either position is unknown). One vectorised call for all appointments."""
    flat = [
        (technician_id, index, job_lat, job_lng)
        for technician_id, calendar in calendars.items()
        for index, (_s, _e, job_lat, job_lng) in enumerate(calendar.busy)
    ]
    gaps = {tid: [dt.timedelta(0)] * len(c.busy) for tid, c in calendars.items()}
    located = [row for row in flat if row[2] is not None and row[3] is not None]
    if latitude is None or longitude is None or not located:
        return gaps
    _km, minutes = travel.minutes(
        float(latitude),
        float(longitude),
        np.array([row[2] for row in located], dtype=np.float32),
        np.array([row[3] for row in located], dtype=np.float32),
        weights,
    )
    for (technician_id, index, _lat, _lng), value in zip(located, minutes, strict=True):
        gaps[technician_id][index] = dt.timedelta(minutes=float(value))
    return gaps


def _is_free(
    calendar: _Calendar,
    day: dt.date,
    start: dt.datetime,
    end: dt.datetime,
    gaps: list[dt.timedelta],
) -> bool:
    technician = calendar.technician
    if any(off.day == day for off in technician.days_off.all()):
        return False
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    if not any(
        shift.weekday == day.weekday()
        and shift.starts_at <= local_start.time()
        and local_end.time() <= shift.ends_at
        and local_end.date() == day
        for shift in technician.shifts.all()
    ):
        return False
    if calendar.load[day] >= technician.daily_capacity:
        return False
    return all(
        not (start < busy_end + gap and end > busy_start - gap)
        for (busy_start, busy_end, _lat, _lng), gap in zip(calendar.busy, gaps, strict=True)
    )


def available_slots(
    *, work_order: WorkOrder, days: int = DEFAULT_DAYS, at: dt.datetime | None = None
) -> list[Slot]:
    """What this order can be booked into: the outlet's slots for carry-in and mail-in with an
    outlet, otherwise the on-site windows of the technicians who could take it (only the
    assigned technician once there is one)."""
    if work_order.fulfilment_mode in OUTLET_MODES:
        if work_order.outlet is None:
            return []
        return outlet_slots(outlet=work_order.outlet, days=days, at=at)
    organization_ids = workorder_services.serving_organization_ids(work_order.organization)
    return visit_windows(
        organization_ids=organization_ids,
        latitude=float(work_order.latitude) if work_order.latitude is not None else None,
        longitude=float(work_order.longitude) if work_order.longitude is not None else None,
        fault_type=work_order.fault_type,
        technician_id=work_order.technician_id,
        exclude_work_order_id=work_order.pk,
        days=days,
        at=at,
        weights=weights_for(work_order.organization_id),
    )


def slot_booking_list(*, organization_ids: set[int]) -> Any:
    """Bookings at the outlets of these organisations (the console's and the API's scope)."""
    return SlotBooking.objects.filter(outlet__organization_id__in=organization_ids).select_related(
        "outlet", "work_order"
    )


# --- services ----------------------------------------------------------------------------------


def _check_outlet_slot(outlet: Outlet, start: dt.datetime) -> dt.datetime:
    """The end of the outlet's slot starting at ``start``, or ``SlotUnavailable``."""
    local = timezone.localtime(start)
    if start < timezone.now():
        raise SlotUnavailable(_("Choose a time in the future."))
    if local.date() > timezone.localdate() + dt.timedelta(days=HORIZON_DAYS):
        raise SlotUnavailable(_("Choose a date within the next 60 days."))
    for slot_start, slot_end in _outlet_grid(outlet.opening_hours.all(), local.date()):
        if slot_start == start:
            return slot_end
    raise SlotUnavailable(_("The outlet does not take appointments at this time."))


def _take_bay(outlet: Outlet, start: dt.datetime, end: dt.datetime) -> OutletSlot:
    # Make sure the counter row exists (racing creators: the loser's insert does nothing),
    # then take a bay with one conditional UPDATE: under concurrency PostgreSQL re-checks the
    # WHERE on the latest row version and SQLite serialises writers, so it never overbooks.
    OutletSlot.objects.bulk_create(
        [OutletSlot(outlet=outlet, start=start, end=end, capacity=outlet.service_bays)],
        ignore_conflicts=True,
    )
    taken = OutletSlot.objects.filter(outlet=outlet, start=start, booked__lt=F("capacity")).update(
        booked=F("booked") + 1
    )
    if not taken:
        raise SlotFull()
    return OutletSlot.objects.get(outlet=outlet, start=start)


def _free_bay(slot_id: int) -> None:
    OutletSlot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


@transaction.atomic
def slot_book(*, work_order: WorkOrder, start: dt.datetime) -> SlotBooking:
    """Hold one bay of the order's outlet in the slot starting at ``start``.

    Takes the new bay first (``SlotFull`` if none is left: then nothing changes), then frees
    the order's previous bay, all in one transaction. Booking the slot the order already holds
    changes nothing. Refuses orders that are not carry-in/mail-in or have no outlet.
    """
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    outlet = (
        Outlet.objects.prefetch_related("opening_hours").filter(pk=locked.outlet_id).first()
        if locked.outlet_id is not None
        else None
    )
    if locked.fulfilment_mode not in OUTLET_MODES or outlet is None:
        raise SlotUnavailable(_("Only orders brought or sent to an outlet book outlet slots."))
    end = _check_outlet_slot(outlet, start)
    existing = SlotBooking.objects.select_for_update().filter(work_order=locked).first()
    if existing is not None and existing.outlet_id == outlet.pk and existing.start == start:
        return existing
    slot = _take_bay(outlet, start, end)
    if existing is not None:
        _free_bay(existing.slot_id)
        existing.slot, existing.outlet, existing.start, existing.end = slot, outlet, start, end
        existing.save(update_fields=["slot", "outlet", "start", "end"])
        return existing
    return SlotBooking.objects.create(
        slot=slot, outlet=outlet, work_order=locked, start=start, end=end
    )


@transaction.atomic
def slot_release(*, work_order: WorkOrder) -> bool:
    """Give back the order's bay, if it holds one (a cancelled order). Idempotent."""
    booking = SlotBooking.objects.select_for_update().filter(work_order_id=work_order.pk).first()
    if booking is None:
        return False
    _free_bay(booking.slot_id)
    booking.delete()
    return True


def _check_visit_window(work_order: WorkOrder, start: dt.datetime, end: dt.datetime) -> None:
    if end - start != dt.timedelta(hours=VISIT_WINDOW_HOURS):
        raise SlotUnavailable(_("Choose one of the offered times."))
    if work_order.technician_id is not None:
        # Serialise bookings of one technician: two dispatchers cannot give them the same time.
        Technician.objects.select_for_update().filter(pk=work_order.technician_id).first()
    days = (timezone.localtime(start).date() - timezone.localdate()).days + 1
    windows = available_slots(work_order=work_order, days=max(days, 1))
    if not any(window.start == start and window.end == end for window in windows):
        raise SlotUnavailable(
            _("No engineer is free at this time any more. Please choose another time.")
        )


@transaction.atomic
def appointment_book(
    *, work_order: WorkOrder, start: dt.datetime, actor: Actor, end: dt.datetime | None = None
) -> WorkOrder:
    """Staff fix the appointment in an available slot (console, API).

    Carry-in/mail-in: takes the outlet bay (moving any earlier booking) and schedules the
    order, in one transaction. On-site: checks the window is still free for the assigned
    technician (row-locked so two dispatchers cannot double-book them) and schedules.
    """
    if work_order.fulfilment_mode in OUTLET_MODES and work_order.outlet_id is not None:
        booking = slot_book(work_order=work_order, start=start)
        return workorder_services.workorder_schedule(
            work_order=work_order, actor=actor, start=booking.start, end=booking.end
        )
    end = end or start + dt.timedelta(hours=VISIT_WINDOW_HOURS)
    _check_visit_window(work_order, start, end)
    return workorder_services.workorder_schedule(
        work_order=work_order, actor=actor, start=start, end=end
    )


@transaction.atomic
def appointment_reschedule(
    *, work_order: WorkOrder, start: dt.datetime, actor: Actor, end: dt.datetime | None = None
) -> WorkOrder:
    """The customer moves their time to another available slot.

    Carry-in/mail-in with an outlet: the new bay is taken and the old one freed in one
    transaction — if the new slot is full, ``SlotFull`` and the old booking stays. On-site:
    the window must still be free. Then ``workorder_reschedule`` applies its own rules
    (not after the repair started).
    """
    if work_order.fulfilment_mode in OUTLET_MODES and work_order.outlet_id is not None:
        booking = slot_book(work_order=work_order, start=start)
        start, end = booking.start, booking.end
    else:
        end = end or start + dt.timedelta(hours=VISIT_WINDOW_HOURS)
        _check_visit_window(work_order, start, end)
    return workorder_services.workorder_reschedule(
        work_order=work_order, actor=actor, start=start, end=end
    )


def slot_booking_for(*, work_order: WorkOrder) -> SlotBooking | None:
    return SlotBooking.objects.filter(work_order_id=work_order.pk).first()
