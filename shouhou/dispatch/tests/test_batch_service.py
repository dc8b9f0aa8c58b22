"""The peak batch against the database: assignments through the work-order service, capacity,
unassignable orders, races with other people, tenancy, and the API endpoint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from shouhou.catalog.models import SkillTag
from shouhou.core.testing.factories import TechnicianFactory, UserFactory, WorkOrderFactory
from shouhou.dispatch import services as dispatch_services
from shouhou.dispatch.models import Shift, TechnicianSkill
from shouhou.dispatch.services import batch_dispatch
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor, workorder_decline_assignment

pytestmark = pytest.mark.django_db

NEAR = (Decimal("30.280000"), Decimal("120.130000"))


def person(n):
    """A user no persona collides with (the personas use +86139000000xx)."""
    return UserFactory(phone=f"+8613700{n:06d}")


def ready(technician, *, capacity=6, skill=None, level=3, north=Decimal("0")):
    """On duty, on shift all week, at the job's doorstep (plus ``north`` degrees)."""
    technician.status = "available"
    technician.daily_capacity = capacity
    technician.home_latitude = NEAR[0] + north
    technician.home_longitude = NEAR[1]
    technician.save()
    for weekday in range(7):
        Shift.objects.create(
            technician=technician, weekday=weekday, starts_at=dt.time(0), ends_at=dt.time(23, 59)
        )
    if skill is not None:
        TechnicianSkill.objects.create(technician=technician, skill=skill, level=level)
    return technician


def waiting(org, count=1, **fields):
    values = {"status": "accepted", "latitude": NEAR[0], "longitude": NEAR[1], **fields}
    return [WorkOrderFactory(organization=org, **values) for _ in range(count)]


@pytest.fixture
def cooling(world):
    skill = SkillTag.objects.create(organization=world.org, name="空调制冷", code="cooling")
    world.fault_type.required_skills.add(skill)
    return skill


@pytest.fixture
def actor(agent):
    return Actor(user=agent, role="agent")


