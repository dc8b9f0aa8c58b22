"""Daily routes: the solver adapter on tiny problems, the plan service, the re-plan hooks, the
ETA on the workbench and the tracking page, the API and its tenancy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from shouhou.core.testing.factories import (
    FaultTypeFactory,
    SkillFactory,
    TechnicianFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.models import RoutePlan, RouteStop, Shift, TechnicianSkill
from shouhou.dispatch.routes import route_plan_build
from shouhou.dispatch.routing import (
    RouteJob,
    RouteProblem,
    RouteVehicle,
    solve_routes,
    straight_line_matrices,
)
from shouhou.workorders import services
from shouhou.workorders.services import Actor

pytestmark = pytest.mark.django_db

H = 3600
SOLVE = 0.3  # seconds; the instances are tiny


# --- the adapter -----------------------------------------------------------------------------


def line_problem(jobs, vehicles):
    """Points 0..4 on a line, 1 km apart, 60 s apart (easy numbers to check)."""
    coordinates = np.arange(5)
    distance = (np.abs(coordinates[:, None] - coordinates[None, :]) * 1000).astype(np.int64)
    return RouteProblem(
        vehicles=vehicles, jobs=jobs, distance=distance, duration=distance // 1000 * 60
    )


def test_adapter_meets_windows_and_orders_by_them():
    # given two jobs whose windows force the far one first
    jobs = [
        RouteJob("near", point=1, service_seconds=600, window_start=10 * H, window_end=11 * H),
        RouteJob("far", point=3, service_seconds=600, window_start=9 * H, window_end=9 * H + 900),
    ]
    vehicle = RouteVehicle("tom", start=0, end=0, shift_start=8 * H, shift_end=18 * H)
    # when
    solution = solve_routes(line_problem(jobs, [vehicle]), seconds=SOLVE)
    # then
    (route,) = solution.routes
    assert [s.job for s in route.stops] == ["far", "near"]
    far, near = route.stops
    assert 9 * H <= far.start <= 9 * H + 900
    assert far.end == far.start + 600
    assert near.start == 10 * H  # waits for the window to open
    assert near.arrival == far.end + 120  # 2 km back at 1 km a minute
    assert solution.unassigned == []
    assert solution.distance_m == 6000


def test_adapter_reports_a_job_past_the_shift_end_unassigned():
    # given a job whose work cannot end before the technician must be home
    jobs = [
        RouteJob("fits", point=1, service_seconds=H, window_start=9 * H, window_end=12 * H),
        RouteJob(
            "too_late", point=2, service_seconds=H, window_start=17 * H, window_end=17 * H + 1800
        ),
    ]
    vehicle = RouteVehicle("tom", start=0, end=0, shift_start=9 * H, shift_end=17 * H + 1800)
    # when
    solution = solve_routes(line_problem(jobs, [vehicle]), seconds=SOLVE)
    # then
    assert [s.job for s in solution.routes[0].stops] == ["fits"]
    assert solution.unassigned == ["too_late"]
    assert solution.routes[0].return_at <= 17 * H + 1800


def test_adapter_gives_a_skilled_job_only_to_a_technician_with_the_skill():
    # given Ann with the gas skill far away, and Bob without it at home where the plain job is
    jobs = [
        RouteJob(
            "gas",
            point=1,
            service_seconds=600,
            window_start=0,
            window_end=20 * H,
            skills=frozenset({"gas"}),
        ),
        RouteJob("plain", point=0, service_seconds=600, window_start=0, window_end=20 * H),
        RouteJob(
            "nobody",
            point=2,
            service_seconds=600,
            window_start=0,
            window_end=20 * H,
            skills=frozenset({"ev"}),
        ),
    ]
    vehicles = [
        RouteVehicle(
            "ann", start=4, end=4, shift_start=8 * H, shift_end=18 * H, skills=frozenset({"gas"})
        ),
        RouteVehicle("bob", start=0, end=0, shift_start=8 * H, shift_end=18 * H),
    ]
    # when
    solution = solve_routes(line_problem(jobs, vehicles), seconds=SOLVE)
    # then
    ann, bob = solution.routes
    assert [s.job for s in ann.stops] == ["gas"]
    assert [s.job for s in bob.stops] == ["plain"]
    assert solution.unassigned == ["nobody"]


def test_adapter_drops_the_low_priority_job_when_only_one_fits():
    # given two jobs at the same time in different places: only one can be done
    jobs = [
        RouteJob(
            "low", point=1, service_seconds=H, window_start=10 * H, window_end=10 * H, priority=0
        ),
        RouteJob(
            "urgent", point=4, service_seconds=H, window_start=10 * H, window_end=10 * H, priority=3
        ),
    ]
    vehicle = RouteVehicle("tom", start=0, end=0, shift_start=8 * H, shift_end=18 * H)
    # when
    solution = solve_routes(line_problem(jobs, [vehicle]), seconds=SOLVE)
    # then the urgent one is served although it is farther
    assert [s.job for s in solution.routes[0].stops] == ["urgent"]
    assert solution.unassigned == ["low"]


def test_route_times_are_recomputed_and_broken_stops_dropped():
    # given a solver order that breaks the rules: a job Tom lacks the skill for, a job whose
    # window has closed by the time he gets there, and a last job that keeps him past his shift
    from shouhou.dispatch.routing import _timed_route

    jobs = [
        RouteJob("ok", point=1, service_seconds=600, window_start=9 * H, window_end=10 * H),
        RouteJob(
            "skill",
            point=2,
            service_seconds=600,
            window_start=0,
            window_end=20 * H,
            skills=frozenset({"ev"}),
        ),
        RouteJob("closed", point=2, service_seconds=600, window_start=8 * H, window_end=8 * H + 60),
        RouteJob("also_ok", point=2, service_seconds=600, window_start=9 * H, window_end=12 * H),
        RouteJob("too_long", point=4, service_seconds=8 * H, window_start=9 * H, window_end=12 * H),
    ]
    problem = line_problem(jobs, [])
    vehicle = RouteVehicle("tom", start=0, end=0, shift_start=9 * H, shift_end=17 * H)
    # when
    route = _timed_route(problem, vehicle, jobs, departure=9 * H)
    # then only the stops that hold remain, timed from the departure
    assert [(s.job, s.arrival, s.start, s.end) for s in route.stops] == [
        ("ok", 9 * H + 60, 9 * H + 60, 9 * H + 660),
        ("also_ok", 9 * H + 720, 9 * H + 720, 9 * H + 1320),
    ]
    assert route.return_at == 9 * H + 1320 + 120
    assert route.distance_m == 4000
    assert route.travel_seconds == 240


def test_straight_line_matrices_apply_road_factor_and_speed():
    # given two points 0.01° of latitude apart (about 1.11 km)
    distance, duration = straight_line_matrices(
        [30.0, 30.01], [120.0, 120.0], road_factor=1.5, speed_kmh=30
    )
    # then
    assert distance[0, 1] == distance[1, 0] == 1668
    assert duration[0, 1] == 200  # 1668 m at 30 km/h
    assert distance[0, 0] == 0


# --- the service -----------------------------------------------------------------------------


@pytest.fixture
def day():
    return timezone.localdate() + dt.timedelta(days=7)


@pytest.fixture
def tom(world, day):
    """Tom works 09:00–18:00 that day, from a home base in Hangzhou."""
    Shift.objects.create(
        technician=world.technician,
        weekday=day.weekday(),
        starts_at=dt.time(9),
        ends_at=dt.time(18),
    )
    return world.technician


def at(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def job(
    world, day, start, end, *, north=0.0, priority="normal", fault_type=None, status="scheduled"
):
    return WorkOrderFactory(
        organization=world.org,
        customer=world.customer,
        service_type=world.service_type,
        address=world.address,
        technician=world.technician,
        fault_type=fault_type or world.fault_type,
        status=status,
        priority=priority,
        appointment_start=at(day, *start),
        appointment_end=at(day, *end),
        latitude=Decimal("30.274100") + Decimal(str(north)),
        longitude=Decimal("120.155100"),
    )


def test_plan_respects_windows_and_shift_end_and_reports_what_does_not_fit(world, tom, day):
    # given three jobs in the morning, and one at 17:30 that takes an hour (shift ends 18:00)
    first = job(world, day, (9, 0), (10, 0), north=0.02)
    second = job(world, day, (10, 0), (12, 0), north=0.04)
    third = job(world, day, (13, 0), (14, 0), north=0.01)
    too_late = job(world, day, (17, 30), (17, 45), north=0.03)
    # when
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # then
    stops = list(plan.stops.order_by("sequence"))
    assert [s.work_order for s in stops] == [first, second, third]
    for stop in stops:
        order = stop.work_order
        assert order.appointment_start <= stop.planned_start <= order.appointment_end
        assert stop.eta <= stop.planned_start
        assert stop.planned_end == stop.planned_start + dt.timedelta(minutes=60)
    assert plan.ends_at <= at(day, 18)
    assert plan.unassigned == [{"work_order": too_late.number, "reason": "does_not_fit"}]
    assert plan.total_travel_seconds == sum(s.travel_seconds for s in stops) + round(
        (plan.ends_at - stops[-1].planned_end).total_seconds()
    )
    assert plan.total_distance_m > 0


def test_plan_reports_a_job_needing_a_skill_the_technician_lacks(world, tom, day):
    # given a gas job and Tom without the gas skill, and a plain job
    gas = SkillFactory(organization=world.org, code="gas", name="燃气")
    gas_fault = FaultTypeFactory(organization=world.org, category=world.product_model.category)
    gas_fault.required_skills.add(gas)
    gas_job = job(world, day, (9, 0), (12, 0), fault_type=gas_fault)
    plain = job(world, day, (9, 0), (12, 0), north=0.01)
    # when
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # then
    assert [s.work_order for s in plan.stops.all()] == [plain]
    assert plan.unassigned == [{"work_order": gas_job.number, "reason": "skill"}]
    # and once Tom has the skill, both are routed
    TechnicianSkill.objects.create(technician=tom, skill=gas, level=3)
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    assert {s.work_order for s in plan.stops.all()} == {plain, gas_job}
    assert plan.unassigned == []


def test_plan_without_a_shift_lists_every_job_unassigned(world, day):
    # given Tom has no shift on that weekday
    order = job(world, day, (9, 0), (12, 0))
    # when
    plan = route_plan_build(technician=world.technician, day=day, seconds=SOLVE)
    # then
    assert plan.stops.count() == 0
    assert plan.unassigned == [{"work_order": order.number, "reason": "no_shift"}]


def test_plan_skips_other_days_carry_in_and_finished_orders(world, tom, day):
    # given orders that are not Tom's on-site visits of that day
    job(world, day + dt.timedelta(days=1), (9, 0), (10, 0))
    job(world, day, (9, 0), (10, 0), status="completed")
    carry_in = job(world, day, (9, 0), (10, 0))
    carry_in.fulfilment_mode = "carry_in"
    carry_in.save(update_fields=["fulfilment_mode"])
    routed = job(world, day, (9, 0), (10, 0), status="assigned")
    # when
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # then
    assert [s.work_order for s in plan.stops.all()] == [routed]
    assert plan.unassigned == []


def test_replan_replaces_the_plan_instead_of_adding_one(world, tom, day):
    # given a plan
    job(world, day, (9, 0), (10, 0))
    route_plan_build(technician=tom, day=day, seconds=SOLVE)
    job(world, day, (11, 0), (12, 0), north=0.01)
    # when
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # then
    assert RoutePlan.objects.filter(technician=tom, day=day).count() == 1
    assert list(plan.stops.values_list("sequence", flat=True)) == [1, 2]
    assert RouteStop.objects.filter(plan__technician=tom).count() == 2


def test_cancelling_a_job_replans_the_day_and_removes_its_stop(
    world, tom, day, django_capture_on_commit_callbacks
):
    # given a plan with two stops
    keep = job(world, day, (9, 0), (10, 0))
    cancel = job(world, day, (11, 0), (12, 0), north=0.01)
    route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # when the customer cancels one (the re-plan runs after commit, as a task)
    with django_capture_on_commit_callbacks(execute=True):
        services.workorder_cancel(work_order=cancel, actor=Actor.system(), reason="不修了")
    # then
    plan = RoutePlan.objects.get(technician=tom, day=day)
    assert [s.work_order for s in plan.stops.all()] == [keep]
    assert plan.unassigned == []


def test_scheduling_a_job_adds_it_to_the_plan(world, tom, day, django_capture_on_commit_callbacks):
    # given a plan with one stop and a second order assigned to Tom without an appointment
    job(world, day, (9, 0), (10, 0))
    route_plan_build(technician=tom, day=day, seconds=SOLVE)
    new = job(world, day, (9, 0), (10, 0), status="assigned")
    new.appointment_start = new.appointment_end = None
    new.save(update_fields=["appointment_start", "appointment_end"])
    # when the appointment is made
    with django_capture_on_commit_callbacks(execute=True):
        services.workorder_schedule(
            work_order=new, actor=Actor.system(), start=at(day, 14), end=at(day, 16)
        )
    # then
    plan = RoutePlan.objects.get(technician=tom, day=day)
    assert plan.stops.count() == 2
    assert plan.stops.get(work_order=new).planned_start >= at(day, 14)


# --- ETA on the pages ------------------------------------------------------------------------


def test_workbench_and_tracking_page_show_the_eta(client, world, tom, day, technician):
    # given a planned stop
    order = job(world, day, (10, 0), (12, 0))
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    eta = timezone.localtime(plan.stops.get().eta).strftime("%H:%M")
    # when Tom opens his job list
    client.force_login(technician)
    page = client.get("/tech/jobs/", HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert f'data-eta="{eta}"' in page.content.decode()
    assert f"Planned arrival <strong>{eta}</strong>" in page.content.decode()
    # and the customer's tracking page shows it too
    client.logout()
    page = client.get(f"/t/{order.tracking_token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert (
        f"The engineer expects to arrive at about <strong>{eta}</strong>" in page.content.decode()
    )


def test_tracking_page_shows_no_eta_without_a_plan(client, world, day):
    order = job(world, day, (10, 0), (12, 0))
    page = client.get(f"/t/{order.tracking_token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "data-eta" not in page.content.decode()


# --- API -------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_api_replan_then_read_the_route(world, tom, day, agent):
    # given an order on Tom's day
    order = job(world, day, (10, 0), (12, 0))
    url = f"/api/v1/technicians/{tom.pk}/routes/{day.isoformat()}/"
    assert api(agent).get(url).status_code == 404  # nothing planned yet
    # when the agent asks for a re-plan
    answer = api(agent).post(url + "replan/", {"seconds": SOLVE}, format="json")
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert [s["work_order"] for s in body["stops"]] == [order.number]
    assert body["unassigned"] == []
    assert body["day"] == day.isoformat()
    # and the GET returns the same plan, to Tom as well
    for user in (agent, tom.user):
        read = api(user).get(url)
        assert read.status_code == 200
        assert read.json()["stops"] == body["stops"]


def test_api_route_read_query_count_is_pinned(world, tom, day, agent, django_assert_num_queries):
    # given a plan with three stops
    for hour in (9, 11, 14):
        job(world, day, (hour, 0), (hour + 1, 0), north=hour / 1000)
    route_plan_build(technician=tom, day=day, seconds=SOLVE)
    client = api(agent)
    # when (memberships, technician, plan, stops with their orders)
    with django_assert_num_queries(4):
        answer = client.get(f"/api/v1/technicians/{tom.pk}/routes/{day.isoformat()}/")
    # then
    assert len(answer.json()["stops"]) == 3


def test_api_unassigned_carries_the_reason_and_a_message(world, tom, day, agent):
    order = job(world, day, (17, 30), (17, 45))
    url = f"/api/v1/technicians/{tom.pk}/routes/{day.isoformat()}/replan/"
    body = api(agent).post(url, {"seconds": SOLVE}, format="json").json()
    assert body["stops"] == []
    assert body["unassigned"] == [
        {
            "work_order": order.number,
            "reason": "does_not_fit",
            "message": "It cannot be reached within its time window before the shift ends.",
        }
    ]


def test_api_route_of_another_organisation_answers_404_and_changes_nothing(
    world, tom, day, other_org_user
):
    # given Tom's plan in organisation A
    job(world, day, (10, 0), (12, 0))
    plan = route_plan_build(technician=tom, day=day, seconds=SOLVE)
    url = f"/api/v1/technicians/{tom.pk}/routes/{day.isoformat()}/"
    # when someone of organisation B reads it or asks for a re-plan
    read = api(other_org_user).get(url)
    write = api(other_org_user).post(url + "replan/", {}, format="json")
    # then
    assert read.status_code == 404
    assert write.status_code == 404
    assert RoutePlan.objects.get().computed_at == plan.computed_at


def test_api_rejects_a_malformed_day(world, tom, agent):
    answer = api(agent).get(f"/api/v1/technicians/{tom.pk}/routes/tomorrow/")
    assert answer.status_code == 400


def test_route_endpoints_are_in_the_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    assert set(paths["/api/v1/technicians/{technician_id}/routes/{day}/"]) == {"get"}
    assert set(paths["/api/v1/technicians/{technician_id}/routes/{day}/replan/"]) == {"post"}


def test_reassigning_a_job_replans_both_technicians(
    world, tom, day, django_capture_on_commit_callbacks
):
    # given Tom's plan with two stops and Tina working the same day
    tina = TechnicianFactory(organization=world.org)
    Shift.objects.create(
        technician=tina, weekday=day.weekday(), starts_at=dt.time(9), ends_at=dt.time(18)
    )
    keep = job(world, day, (9, 0), (10, 0))
    moved = job(world, day, (11, 0), (12, 0), north=0.01)
    route_plan_build(technician=tom, day=day, seconds=SOLVE)
    # when the dispatcher gives one job to Tina
    with django_capture_on_commit_callbacks(execute=True):
        services.workorder_assign_technician(
            work_order=moved, technician=tina, actor=Actor.system()
        )
    # then Tom's day lost the stop and Tina's day has it
    assert [s.work_order for s in RoutePlan.objects.get(technician=tom).stops.all()] == [keep]
    assert [s.work_order for s in RoutePlan.objects.get(technician=tina).stops.all()] == [moved]
