"""Appointment slots: outlet bays per slot, technicians' free windows, booking and moving."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouhou.core.errors import DomainError
from shouhou.core.testing.factories import (
    OpeningHoursFactory,
    OutletFactory,
    SkillFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.models import DayOff, OutletSlot, Shift, SlotBooking, TechnicianSkill
from shouhou.dispatch.slots import (
    SlotFull,
    SlotUnavailable,
    appointment_book,
    appointment_reschedule,
    outlet_slots,
    slot_book,
    visit_windows,
)
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2030, 1, 7)
SUNDAY_EVENING = timezone.make_aware(dt.datetime(2030, 1, 6, 20, 0))
JOB = (30.2741, 120.1551)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def workshop(org, *, bays=2, weekdays=range(7)):
    outlet = OutletFactory(organization=org, service_bays=bays)
    for day in weekdays:
        OpeningHoursFactory(outlet=outlet, weekday=day, opens_at=dt.time(9), closes_at=dt.time(18))
    return outlet


def carry_in_order(org, outlet, **fields):
    return WorkOrderFactory(organization=org, fulfilment_mode="carry_in", outlet=outlet, **fields)


# --- outlet slots ------------------------------------------------------------------------------


def test_outlet_slots_cut_the_opening_hours_into_hours_with_the_bays_as_capacity(org_a):
    outlet = workshop(org_a, bays=3, weekdays=[0, 2])  # Monday and Wednesday

    slots = outlet_slots(outlet=outlet, days=4, at=SUNDAY_EVENING)

    starts = [slot.start for slot in slots]
    assert starts == [at(MONDAY, h) for h in range(9, 18)] + [
        at(MONDAY + dt.timedelta(days=2), h) for h in range(9, 18)
    ]
    assert {(slot.capacity, slot.booked, slot.free) for slot in slots} == {(3, 0, 3)}
    assert slots[0].end == at(MONDAY, 10)


def test_outlet_slots_skip_the_past_and_show_what_is_booked(org_a):
    outlet = workshop(org_a, bays=2, weekdays=[0])
    OutletSlot.objects.create(
        outlet=outlet, start=at(MONDAY, 15), end=at(MONDAY, 16), capacity=2, booked=1
    )
    OutletSlot.objects.create(
        outlet=outlet, start=at(MONDAY, 16), end=at(MONDAY, 17), capacity=2, booked=2
    )

    slots = outlet_slots(outlet=outlet, days=1, at=at(MONDAY, 13, 40))
    everything = outlet_slots(outlet=outlet, days=1, at=at(MONDAY, 13, 40), include_full=True)

    assert [(s.start.hour, s.free) for s in slots] == [(15, 1), (17, 2)]
    assert [(s.start.hour, s.free) for s in everything] == [(15, 1), (16, 0), (17, 2)]


# --- technicians' windows ------------------------------------------------------------------------


@pytest.fixture
def engineer(org_a):
    technician = TechnicianFactory(
        organization=org_a,
        user=UserFactory(),
        home_latitude=Decimal(str(JOB[0])),
        home_longitude=Decimal(str(JOB[1])),
    )
    Shift.objects.create(
        technician=technician, weekday=0, starts_at=dt.time(9), ends_at=dt.time(17)
    )
    return technician


def windows(org, **kwargs):
    return [
        (w.start.hour, w.capacity)
        for w in visit_windows(
            organization_ids={org.pk}, latitude=JOB[0], longitude=JOB[1], days=2, **kwargs
        )
        if w.start.date() == MONDAY
    ]


def test_windows_lie_inside_the_shift(org_a, engineer):
    assert windows(org_a, at=SUNDAY_EVENING) == [(10, 1), (12, 1), (14, 1)]


def test_a_day_off_has_no_windows(org_a, engineer):
    DayOff.objects.create(technician=engineer, day=MONDAY)

    assert windows(org_a, at=SUNDAY_EVENING) == []


def test_a_technician_without_the_skill_offers_no_window(org_a, engineer):
    from shouhou.core.testing.factories import FaultTypeFactory

    skill = SkillFactory(organization=org_a)
    fault = FaultTypeFactory(organization=org_a)
    fault.required_skills.add(skill)

    assert windows(org_a, at=SUNDAY_EVENING, fault_type=fault) == []
    TechnicianSkill.objects.create(technician=engineer, skill=skill, level=3)
    assert windows(org_a, at=SUNDAY_EVENING, fault_type=fault) == [(10, 1), (12, 1), (14, 1)]


def test_an_appointment_takes_its_time_and_the_travel_around_it(org_a, engineer):
    # given: a job 12:00–13:00 about 10 km north (10 × 1.35 road factor at 25 km/h ≈ 32 min)
    WorkOrderFactory(
        organization=org_a,
        technician=engineer,
        status="scheduled",
        appointment_start=at(MONDAY, 12),
        appointment_end=at(MONDAY, 13),
        latitude=Decimal(str(round(JOB[0] + 10 / 111.2, 6))),
        longitude=Decimal(str(JOB[1])),
    )

    # then: 10–12 would end 32 minutes too late; 12–14 overlaps; 14–16 starts after 13:32
    assert windows(org_a, at=SUNDAY_EVENING) == [(14, 1)]


def test_without_travel_a_window_may_end_when_the_next_job_starts(org_a, engineer):
    WorkOrderFactory(
        organization=org_a,
        technician=engineer,
        status="scheduled",
        appointment_start=at(MONDAY, 12),
        appointment_end=at(MONDAY, 13),
        latitude=Decimal(str(JOB[0])),
        longitude=Decimal(str(JOB[1])),
    )

    assert windows(org_a, at=SUNDAY_EVENING) == [(10, 1), (14, 1)]


def test_cancelled_jobs_and_full_days(org_a, engineer):
    WorkOrderFactory(
        organization=org_a,
        technician=engineer,
        status="cancelled",
        cancellation_reason="no",
        appointment_start=at(MONDAY, 10),
        appointment_end=at(MONDAY, 12),
    )
    assert windows(org_a, at=SUNDAY_EVENING) == [(10, 1), (12, 1), (14, 1)]
    engineer.daily_capacity = 1
    engineer.save()
    WorkOrderFactory(
        organization=org_a,
        technician=engineer,
        status="assigned",
        appointment_start=at(MONDAY, 16),
        appointment_end=at(MONDAY, 17),
    )
    assert windows(org_a, at=SUNDAY_EVENING) == []


def test_two_free_technicians_make_a_window_of_two(org_a, engineer):
    second = TechnicianFactory(
        organization=org_a,
        user=UserFactory(),
        home_latitude=Decimal(str(JOB[0])),
        home_longitude=Decimal(str(JOB[1])),
    )
    Shift.objects.create(technician=second, weekday=0, starts_at=dt.time(8), ends_at=dt.time(12))

    assert windows(org_a, at=SUNDAY_EVENING) == [(8, 1), (10, 2), (12, 1), (14, 1)]


# --- booking -------------------------------------------------------------------------------------


def test_booking_takes_a_bay_and_a_full_slot_refuses(org_a, agent):
    outlet = workshop(org_a, bays=1)
    first, second = carry_in_order(org_a, outlet), carry_in_order(org_a, outlet)
    start = at(next_monday(), 10)

    booking = slot_book(work_order=first, start=start)

    assert (booking.start, booking.end, booking.outlet) == (start, at(next_monday(), 11), outlet)
    with pytest.raises(SlotFull) as refused:
        slot_book(work_order=second, start=start)
    assert str(refused.value) == "该时间已约满，请选择其他时间。"  # zh-hans, the default language
    assert isinstance(refused.value, DomainError)
    slot = OutletSlot.objects.get(outlet=outlet, start=start)
    assert (slot.capacity, slot.booked) == (1, 1)
    assert list(SlotBooking.objects.values_list("work_order", flat=True)) == [first.pk]


def test_booking_refuses_times_off_the_grid_and_on_site_orders(org_a):
    outlet = workshop(org_a, weekdays=[0])
    order = carry_in_order(org_a, outlet)

    with pytest.raises(SlotUnavailable):
        slot_book(work_order=order, start=at(next_monday(), 10, 30))
    with pytest.raises(SlotUnavailable):
        slot_book(work_order=order, start=at(next_monday() + dt.timedelta(days=1), 10))
    with pytest.raises(SlotUnavailable):
        slot_book(work_order=WorkOrderFactory(organization=org_a), start=at(next_monday(), 10))
    assert OutletSlot.objects.count() == 0


def test_booking_the_same_slot_again_changes_nothing(org_a):
    outlet = workshop(org_a, bays=2)
    order = carry_in_order(org_a, outlet)
    start = at(next_monday(), 10)

    slot_book(work_order=order, start=start)
    slot_book(work_order=order, start=start)

    assert OutletSlot.objects.get().booked == 1


def test_staff_booking_schedules_the_order_in_the_slot(org_a, agent):
    outlet = workshop(org_a)
    order = carry_in_order(org_a, outlet, status="assigned")
    start = at(next_monday(), 14)

    result = appointment_book(work_order=order, start=start, actor=Actor(agent, "agent"))

    assert (result.status, result.appointment_start, result.appointment_end) == (
        "scheduled",
        start,
        at(next_monday(), 15),
    )
    assert SlotBooking.objects.get().work_order == order


def test_rescheduling_moves_the_booking_and_frees_the_old_bay(org_a, customer):
    outlet = workshop(org_a, bays=1)
    order = carry_in_order(org_a, outlet, status="assigned")
    old, new = at(next_monday(), 10), at(next_monday(), 11)
    slot_book(work_order=order, start=old)

    appointment_reschedule(work_order=order, start=new, actor=Actor(customer, "customer"))

    booking = SlotBooking.objects.get()
    assert (booking.start, booking.slot.start) == (new, new)
    assert dict(OutletSlot.objects.values_list("start", "booked")) == {old: 0, new: 1}
    order.refresh_from_db()
    assert (order.preferred_start, order.preferred_end) == (new, at(next_monday(), 12))


def test_rescheduling_into_a_full_slot_keeps_the_old_booking(org_a, customer):
    # given: two orders in a one-bay workshop, each in its own slot
    outlet = workshop(org_a, bays=1)
    mine = carry_in_order(org_a, outlet, status="scheduled")
    theirs = carry_in_order(org_a, outlet, status="scheduled")
    old, full = at(next_monday(), 10), at(next_monday(), 11)
    slot_book(work_order=mine, start=old)
    slot_book(work_order=theirs, start=full)
    services.workorder_schedule(
        work_order=mine, actor=Actor.system(), start=old, end=at(next_monday(), 11)
    )
    events_before = mine.events.count()

    # when
    with pytest.raises(SlotFull):
        appointment_reschedule(work_order=mine, start=full, actor=Actor(customer, "customer"))

    # then: nothing changed
    assert SlotBooking.objects.get(work_order=mine).start == old
    assert dict(OutletSlot.objects.values_list("start", "booked")) == {old: 1, full: 1}
    mine.refresh_from_db()
    assert mine.appointment_start == old
    assert mine.events.count() == events_before


def test_a_failing_schedule_rolls_the_new_booking_back(org_a, customer):
    # given: the repair has started, so the customer may not reschedule
    outlet = workshop(org_a, bays=2)
    order = carry_in_order(org_a, outlet, status="in_service")
    old, new = at(next_monday(), 10), at(next_monday(), 11)
    slot_book(work_order=order, start=old)

    with pytest.raises(DomainError):
        appointment_reschedule(work_order=order, start=new, actor=Actor(customer, "customer"))

    assert SlotBooking.objects.get().start == old
    assert dict(OutletSlot.objects.values_list("start", "booked")) == {old: 1}


def test_cancelling_the_order_frees_its_bay(org_a, customer):
    outlet = workshop(org_a, bays=1)
    order = carry_in_order(org_a, outlet, status="assigned")
    start = at(next_monday(), 10)
    slot_book(work_order=order, start=start)

    services.workorder_cancel(work_order=order, actor=Actor(customer, "customer"), reason="no")

    assert SlotBooking.objects.count() == 0
    assert OutletSlot.objects.get().booked == 0
    slot_book(work_order=carry_in_order(org_a, outlet), start=start)
    assert OutletSlot.objects.get().booked == 1


def test_on_site_booking_checks_the_technicians_window(org_a, agent, engineer):
    monday = next_monday()
    order = WorkOrderFactory(
        organization=org_a,
        technician=engineer,
        status="assigned",
        latitude=Decimal(str(JOB[0])),
        longitude=Decimal(str(JOB[1])),
    )
    actor = Actor(agent, "agent")

    with pytest.raises(SlotUnavailable):
        appointment_book(work_order=order, start=at(monday, 8), actor=actor)  # before the shift
    result = appointment_book(work_order=order, start=at(monday, 10), actor=actor)

    assert (result.appointment_start, result.appointment_end) == (at(monday, 10), at(monday, 12))
    assert SlotBooking.objects.count() == 0


def test_customer_moves_an_on_site_visit_only_into_a_free_window(org_a, customer, engineer):
    # given: the engineer's order at ten, and another job of theirs at two
    monday = next_monday()
    for hour in (10, 14):
        WorkOrderFactory(
            organization=org_a,
            technician=engineer,
            status="scheduled",
            appointment_start=at(monday, hour),
            appointment_end=at(monday, hour + 2),
            latitude=Decimal(str(JOB[0])),
            longitude=Decimal(str(JOB[1])),
        )
    mine = WorkOrder.objects.get(appointment_start=at(monday, 10))
    actor = Actor(customer, "customer")

    # when / then: two o'clock is taken, noon is free (its own ten o'clock does not count)
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(work_order=mine, start=at(monday, 14), actor=actor)
    moved = appointment_reschedule(work_order=mine, start=at(monday, 12), actor=actor)

    assert (moved.appointment_start, moved.appointment_end) == (at(monday, 12), at(monday, 14))
