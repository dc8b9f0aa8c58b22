"""The dispatch board: what it lists (scoped to the active organisation), the at-risk rule, the
side panel and assigning from it, the batch button, and the board's JSON endpoint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from shouhou.core.testing.factories import PASSWORD, TechnicianFactory, WorkOrderFactory
from shouhou.dispatch.selectors import order_risk
from shouhou.dispatch.tests.test_batch_service import NEAR, person, ready, waiting
from shouhou.workorders.models import Visit, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(phone=user.phone, password=PASSWORD)
    return client


@pytest.fixture
def scene(world, org_b):
    """A's waiting order, A's late assigned order, A's calm scheduled order; B's waiting order
    and B's technician."""
    now = timezone.now()
    tom = ready(world.technician)
    (waiting_order,) = waiting(world.org, priority="urgent")
    late = WorkOrderFactory(
        organization=world.org,
        status="assigned",
        technician=tom,
        latitude=NEAR[0],
        longitude=NEAR[1],
        preferred_start=now - dt.timedelta(minutes=30),
        preferred_end=now + dt.timedelta(hours=1),
    )
    calm = WorkOrderFactory(
        organization=world.org,
        status="scheduled",
        technician=tom,
        appointment_start=now + dt.timedelta(hours=5),
        appointment_end=now + dt.timedelta(hours=6),
    )
    (theirs,) = waiting(org_b)
    oscar_tech = ready(TechnicianFactory(organization=org_b, user=person(9)))
    return {
        "tom": tom,
        "waiting": waiting_order,
        "late": late,
        "calm": calm,
        "theirs": theirs,
        "oscar_tech": oscar_tech,
    }


# --- the at-risk rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "starts_in", "on_the_way", "expected"),
    [
        ("assigned", dt.timedelta(minutes=-10), False, "late"),
        ("scheduled", dt.timedelta(minutes=90), False, "soon"),
        ("accepted", dt.timedelta(hours=3), False, ""),
        ("assigned", dt.timedelta(minutes=-10), True, ""),
        ("in_service", dt.timedelta(minutes=-10), False, ""),
    ],
)
def test_order_risk_rule(status, starts_in, on_the_way, expected):
    now = timezone.now()
    order = WorkOrder(status=status, preferred_start=now + starts_in)
    assert order_risk(work_order=order, at=now, on_the_way=on_the_way) == expected


def test_the_appointment_wins_over_the_preferred_time():
    now = timezone.now()
    order = WorkOrder(
        status="scheduled",
        preferred_start=now - dt.timedelta(hours=1),
        appointment_start=now + dt.timedelta(hours=4),
    )
    assert order_risk(work_order=order, at=now) == ""


def test_an_order_without_a_window_is_never_at_risk():
    assert order_risk(work_order=WorkOrder(status="accepted"), at=timezone.now()) == ""


# --- the page -------------------------------------------------------------------------------