def test_batch_assigns_every_waiting_order_with_an_explained_event(world, actor, cooling):
    # given: Tom (near) and Tina (farther) can each take two more jobs
    tom = ready(world.technician, capacity=2, skill=cooling)
    tina = ready(
        TechnicianFactory(organization=world.org, user=person(1)),
        capacity=2,
        skill=cooling,
        north=Decimal("0.05"),
    )
    orders = waiting(world.org, 3, fault_type=world.fault_type)
    # when
    result = batch_dispatch(organization=world.org, actor=actor)
    # then
    assert len(result.assigned) == 3
    assert result.unassigned == []
    by_technician = sorted(
        WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list(
            "technician_id", flat=True
        )
    )
    assert by_technician == sorted([tom.pk, tom.pk, tina.pk])
    assert set(
        WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == {"assigned"}
    events = WorkOrderEvent.objects.filter(work_order__in=orders, type="technician_assigned")
    assert events.count() == 3
    for event in events:
        explanation = event.data["explanation"]
        assert explanation["batch"]["orders"] == 3
        assert explanation["place"] in (1, 2)
        assert set(explanation["terms"]) == {
            "travel",
            "load",
            "rating",
            "first_time_fix",
            "skill_level",
        }
        assert event.actor_role == "agent"


def test_capacity_left_today_is_respected(world, actor):
    # given: Tom has capacity 3 and already one job today
    tom = ready(world.technician, capacity=3)
    WorkOrderFactory(organization=world.org, technician=tom, status="assigned")
    orders = waiting(world.org, 4)
    # when
    result = batch_dispatch(organization=world.org, actor=actor)
    # then
    assert len(result.assigned) == 2
    assert sorted(left.reason for left in result.unassigned) == ["capacity_taken"] * 2
    assert WorkOrder.objects.filter(pk__in=[o.pk for o in orders], technician=tom).count() == 2
    assert WorkOrder.objects.filter(pk__in=[o.pk for o in orders], status="accepted").count() == 2


def test_an_order_nobody_can_take_stays_waiting_with_the_reason(world, actor, cooling):
    # given: the fault needs cooling, Tom has none
    ready(world.technician)
    (order,) = waiting(world.org, fault_type=world.fault_type)
    # when
    result = batch_dispatch(organization=world.org, actor=actor)
    # then
    assert result.assigned == []
    assert [(left.number, left.reason) for left in result.unassigned] == [
        (order.number, "no_eligible_technician")
    ]
    assert result.unassigned[0].excluded == {"missing_skill": 1}
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("accepted", None)
    assert not WorkOrderEvent.objects.filter(work_order=order, type="technician_assigned").exists()


def test_a_technician_who_declined_is_not_given_the_order_again(world, actor, technician):
    tom = ready(world.technician)
    tina = ready(TechnicianFactory(organization=world.org, user=person(2)), north=Decimal("0.05"))
    (order,) = waiting(world.org, technician=tom, status="assigned")
    workorder_decline_assignment(
        work_order=order,
        technician=tom,
        actor=Actor(user=technician, role="technician"),
        reason="车坏了",
    )
    # when
    batch_dispatch(organization=world.org, actor=actor)
    # then
    order.refresh_from_db()
    assert order.technician_id == tina.pk


def test_an_order_changed_after_planning_is_left_alone(world, actor, monkeypatch):
    # given: an agent cancels the order between the plan and its application
    ready(world.technician)
    (order,) = waiting(world.org)
    real_plan = dispatch_services.plan_batch

    def plan_then_cancel(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        WorkOrder.objects.filter(pk=order.pk).update(
            status="cancelled", cancellation_reason="客户取消"
        )
        return plan

    monkeypatch.setattr(dispatch_services, "plan_batch", plan_then_cancel)
    # when
    result = batch_dispatch(organization=world.org, actor=actor)
    # then
    assert [(left.number, left.reason) for left in result.unassigned] == [(order.number, "changed")]
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("cancelled", None)


def test_only_the_organisations_orders_and_network_are_used(world, actor, org_b):
    # given: org B has a waiting order and a free technician right there
    ready(world.technician, capacity=1)
    oscar_tech = ready(TechnicianFactory(organization=org_b, user=person(3)))
    (mine,) = waiting(world.org)
    (theirs,) = waiting(org_b)
    # when
    result = batch_dispatch(organization=world.org, actor=actor)
    # then
    assert [a.number for a in result.assigned] == [mine.number]
    theirs.refresh_from_db()
    assert (theirs.status, theirs.technician_id) == ("accepted", None)
    mine.refresh_from_db()
    assert mine.technician_id != oscar_tech.pk


def test_carry_in_orders_are_left_to_outlet_dispatch(world, actor):
    ready(world.technician)
    (carry_in,) = waiting(world.org, fulfilment_mode="carry_in")
    result = batch_dispatch(organization=world.org, actor=actor)
    assert result.assigned == result.unassigned == []
    carry_in.refresh_from_db()
    assert carry_in.technician_id is None


# --- API ----------------------------------------------------------------------------------------


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_api_batch_runs_for_the_callers_organisation(world, agent):
    ready(world.technician)
    (order,) = waiting(world.org)
    response = api(agent).post("/api/v1/dispatch/batch/", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert [row["number"] for row in body["assigned"]] == [order.number]
    assert body["assigned"][0]["technician_id"] == world.technician.pk
    assert body["unassigned"] == []
    assert body["technicians"] == 1


def test_api_batch_for_another_organisation_is_404_and_changes_nothing(world, other_org_user):
    ready(world.technician)
    (order,) = waiting(world.org)
    response = api(other_org_user).post(
        "/api/v1/dispatch/batch/", {"organization": world.org.pk}, format="json"
    )
    assert response.status_code == 404
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("accepted", None)


def test_api_batch_refuses_readers(world, finance):
    (order,) = waiting(world.org)
    response = api(finance).post(
        "/api/v1/dispatch/batch/", {"organization": world.org.pk}, format="json"
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "accepted"


def test_batch_endpoint_is_in_the_openapi_schema(agent):
    schema = api(agent).get("/api/schema/", {"format": "json"}).json()
    assert "post" in schema["paths"]["/api/v1/dispatch/batch/"]
    assert "get" in schema["paths"]["/api/v1/dispatch/board/"]
