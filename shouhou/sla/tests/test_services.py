"""SLA clocks through the real work-order services: which policy, when due, paused on hold,
met at each milestone, cancelled with the order; warnings and breaches recorded once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.sla.selectors import DEFAULT_TARGETS, sla_policy_for
from shouhou.sla.services import sla_clocks_follow, sla_policy_save, sla_tick
from shouhou.sla.tests.conftest import STAFF, START
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrderEvent

pytestmark = pytest.mark.django_db

M = dt.timedelta(minutes=1)


def policy(world, **values) -> SlaPolicy:
    fields = {
        "organization": world.org,
        "name": "默认",
        "response_minutes": 60,
        "arrival_minutes": 240,
        "resolution_minutes": 1440,
    }
    fields.update(values)
    return SlaPolicy.objects.create(**fields)


def clocks(order) -> dict[str, SlaClock]:
    return {clock.target: clock for clock in SlaClock.objects.filter(work_order=order)}


def sla_events(order) -> list[tuple[str, str]]:
    return list(
        WorkOrderEvent.objects.filter(
            work_order=order, type__in=["sla_warning", "sla_breached"]
        ).values_list("type", "data__target")
    )


# --- which policy ----------------------------------------------------------------------------


def test_most_specific_policy_wins(world, now):
    # given an organisation default, a priority policy, a service-type policy and one for both
    everything = policy(world, name="默认")
    urgent = policy(world, name="加急", priority="urgent", response_minutes=30)
    repairs = policy(world, name="维修", service_type=world.repair, response_minutes=45)
    urgent_repairs = policy(
        world, name="加急维修", service_type=world.repair, priority="urgent", response_minutes=15
    )
    # then each order gets the narrowest policy that matches it
    cases = [
        (world.repair, "urgent", urgent_repairs),
        (world.repair, "normal", repairs),
        (world.install, "urgent", urgent),
        (world.install, "low", everything),
    ]
    for service_type, priority, expected in cases:
        order = WorkOrderFactory(
            organization=world.org, service_type=service_type, priority=priority
        )
        assert sla_policy_for(work_order=order).policy_id == expected.pk


def test_inactive_and_other_organisations_policies_do_not_apply(world, org_b, now):
    # given an inactive policy of A and an active one of B
    policy(world, is_active=False, response_minutes=5)
    SlaPolicy.objects.create(
        organization=org_b,
        name="B",
        response_minutes=1,
        arrival_minutes=1,
        resolution_minutes=1,
    )
    order = WorkOrderFactory(organization=world.org, service_type=world.repair, priority="high")
    # then the built-in default for its priority applies
    assert sla_policy_for(work_order=order) == DEFAULT_TARGETS["high"]
    assert (DEFAULT_TARGETS["high"].response_minutes, DEFAULT_TARGETS["high"].policy_id) == (
        60,
        None,
    )


# --- clocks follow the order -----------------------------------------------------------------


def test_intake_starts_response_and_resolution_clocks_with_exact_due_times(world, now):
    # given a policy of 60 / 240 / 1440 minutes warning at 75 %
    rule = policy(world, warn_at_percent=75)
    # when an order is reported
    order = world.order()
    # then two clocks run from the submission
    found = clocks(order)
    assert set(found) == {"response", "resolution"}
    response = found["response"]
    assert (response.policy_id, response.target_minutes) == (rule.pk, 60)
    assert (response.started_at, response.warn_at, response.due_at) == (
        START,
        START + 45 * M,
        START + 60 * M,
    )
    assert found["resolution"].due_at == START + 1440 * M
    assert found["resolution"].warn_at == START + 1080 * M


def test_accepting_meets_response_and_starts_arrival(world, now):
    policy(world)
    order = world.order()
    # when the order is accepted 20 minutes later
    now.advance(minutes=20)
    services.workorder_accept(work_order=order, actor=STAFF)
    found = clocks(order)
    # then the response clock is met then and the arrival clock runs from there
    assert found["response"].met_at == START + 20 * M
    assert found["response"].state(now()) == "met"
    arrival = found["arrival"]
    assert (arrival.started_at, arrival.due_at, arrival.met_at) == (
        START + 20 * M,
        START + 260 * M,
        None,
    )


def _to_in_service(world, order, now):
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_assign_technician(work_order=order, technician=world.technician, actor=STAFF)
    now.advance(minutes=30)
    services.visit_check_in(
        work_order=order,
        technician=world.technician,
        actor=STAFF,
        latitude=None,
        longitude=None,
    )


def test_check_in_meets_arrival_and_completion_meets_resolution(world, now):
    policy(world)
    order = world.order(fulfilment_mode="carry_in", address=None)
    # when the outlet receives the device and later reports it ready
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_assign_outlet(work_order=order, outlet=world.outlet, actor=STAFF)
    now.advance(minutes=90)
    services.workorder_receive_device(work_order=order, actor=STAFF)
    assert clocks(order)["arrival"].met_at == START + 90 * M
    assert clocks(order)["resolution"].met_at is None
    now.advance(hours=30)  # 1 h 30 min + 30 h: later than the 24-hour resolution target
    services.workorder_ready_for_pickup(work_order=order, actor=STAFF)
    resolution = clocks(order)["resolution"]
    assert resolution.met_at == START + 90 * M + 30 * 60 * M
    assert resolution.state(now()) == "met_late"
    # and closing changes nothing more
    services.workorder_hand_over(work_order=order, actor=STAFF)
    assert clocks(order)["resolution"].met_at == resolution.met_at


def test_on_site_check_in_meets_arrival(world, now):
    policy(world)
    order = world.order()
    _to_in_service(world, order, now)
    assert clocks(order)["arrival"].met_at == START + 30 * M
    assert clocks(order)["arrival"].state(now()) == "met"


def test_hold_pauses_open_clocks_and_resume_moves_their_due_times(world, now):
    policy(world)
    order = world.order()
    services.workorder_accept(work_order=order, actor=STAFF)
    # when the order waits 2 hours on hold after 10 minutes
    now.advance(minutes=10)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等配件")
    held = clocks(order)
    assert held["arrival"].paused_at == START + 10 * M
    assert held["arrival"].state(now()) == "paused"
    assert held["response"].paused_at is None  # met before: not paused
    now.advance(hours=2)
    # while paused the time left does not move
    assert held["arrival"].remaining(now()) == 230 * M
    services.workorder_resume(work_order=order, actor=STAFF)
    # then the open clocks are due 2 hours later and the pause is counted
    resumed = clocks(order)
    for target, due in (("arrival", 240), ("resolution", 1440)):
        clock = resumed[target]
        assert clock.paused_at is None
        assert clock.paused_seconds == 7200
        assert clock.due_at == START + due * M + 120 * M
    assert resumed["arrival"].warn_at == START + 192 * M + 120 * M
    assert resumed["response"].due_at == START + 60 * M  # met clocks never move
    # and a second hold adds to the paused time
    now.advance(minutes=5)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等客户")
    now.advance(minutes=15)
    services.workorder_resume(work_order=order, actor=STAFF)
    assert clocks(order)["arrival"].paused_seconds == 7200 + 900


def test_paused_clock_gets_no_warning_or_breach(world, now):
    policy(world)
    order = world.order()
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等配件")
    # when the job runs long after the arrival target while the order is on hold
    now.advance(hours=10)
    report = sla_tick()
    # then nothing about arrival or resolution (paused); nothing at all is recorded
    assert (report.warned, report.breached, sla_events(order)) == ([], [], [])


def test_cancelling_cancels_open_clocks_even_on_hold(world, now):
    policy(world)
    order = world.order()
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等客户")
    now.advance(minutes=30)
    services.workorder_cancel(work_order=order, actor=STAFF, reason="客户不修了")
    found = clocks(order)
    assert found["response"].cancelled_at is None and found["response"].met_at is not None
    for target in ("arrival", "resolution"):
        assert found[target].cancelled_at == START + 30 * M
        assert found[target].paused_at is None
        assert found[target].paused_seconds == 1800
        assert found[target].state(now()) == "cancelled"
    # and the job never warns about them
    now.advance(days=5)
    assert sla_events(order) == [] and sla_tick().breached == []


def test_order_without_clocks_gets_them_on_its_next_change(world, now):
    # given an order written before SLA clocks existed, accepted an hour after submission
    order = WorkOrderFactory(
        organization=world.org,
        customer=world.customer,
        service_type=world.repair,
        status="accepted",
        submitted_at=START - 60 * M,
        accepted_at=START,
    )
    # when it is put on hold
    services.workorder_hold(work_order=order, actor=STAFF, reason="等配件")
    found = clocks(order)
    # then it has all three clocks: response met at acceptance, the others paused
    assert set(found) == {"response", "arrival", "resolution"}
    assert found["response"].met_at == START
    assert found["arrival"].started_at == START and found["arrival"].paused_at == START
    assert found["resolution"].started_at == START - 60 * M


def test_completion_rejected_does_not_reopen_resolution(world, now):
    order = world.order(fulfilment_mode="carry_in", address=None)
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_assign_outlet(work_order=order, outlet=world.outlet, actor=STAFF)
    services.workorder_receive_device(work_order=order, actor=STAFF)
    now.advance(hours=1)
    services.workorder_ready_for_pickup(work_order=order, actor=STAFF)
    services.workorder_reject_completion(work_order=order, actor=STAFF, reason="还是不行")
    assert clocks(order)["resolution"].met_at == START + 60 * M


# --- warnings and breaches -------------------------------------------------------------------


def test_warning_then_breach_each_exactly_once(world, now):
    policy(world)  # response 60 min, warning at 80 % = 48 min
    order = world.order()
    # before the warning point: nothing
    now.advance(minutes=47)
    assert sla_tick().warned == []
    # past it: one warning, however often the job runs
    now.advance(minutes=2)
    first = sla_tick()
    second = sla_tick()
    response = clocks(order)["response"]
    assert (first.warned, second.warned) == ([response.pk], [])
    assert response.warned_at == START + 49 * M and response.breached_at is None
    # past due: one breach
    now.advance(minutes=12)
    assert sla_tick().breached == [response.pk]
    assert sla_tick().breached == []
    assert sla_events(order) == [("sla_warning", "response"), ("sla_breached", "response")]
    event = WorkOrderEvent.objects.get(work_order=order, type="sla_breached")
    assert (event.actor_id, event.actor_role, event.is_internal) == (None, "system", True)
    assert event.data["due_at"] == (START + 60 * M).isoformat()
    assert event.data["target"] == "response"


def test_clock_found_past_due_gets_only_the_breach(world, now):
    policy(world)
    order = world.order()
    now.advance(minutes=61)
    report = sla_tick()
    response = clocks(order)["response"]
    assert report.breached == [response.pk] and report.warned == []
    assert response.warned_at == response.breached_at == START + 61 * M
    assert sla_tick().warned == []
    assert sla_events(order) == [("sla_breached", "response")]


def test_met_clock_is_never_warned(world, now):
    policy(world)
    order = world.order()
    now.advance(minutes=30)
    services.workorder_accept(work_order=order, actor=STAFF)
    now.advance(minutes=40)  # past the response warning point, but it was met
    assert sla_tick().warned == []
    assert sla_events(order) == []


def test_follow_ignores_a_clock_already_stopped(world, now):
    policy(world)
    order = world.order()
    services.workorder_accept(work_order=order, actor=STAFF)
    met = clocks(order)["response"].met_at
    # a later hold does not touch the met response clock
    sla_clocks_follow(work_order=order, previous="accepted", to="on_hold", at=now.advance(hours=1))
    assert clocks(order)["response"].met_at == met
    assert clocks(order)["response"].paused_at is None


# --- policy rules ----------------------------------------------------------------------------


def test_policy_rules_are_checked(world, org_b, now):
    from shouhou.core.testing.factories import ServiceTypeFactory

    foreign = ServiceTypeFactory(organization=org_b)
    cases = [
        ({"response_minutes": 0}, "response_minutes"),
        ({"warn_at_percent": 100}, "warn_at_percent"),
        ({"warn_at_percent": 0}, "warn_at_percent"),
        ({"response_minutes": 600, "resolution_minutes": 300}, "resolution_minutes"),
        ({"service_type": foreign}, "service_type"),
    ]
    for values, field in cases:
        fields = {
            "organization": world.org,
            "name": "x",
            "response_minutes": 60,
            "arrival_minutes": 240,
            "resolution_minutes": 1440,
            **values,
        }
        with pytest.raises(ValidationError) as error:
            sla_policy_save(policy=SlaPolicy(**fields))
        assert list(error.value.message_dict) == [field]
    assert SlaPolicy.objects.count() == 0


def test_one_active_policy_per_organisation_service_type_and_priority(world, now):
    policy(world, priority="urgent")
    with pytest.raises(ValidationError) as error:
        sla_policy_save(
            policy=SlaPolicy(
                organization=world.org,
                name="again",
                priority="urgent",
                response_minutes=1,
                arrival_minutes=1,
                resolution_minutes=1,
            )
        )
    assert "already has an active policy" in " ".join(error.value.messages)
    # and the database refuses it too (both the any-service-type and the per-type rule)
    with pytest.raises(IntegrityError), transaction.atomic():
        policy(world, priority="urgent")
    policy(world, service_type=world.repair)
    with pytest.raises(IntegrityError), transaction.atomic():
        policy(world, service_type=world.repair)
    # an inactive copy is fine
    policy(world, service_type=world.repair, is_active=False)
    assert SlaPolicy.objects.count() == 3