def test_board_lists_the_organisations_orders_and_technicians_only(scene, agent):
    response = signed_in(agent).get("/console/dispatch/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-order="{scene["waiting"].number}"' in html
    assert f'data-order="{scene["late"].number}"' in html
    assert 'data-risk="late"' in html
    assert scene["calm"].number not in html
    assert scene["theirs"].number not in html
    assert f'data-technician="{scene["tom"].pk}"' in html
    assert f'data-technician="{scene["oscar_tech"].pk}"' not in html
    assert 'href="/console/dispatch/"' in html  # the console navigation links the board


def test_another_organisations_order_is_404_on_the_board(scene, agent):
    client = signed_in(agent)
    number = scene["theirs"].number
    assert client.get(f"/console/dispatch/orders/{number}/", **HTMX).status_code == 404
    assert client.get(f"/console/dispatch/?order={number}").status_code == 404
    response = client.post(
        f"/console/dispatch/orders/{number}/assign/",
        {"technician": scene["oscar_tech"].pk},
        **HTMX,
    )
    assert response.status_code == 404
    scene["theirs"].refresh_from_db()
    assert (scene["theirs"].status, scene["theirs"].technician_id) == ("accepted", None)


def test_panel_shows_the_ranked_suggestions(scene, agent):
    response = signed_in(agent).get(f"/console/dispatch/orders/{scene['waiting'].number}/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-suggestion="{scene["tom"].pk}"' in html
    assert f'action="/console/dispatch/orders/{scene["waiting"].number}/assign/"' in html


def test_assign_from_the_board(scene, agent):
    order = scene["waiting"]
    response = signed_in(agent).post(
        f"/console/dispatch/orders/{order.number}/assign/",
        {"technician": scene["tom"].pk},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The work order was given to the technician." in html
    assert 'id="board-lists"' in html and 'hx-swap-oob="true"' in html
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("assigned", scene["tom"].pk)
    event = WorkOrderEvent.objects.get(work_order=order, type="technician_assigned")
    assert event.data["explanation"]["place"] == 1


def test_assigning_another_organisations_technician_is_refused(scene, agent):
    order = scene["waiting"]
    response = signed_in(agent).post(
        f"/console/dispatch/orders/{order.number}/assign/",
        {"technician": scene["oscar_tech"].pk},
        **HTMX,
    )
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.technician_id is None


def test_readers_cannot_assign_from_the_board(scene, finance):
    order = scene["waiting"]
    response = signed_in(finance).post(
        f"/console/dispatch/orders/{order.number}/assign/",
        {"technician": scene["tom"].pk},
        **HTMX,
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.technician_id is None


def test_batch_button_assigns_and_summarises(scene, agent):
    response = signed_in(agent).post("/console/dispatch/batch/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-assigned="{scene["waiting"].number}"' in html
    assert "Batch: 1 assigned, 0 left waiting (1 technicians)." in html
    scene["theirs"].refresh_from_db()
    assert scene["theirs"].technician_id is None


def test_batch_button_is_for_operators(scene, finance):
    assert signed_in(finance).post("/console/dispatch/batch/", **HTMX).status_code == 403
    scene["waiting"].refresh_from_db()
    assert scene["waiting"].technician_id is None


# --- the JSON endpoint ----------------------------------------------------------------------


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_board_api_feeds_the_map(scene, agent):
    Visit.objects.create(work_order=scene["late"], technician=scene["tom"], status="planned")
    body = api(agent).get("/api/v1/dispatch/board/").json()
    rows = {row["number"]: row for row in body["orders"]}
    assert set(rows) == {scene["waiting"].number, scene["late"].number}
    assert rows[scene["waiting"].number]["unassigned"] is True
    assert rows[scene["late"].number]["risk"] == "late"
    assert rows[scene["late"].number]["technician_id"] == scene["tom"].pk
    assert rows[scene["waiting"].number]["latitude"] == pytest.approx(float(NEAR[0]))
    assert [t["id"] for t in body["technicians"]] == [scene["tom"].pk]
    tom = body["technicians"][0]
    # today's load: the late order (no appointment) and the calm one (appointment today)
    expected_load = (
        2
        if timezone.localtime(scene["calm"].appointment_start).date() == (timezone.localdate())
        else 1
    )
    assert (tom["status"], tom["load"], tom["capacity"]) == ("available", expected_load, 6)


def test_someone_on_the_way_takes_the_order_off_the_risk_list(scene, agent):
    Visit.objects.create(
        work_order=scene["late"],
        technician=scene["tom"],
        status="en_route",
        en_route_at=timezone.now(),
    )
    body = api(agent).get("/api/v1/dispatch/board/").json()
    assert [row["number"] for row in body["orders"]] == [scene["waiting"].number]


def test_board_api_for_another_organisation_is_404(scene, other_org_user, world):
    response = api(other_org_user).get(f"/api/v1/dispatch/board/?organization={world.org.pk}")
    assert response.status_code == 404
    own = api(other_org_user).get("/api/v1/dispatch/board/").json()
    assert [row["number"] for row in own["orders"]] == [scene["theirs"].number]
    assert [t["id"] for t in own["technicians"]] == [scene["oscar_tech"].pk]


def test_board_api_for_readers_works(scene, auditor):
    response = api(auditor).get("/api/v1/dispatch/board/")
    assert response.status_code == 200
    assert len(response.json()["orders"]) == 2


def test_board_api_needs_a_login(scene):
    assert APIClient().get("/api/v1/dispatch/board/").status_code in (401, 403)


def test_coordinates_decimal_are_json_numbers(scene, agent):
    scene["waiting"].latitude = Decimal("30.123456")
    scene["waiting"].save(update_fields=["latitude"])
    body = api(agent).get("/api/v1/dispatch/board/").json()
    rows = {row["number"]: row for row in body["orders"]}
    assert rows[scene["waiting"].number]["latitude"] == 30.123456


def test_board_queries_do_not_grow_with_orders_and_technicians(scene, agent, world):
    client = signed_in(agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/console/dispatch/").status_code == 200
        return len(queries)

    before = count()
    waiting(world.org, 4)
    for n in range(3):
        ready(TechnicianFactory(organization=world.org, user=person(20 + n)))
    assert count() == before


def test_without_javascript_the_panel_opens_and_assigning_redirects_back(scene, agent):
    client = signed_in(agent)
    order = scene["waiting"]
    # the order link without htmx lands on the board with the panel open
    answer = client.get(f"/console/dispatch/orders/{order.number}/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/console/dispatch/?order={order.number}"
    page = client.get(answer["Location"]).content.decode()
    assert f'data-panel="{order.number}"' in page
    assert f'data-suggestion="{scene["tom"].pk}"' in page
    # a plain form post assigns and comes back to the board
    answer = client.post(
        f"/console/dispatch/orders/{order.number}/assign/", {"technician": scene["tom"].pk}
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.technician_id == scene["tom"].pk
