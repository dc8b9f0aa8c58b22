"""The SLA API: an order's clocks, and SLA policies (staff read, admins write, 404 across
organisations), with refusals in the caller's language."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from shouhou.core.testing.factories import ServiceTypeFactory
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.sla.tests.conftest import STAFF, START
from shouhou.workorders import services

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/sla-policies/"


def api(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user)
    return client


def payload(world, **values) -> dict:
    body = {
        "organization": world.org.pk,
        "name": "加急",
        "priority": "urgent",
        "response_minutes": 30,
        "arrival_minutes": 240,
        "resolution_minutes": 1440,
        "warn_at_percent": 75,
    }
    body.update(values)
    return body


def b_policy(org_b) -> SlaPolicy:
    return SlaPolicy.objects.create(
        organization=org_b,
        name="乙默认",
        response_minutes=10,
        arrival_minutes=20,
        resolution_minutes=30,
    )


# --- clocks ----------------------------------------------------------------------------------


def test_clocks_of_an_order_with_state_and_time_left(world, agent, now):
    order = world.order(priority="urgent")  # built-in urgent: 30 / 240 / 1440 minutes
    now.advance(minutes=10)
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等配件")
    now.advance(minutes=5)
    answer = api(agent).get(f"/api/v1/work-orders/{order.number}/sla/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["number"] == order.number
    rows = {row["target"]: row for row in body["clocks"]}
    assert [row["target"] for row in body["clocks"]] == ["response", "arrival", "resolution"]
    assert (rows["response"]["state"], rows["response"]["remaining_seconds"]) == ("met", None)
    arrival = rows["arrival"]
    assert (arrival["state"], arrival["is_paused"], arrival["remaining_seconds"]) == (
        "paused",
        True,
        240 * 60,
    )
    assert arrival["target_label"] == "Arrival / start"
    assert arrival["policy"] is None
    assert dt.datetime.fromisoformat(arrival["due_at"]) == START + dt.timedelta(minutes=250)


def test_clocks_for_the_technician_but_not_for_the_customer_or_another_organisation(
    world, technician, customer, other_org_user, now
):
    order = world.order()
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_assign_technician(work_order=order, technician=world.technician, actor=STAFF)
    world.customer.user = customer
    world.customer.save()
    url = f"/api/v1/work-orders/{order.number}/sla/"
    assert api(technician).get(url).status_code == 200
    assert api(customer).get(url).status_code == 404
    assert api(other_org_user).get(url).status_code == 404
    assert api(other_org_user).get("/api/v1/work-orders/WX0000000000/sla/").status_code == 404


# --- policies --------------------------------------------------------------------------------


def test_admin_creates_reads_changes_and_deletes_a_policy(world, alice):
    client = api(alice)
    created = client.post(POLICIES, payload(world, service_type=world.repair.pk), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    policy = SlaPolicy.objects.get(pk=pk)
    assert (policy.organization_id, policy.service_type_id, policy.warn_at_percent) == (
        world.org.pk,
        world.repair.pk,
        75,
    )
    assert client.get(f"{POLICIES}{pk}/").json()["name"] == "加急"
    changed = client.patch(f"{POLICIES}{pk}/", {"response_minutes": 20}, format="json")
    assert changed.status_code == 200 and changed.json()["response_minutes"] == 20
    assert client.delete(f"{POLICIES}{pk}/").status_code == 204
    assert not SlaPolicy.objects.filter(pk=pk).exists()


def test_staff_read_policies_but_only_admins_change_them(world, alice, agent):
    pk = api(alice).post(POLICIES, payload(world), format="json").json()["id"]
    assert [row["id"] for row in api(agent).get(POLICIES).json()["results"]] == [pk]
    assert (
        api(agent).post(POLICIES, payload(world, priority="low"), format="json").status_code == 403
    )
    assert api(agent).patch(f"{POLICIES}{pk}/", {"name": "x"}, format="json").status_code == 403
    assert api(agent).delete(f"{POLICIES}{pk}/").status_code == 403
    assert SlaPolicy.objects.get(pk=pk).name == "加急"


def test_another_organisations_policy_answers_404_and_changes_nothing(world, alice, org_b):
    theirs = b_policy(org_b)
    client = api(alice)
    assert [row["id"] for row in client.get(POLICIES).json()["results"]] == []
    for method in ("get", "patch", "put", "delete"):
        answer = getattr(client, method)(
            f"{POLICIES}{theirs.pk}/", payload(world, name="篡改"), format="json"
        )
        assert answer.status_code == 404, method
    theirs.refresh_from_db()
    assert (theirs.name, theirs.response_minutes) == ("乙默认", 10)


def test_policy_cannot_be_made_for_another_organisation_or_its_service_type(world, alice, org_b):
    foreign_type = ServiceTypeFactory(organization=org_b)
    client = api(alice)
    into_b = client.post(POLICIES, payload(world, organization=org_b.pk), format="json")
    with_b_type = client.post(POLICIES, payload(world, service_type=foreign_type.pk), format="json")
    assert (into_b.status_code, list(into_b.json())) == (400, ["organization"])
    assert (with_b_type.status_code, list(with_b_type.json())) == (400, ["service_type"])
    assert SlaPolicy.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "values", "field", "message"),
    [
        ("en", {"response_minutes": -5}, "response_minutes", "greater than or equal to 1"),
        ("zh-hans", {"response_minutes": -5}, "response_minutes", "大于或者等于 1"),
        ("en", {"warn_at_percent": 120}, "warn_at_percent", "less than or equal to 99"),
        ("zh-hans", {"warn_at_percent": 120}, "warn_at_percent", "小于或者等于 99"),
        ("en", {"warn_at_percent": 0}, "warn_at_percent", "greater than or equal to 1"),
        ("en", {"name": ""}, "name", "may not be blank"),
        ("zh-hans", {"name": ""}, "name", "不能为空"),
    ],
)
def test_invalid_policy_is_refused_in_the_callers_language(
    world, alice, language, values, field, message
):
    answer = api(alice, language).post(POLICIES, payload(world, **values), format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert message in " ".join(answer.json()[field])
    assert SlaPolicy.objects.count() == 0


def test_second_active_policy_for_the_same_scope_is_refused(world, alice):
    client = api(alice)
    assert client.post(POLICIES, payload(world), format="json").status_code == 201
    again = client.post(POLICIES, payload(world, name="重复"), format="json")
    assert again.status_code == 400
    assert again.json() == {
        "non_field_errors": [
            "This organisation already has an active policy for this service type and priority."
        ]
    }
    short = client.post(
        POLICIES,
        payload(world, priority="low", response_minutes=600, resolution_minutes=60),
        format="json",
    )
    assert short.status_code == 400 and list(short.json()) == ["resolution_minutes"]
    assert SlaPolicy.objects.count() == 1


def test_policy_cannot_move_to_another_organisation(world, alice, org_b):
    from shouhou.core.testing.factories import MembershipFactory

    MembershipFactory(user=alice, organization=org_b, role="admin")
    pk = api(alice).post(POLICIES, payload(world), format="json").json()["id"]
    moved = api(alice).patch(f"{POLICIES}{pk}/", {"organization": org_b.pk}, format="json")
    assert moved.status_code == 400 and list(moved.json()) == ["organization"]
    assert SlaPolicy.objects.get(pk=pk).organization_id == world.org.pk


def test_new_policy_applies_to_the_next_order(world, alice, now):
    api(alice).post(POLICIES, payload(world, priority="", response_minutes=15), format="json")
    order = world.order()
    clock = SlaClock.objects.get(work_order=order, target="response")
    assert clock.due_at == START + dt.timedelta(minutes=15)


def test_schema_documents_the_sla_endpoints(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert set(schema["paths"]["/api/v1/sla-policies/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/sla-policies/{id}/"]) == {"get", "put", "patch", "delete"}
    clocks = schema["paths"]["/api/v1/work-orders/{number}/sla/"]["get"]
    example = clocks["responses"]["200"]["content"]["application/json"]["examples"]
    assert next(iter(example.values()))["value"]["clocks"][0]["target"] == "response"
