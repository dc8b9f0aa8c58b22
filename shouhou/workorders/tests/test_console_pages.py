"""The staff console's work-order pages end to end: the queue and its filters, intake from a
phone call, every action on the order page, attachments, follow-ups, the admin, and tenancy
(another organisation's order answers 404 on every URL and nothing changes)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouhou.accounts.models import User
from shouhou.core.testing.factories import (
    AssetFactory,
    CustomerFactory,
    OutletFactory,
    ServiceTypeFactory,
    SkillFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
)
from shouhou.customers.models import Address, Customer
from shouhou.dispatch.models import TechnicianSkill
from shouhou.feedback.models import FollowUp
from shouhou.workorders import services
from shouhou.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.conftest import png_bytes
from shouhou.workorders.views.console import haversine_km

pytestmark = pytest.mark.django_db

QUEUE = "/console/work-orders/"
NEW = "/console/work-orders/new/"
FOLLOW_UPS = "/console/work-orders/follow-ups/"
NUMBER = re.compile(r'data-number="([A-Z0-9]+)"')


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["shouhou_language"] = language
    return client


def numbers(response) -> set[str]:
    return set(NUMBER.findall(response.content.decode()))


def new_order(world, agent, **overrides) -> WorkOrder:
    """An order made the way the console makes it (with its "created" event)."""
    values = {
        "organization": world.org,
        "customer": world.customer,
        "service_type": world.service_type,
        "description": "空调不制冷",
        "channel": "phone",
        "fulfilment_mode": "on_site",
        "address": world.address,
        "actor": Actor(user=agent, role="agent"),
        "notify_customer": False,
    }
    values.update(overrides)
    return services.workorder_create(**values).work_order


def event_types(order: WorkOrder) -> list[str]:
    return list(order.events.order_by("pk").values_list("type", flat=True))


def snapshot(order: WorkOrder) -> tuple[dict, int]:
    return (
        WorkOrder.objects.filter(pk=order.pk).values().get(),
        WorkOrderEvent.objects.filter(work_order=order).count(),
    )


# --- the queue -------------------------------------------------------------------------------


@pytest.fixture
def queue_world(world, org_b):
    """Five orders of A's console: four owned, one of B served by A; and B's own order."""
    now = timezone.now()
    wang = CustomerFactory(organization=world.org, name="王芳", phone="+8613800001111")
    li = CustomerFactory(organization=world.org, name="李雷", phone="+8613700002222")
    orders = {
        "urgent_unaccepted": WorkOrderFactory(
            organization=world.org,
            customer=wang,
            status="submitted",
            priority="urgent",
            channel="phone",
            submitted_at=now - dt.timedelta(hours=3),
        ),
        "assigned": WorkOrderFactory(
            organization=world.org,
            customer=li,
            status="assigned",
            priority="high",
            channel="web",
            outlet=world.outlet,
            technician=world.technician,
            fault_type=world.fault_type,
            device_identifier="SN-ABC-123",
            submitted_at=now - dt.timedelta(minutes=30),
            urge_count=2,
        ),
        "closed": WorkOrderFactory(
            organization=world.org,
            customer=li,
            status="closed",
            channel="api",
            description="洗衣机漏水",
            submitted_at=now - dt.timedelta(days=3),
        ),
        "late_appointment": WorkOrderFactory(
            organization=world.org,
            customer=wang,
            status="scheduled",
            channel="wechat",
            outlet=world.outlet,
            appointment_start=now - dt.timedelta(hours=3),
            appointment_end=now - dt.timedelta(hours=1),
            submitted_at=now - dt.timedelta(days=1),
        ),
        "served": WorkOrderFactory(
            organization=org_b,
            service_organization=world.org,
            status="accepted",
            channel="phone",
            submitted_at=now - dt.timedelta(minutes=10),
        ),
    }
    return world, orders


def test_queue_shows_owned_and_served_orders_and_nothing_of_others(queue_world, agent):
    world, orders = queue_world
    answer = client_for(agent).get(QUEUE)
    assert answer.status_code == 200
    assert numbers(answer) == {order.number for order in orders.values()}
    assert world.other_order.number not in answer.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "submitted"}, {"urgent_unaccepted"}),
        ({"status": "open"}, {"urgent_unaccepted", "assigned", "late_appointment", "served"}),
        ({"status": "closed"}, {"closed"}),
        ({"priority": "urgent"}, {"urgent_unaccepted"}),
        ({"priority": "normal"}, {"closed", "late_appointment", "served"}),
        ({"overdue": "on"}, {"urgent_unaccepted", "late_appointment"}),
        ({"channel": "phone"}, {"urgent_unaccepted", "served"}),
        ({"channel": "wechat"}, {"late_appointment"}),
        ({"q": "王芳"}, {"urgent_unaccepted", "late_appointment"}),
        ({"q": "2222"}, {"assigned", "closed"}),
        ({"q": "138 0000 1111"}, {"urgent_unaccepted", "late_appointment"}),
        ({"q": "abc-123"}, {"assigned"}),
        ({"q": "漏水"}, {"closed"}),
        ({"status": "open", "channel": "web", "priority": "high"}, {"assigned"}),
    ],
)
def test_queue_filters_narrow_exactly(queue_world, agent, query, expected):
    _world, orders = queue_world
    answer = client_for(agent).get(QUEUE, query)
    assert answer.status_code == 200
    assert numbers(answer) == {orders[name].number for name in expected}


def test_queue_filters_by_outlet_technician_and_fault_type(queue_world, agent):
    world, orders = queue_world
    client = client_for(agent)
    assert numbers(client.get(QUEUE, {"outlet": world.outlet.pk})) == {
        orders["assigned"].number,
        orders["late_appointment"].number,
    }
    assert numbers(client.get(QUEUE, {"technician": world.technician.pk})) == {
        orders["assigned"].number
    }
    assert numbers(client.get(QUEUE, {"fault_type": world.fault_type.pk})) == {
        orders["assigned"].number
    }


def test_queue_finds_an_order_by_its_number(queue_world, agent):
    _world, orders = queue_world
    number = orders["closed"].number
    assert numbers(client_for(agent).get(QUEUE, {"q": number.lower()})) == {number}


def test_queue_free_text_never_finds_another_organisations_order(queue_world, agent):
    world, _orders = queue_world
    answer = client_for(agent).get(QUEUE, {"q": world.other_order.number})
    assert numbers(answer) == set()


def test_queue_ignores_another_organisations_outlet_as_filter(queue_world, agent, org_b):
    _world, orders = queue_world
    foreign = OutletFactory(organization=org_b)
    answer = client_for(agent).get(QUEUE, {"outlet": foreign.pk})
    assert answer.status_code == 200
    assert numbers(answer) == {order.number for order in orders.values()}
    assert foreign.name not in answer.content.decode()


def test_queue_highlights_urged_orders(queue_world, agent):
    _world, orders = queue_world
    page = client_for(agent).get(QUEUE).content.decode()
    row = page.split(f'data-number="{orders["assigned"].number}"')[1].split("</tr>")[0]
    assert "Urged ×2" in row
    assert "139****0007" not in row  # masked phones only
    assert "137****2222" in row


def test_queue_htmx_request_gets_only_the_table(queue_world, agent):
    _world, orders = queue_world
    answer = client_for(agent).get(QUEUE, {"status": "closed"}, HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer.status_code == 200
    assert body.startswith('<div id="queue-results">')
    assert "<html" not in body
    assert numbers(answer) == {orders["closed"].number}


def test_queue_is_paginated_by_fifty(world, agent):
    for _ in range(51):
        WorkOrderFactory(organization=world.org, customer=world.customer)
    client = client_for(agent)
    assert len(numbers(client.get(QUEUE))) == 50
    assert len(numbers(client.get(QUEUE, {"page": 2}))) == 1


@pytest.mark.parametrize("how_many", [3, 12])
def test_queue_query_count_is_pinned(world, agent, django_assert_num_queries, how_many):
    for _ in range(how_many):
        WorkOrderFactory(
            organization=world.org,
            customer=world.customer,
            outlet=world.outlet,
            technician=world.technician,
            fault_type=world.fault_type,
            product_model=world.product_model,
            category=world.product_model.category,
        )
    client = client_for(agent)
    # session, user, memberships, network, outlets, technicians, fault types, count, page,
    # first-dispatch success rate, organisation switcher, the live indicator's starting
    # event id
    with django_assert_num_queries(12):
        answer = client.get(QUEUE, {"status": "open", "q": "空调"})
    assert len(numbers(answer)) == how_many


# --- intake from a phone call ----------------------------------------------------------------


def call_payload(world, **overrides):
    payload = {
        "idempotency_key": "call-1",
        "customer_name": "王女士",
        "phone": "138 0013 8000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 90 号",
        "latitude": "30.280000",
        "longitude": "120.130000",
        "product_model": world.product_model.pk,
        "device_identifier": "SN-1",
        "service_type": world.service_type.pk,
        "fault_type": world.fault_type.pk,
        "description": "空调不制冷,外机不转",
        "fulfilment_mode": "on_site",
        "outlet": "",
        "priority": "high",
        "preferred_start": "",
        "preferred_end": "",
    }
    payload.update(overrides)
    return payload


def test_create_from_a_call_makes_customer_address_and_order(
    world, agent, sms_outbox, django_capture_on_commit_callbacks
):
    start = timezone.localtime() + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(agent).post(
            NEW,
            call_payload(
                world,
                preferred_start=start.strftime("%Y-%m-%dT%H:%M"),
                preferred_end=(start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            ),
        )
    order = WorkOrder.objects.get(organization=world.org, idempotency_key="call-1")
    assert answer.status_code == 302
    assert answer["Location"] == f"/console/work-orders/{order.number}/"
    assert (order.channel, order.priority, order.status) == ("phone", "high", "submitted")
    assert order.customer.phone == "+8613800138000"
    assert order.customer.name == "王女士"
    assert (order.address.city, order.address.address) == ("杭州市", "文三路 90 号")
    assert (order.latitude, order.longitude) == (Decimal("30.280000"), Decimal("120.130000"))
    assert order.product_model == world.product_model
    assert order.category == world.product_model.category
    assert (order.estimate_low, order.estimate_high) == (Decimal("80.00"), Decimal("230.00"))
    assert order.preferred_end - order.preferred_start == dt.timedelta(hours=2)
    event = order.events.get()
    assert (event.type, event.actor, event.actor_role) == ("created", agent, "agent")
    assert len(sms_outbox) == 1


def test_create_for_a_known_caller_offers_and_uses_their_address_and_device(world, agent):
    asset = AssetFactory(
        customer=world.customer, category=world.product_model.category, serial_number="SN-OLD"
    )
    client = client_for(agent)
    lookup = client.get("/console/work-orders/new/caller/", {"phone": world.customer.phone})
    assert f'value="{world.address.pk}"' in lookup.content.decode()
    assert f'value="{asset.pk}"' in lookup.content.decode()
    assert "Known customer: Carol" in lookup.content.decode()
    customers, addresses = Customer.objects.count(), Address.objects.count()
    answer = client.post(
        NEW,
        call_payload(
            world,
            phone=world.customer.phone,
            customer_name="Carol",
            existing_address=world.address.pk,
            asset=asset.pk,
            street="",
            city="",
            latitude="",
            longitude="",
        ),
    )
    assert answer.status_code == 302
    order = WorkOrder.objects.get(idempotency_key="call-1")
    assert (order.customer, order.address, order.asset) == (world.customer, world.address, asset)
    assert (Customer.objects.count(), Address.objects.count()) == (customers, addresses)


def test_lookup_of_an_unknown_number_says_new_customer(world, agent, org_b):
    CustomerFactory(organization=org_b, name="乙的客户", phone="+8613811112222")
    answer = client_for(agent).get("/console/work-orders/new/caller/", {"phone": "13811112222"})
    assert "New customer" in answer.content.decode()
    assert "乙的客户" not in answer.content.decode()


def test_create_validation_errors_are_shown_in_place_and_nothing_is_written(world, agent):
    customers, addresses = Customer.objects.count(), Address.objects.count()
    answer = client_for(agent).post(
        NEW, call_payload(world, description="", street="", phone="12345")
    )
    body = answer.content.decode()
    assert answer.status_code == 400
    assert "On-site service needs an address." in body
    assert "Enter a valid mainland China mobile number" in body
    assert 'value="call-1"' in body  # the same key is kept for the retry
    assert WorkOrder.objects.filter(organization=world.org).count() == 0
    assert (Customer.objects.count(), Address.objects.count()) == (customers, addresses)


def test_create_refuses_another_organisations_catalog_row(world, agent, org_b):
    foreign = ServiceTypeFactory(organization=org_b)
    answer = client_for(agent).post(NEW, call_payload(world, service_type=foreign.pk))
    assert answer.status_code == 400
    assert WorkOrder.objects.filter(organization=world.org).count() == 0


def test_create_refused_by_the_service_leaves_no_customer_or_address(world, agent, monkeypatch):
    def refuse(**kwargs):
        raise services.WorkOrderInvalid("The intake desk is closed.")

    monkeypatch.setattr(services, "workorder_create", refuse)
    customers, addresses = Customer.objects.count(), Address.objects.count()
    answer = client_for(agent).post(NEW, call_payload(world))
    assert answer.status_code == 400
    assert "The intake desk is closed." in answer.content.decode()
    assert (Customer.objects.count(), Address.objects.count()) == (customers, addresses)


def test_create_submitted_twice_makes_one_order_and_one_address(world, agent):
    client = client_for(agent)
    first = client.post(NEW, call_payload(world))
    second = client.post(NEW, call_payload(world))
    assert first["Location"] == second["Location"]
    assert WorkOrder.objects.filter(organization=world.org).count() == 1
    assert Address.objects.filter(customer__phone="+8613800138000").count() == 1


def test_look_up_without_javascript_keeps_the_input_and_creates_nothing(world, agent):
    answer = client_for(agent).post(
        NEW, call_payload(world, phone=world.customer.phone, customer_name="Carol", lookup="1")
    )
    body = answer.content.decode()
    assert answer.status_code == 200
    assert f'value="{world.address.pk}"' in body
    assert "空调不制冷,外机不转" in body
    assert WorkOrder.objects.filter(organization=world.org).count() == 0


def test_create_carry_in_at_an_outlet_needs_no_address(world, agent):
    answer = client_for(agent).post(
        NEW,
        call_payload(
            world,
            fulfilment_mode="carry_in",
            outlet=world.outlet.pk,
            street="",
            city="",
            province="",
            district="",
            latitude="",
            longitude="",
        ),
    )
    assert answer.status_code == 302
    order = WorkOrder.objects.get(idempotency_key="call-1")
    assert (order.fulfilment_mode, order.outlet, order.address) == ("carry_in", world.outlet, None)


def test_create_refuses_an_outlet_outside_the_network(world, agent, org_b):
    foreign = OutletFactory(organization=org_b)
    answer = client_for(agent).post(
        NEW, call_payload(world, fulfilment_mode="carry_in", outlet=foreign.pk)
    )
    assert answer.status_code == 400
    assert foreign.name not in answer.content.decode()
    assert WorkOrder.objects.filter(organization=world.org).count() == 0


@pytest.mark.parametrize("persona", ["finance", "auditor"])
def test_readers_cannot_create(world, persona, request):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, call_payload(world)).status_code == 403
    assert WorkOrder.objects.filter(organization=world.org).count() == 0


# --- the order page --------------------------------------------------------------------------


def detail_url(order: WorkOrder, action: str = "") -> str:
    return f"/console/work-orders/{order.number}/" + (f"{action}/" if action else "")


def test_detail_shows_the_order_and_the_staff_timeline(world, agent):
    order = new_order(world, agent, fault_type=world.fault_type)
    services.workorder_add_note(
        work_order=order, actor=Actor(user=agent, role="agent"), text="客户脾气急"
    )
    body = client_for(agent).get(detail_url(order)).content.decode()
    assert "139****0007" in body
    assert world.customer.phone not in body
    assert "客户脾气急" in body  # internal notes are for staff
    assert 'data-event="note_added"' in body
    assert "30.280000, 120.130000" in body
    assert "¥80.00 – ¥230.00" in body
    assert 'data-action="accept"' in body
    assert 'data-action="resume"' not in body


def test_actions_follow_the_status(world, agent):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    body = client_for(agent).get(detail_url(order)).content.decode()
    shown = set(re.findall(r'data-action="([a-z-]+)"', body))
    assert shown == {"triage", "assign-technician", "assign-outlet", "hold", "note", "cancel"}


@pytest.mark.parametrize("persona", ["finance", "auditor"])
def test_readers_see_the_order_but_no_actions(world, agent, persona, request):
    order = new_order(world, agent)
    body = client_for(request.getfixturevalue(persona)).get(detail_url(order)).content.decode()
    assert order.number in body
    assert "data-action=" not in body


def test_detail_query_count_does_not_grow_with_technicians_and_events(world, agent, org_a):
    order = new_order(world, agent)
    actor = Actor(user=agent, role="agent")
    services.workorder_accept(work_order=order, actor=actor)
    client = client_for(agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail_url(order)).status_code == 200
        return len(queries)

    skill = SkillFactory(organization=org_a)

    def add_technicians_and_notes(how_many: int) -> None:
        for _ in range(how_many):
            extra = TechnicianFactory(organization=org_a, outlet=world.outlet)
            TechnicianSkill.objects.create(technician=extra, skill=skill, level=3)
            services.workorder_add_note(work_order=order, actor=actor, text="备注")

    # (with no skill anywhere the suggestions' skill prefetch has nothing to fetch: one query
    # fewer, whatever the number of technicians, so the baseline has one skilled technician)
    add_technicians_and_notes(1)
    before = count()
    add_technicians_and_notes(4)
    assert count() == before
    # Pinned: the ranked suggestions add a fixed number of flat queries here (the pool's live
    # state with today's load; the roster's skill levels, first-visit history, shifts and
    # days off — kept per process outside tests; the policy; the fault's code with its
    # skills), and the assignable organisations are looked up once: 21. The dispatch panel
    # adds 4 (due offers expired, the attempts, the policy and the service type's mode
    # override): 25; the live indicator's starting event id: 26; the SLA panel's clocks with
    # their policy: 27.
    assert before == 27


def test_accept_with_triage_through_the_page(world, agent):
    order = new_order(world, agent)
    answer = client_for(agent).post(
        detail_url(order, "accept"), {"fault_type": world.fault_type.pk, "priority": "urgent"}
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.priority, order.fault_type) == (
        "accepted",
        "urgent",
        world.fault_type,
    )
    assert order.estimate_high == Decimal("230.00")
    assert event_types(order) == ["created", "triaged", "status_changed"]
    assert order.events.last().actor_role == "agent"


def test_triage_through_the_page(world, agent):
    order = new_order(world, agent)
    client_for(agent).post(detail_url(order, "triage"), {"priority": "low", "fault_type": ""})
    order.refresh_from_db()
    assert (order.status, order.priority) == ("submitted", "low")
    assert event_types(order) == ["created", "triaged"]


def test_assign_technician_lists_the_network_with_distance(world, agent, org_a):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    skill = SkillFactory(organization=org_a, name="空调制冷")
    TechnicianSkill.objects.create(technician=world.technician, skill=skill, level=4)
    TechnicianFactory(organization=org_a, is_active=False)
    body = client_for(agent).get(detail_url(order)).content.decode()
    assert "空调制冷 L4" in body
    assert f'value="{world.technician.pk}"' in body
    distance = haversine_km(
        world.address.latitude,
        world.address.longitude,
        world.technician.home_latitude,
        world.technician.home_longitude,
    )
    assert f"{distance:.1f} km" in body
    assert body.count('name="technician"') == 1  # the inactive one is not offered


def test_assign_technician_through_the_page(world, agent):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    answer = client_for(agent).post(
        detail_url(order, "assign-technician"), {"technician": world.technician.pk}
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.technician, order.outlet) == (
        "assigned",
        world.technician,
        world.outlet,
    )
    assert event_types(order)[-1] == "technician_assigned"


def test_assign_technician_of_another_organisation_is_refused(world, agent, org_b):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    foreign = TechnicianFactory(organization=org_b)
    before = snapshot(order)
    answer = client_for(agent).post(
        detail_url(order, "assign-technician"), {"technician": foreign.pk}
    )
    assert answer.status_code == 400
    assert snapshot(order) == before


def test_assign_outlet_through_the_page(world, agent):
    order = new_order(world, agent, fulfilment_mode="carry_in", address=None)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    answer = client_for(agent).post(detail_url(order, "assign-outlet"), {"outlet": world.outlet.pk})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.outlet) == ("assigned", world.outlet)
    assert event_types(order)[-1] == "outlet_assigned"


def test_hold_and_resume_through_the_page(world, agent):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    client = client_for(agent)
    client.post(detail_url(order, "hold"), {"reason": "等配件"})
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "等配件")
    assert 'data-action="resume"' in client.get(detail_url(order)).content.decode()
    client.post(detail_url(order, "resume"))
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("accepted", "")
    assert event_types(order)[-2:] == ["held", "resumed"]


def test_cancel_through_the_page(world, agent):
    order = new_order(world, agent)
    client_for(agent).post(detail_url(order, "cancel"), {"reason": "客户不修了"})
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason, order.cancelled_by) == (
        "cancelled",
        "客户不修了",
        agent,
    )
    assert event_types(order)[-1] == "cancelled"


def test_note_through_the_page_is_internal(world, agent):
    order = new_order(world, agent)
    client_for(agent).post(detail_url(order, "note"), {"text": "下午再打"})
    event = order.events.order_by("pk").last()
    assert (event.type, event.reason, event.is_internal) == ("note_added", "下午再打", True)
    assert WorkOrder.objects.get(pk=order.pk).status == "submitted"


def test_schedule_through_the_page(world, agent):
    order = new_order(world, agent)
    actor = Actor(user=agent, role="agent")
    services.workorder_accept(work_order=order, actor=actor)
    services.workorder_assign_technician(work_order=order, technician=world.technician, actor=actor)
    start = timezone.localtime() + dt.timedelta(days=1)
    client_for(agent).post(
        detail_url(order, "schedule"),
        {
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    order.refresh_from_db()
    assert order.status == "scheduled"
    assert order.appointment_end - order.appointment_start == dt.timedelta(hours=2)
    assert event_types(order)[-1] == "appointment_confirmed"


def test_carry_in_receive_ready_and_handed_over_through_the_page(world, outlet_manager, agent):
    order = new_order(world, agent, fulfilment_mode="carry_in", address=None)
    actor = Actor(user=agent, role="agent")
    services.workorder_accept(work_order=order, actor=actor)
    services.workorder_assign_outlet(work_order=order, outlet=world.outlet, actor=actor)
    client = client_for(outlet_manager)
    assert 'data-action="receive"' in client.get(detail_url(order)).content.decode()
    client.post(detail_url(order, "receive"))
    assert WorkOrder.objects.get(pk=order.pk).status == "in_service"
    client.post(detail_url(order, "ready"), {"note": "更换屏幕"})
    assert WorkOrder.objects.get(pk=order.pk).status == "completed"
    assert 'data-action="hand-over"' in client.get(detail_url(order)).content.decode()
    client.post(detail_url(order, "hand-over"))
    order.refresh_from_db()
    assert order.status == "closed"
    assert event_types(order)[-3:] == ["device_received", "ready_for_pickup", "handed_over"]
    assert order.events.get(type="ready_for_pickup").reason == "更换屏幕"


def test_htmx_action_rerenders_the_order_body(world, agent):
    order = new_order(world, agent)
    answer = client_for(agent).post(detail_url(order, "accept"), {}, HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer.status_code == 200
    assert body.startswith('<div id="wo-body"')
    assert "<html" not in body
    assert 'data-status="accepted"' in body
    assert "The work order was accepted." in body


def test_illegal_action_shows_a_message_and_changes_nothing(world, agent):
    order = new_order(world, agent)
    before = snapshot(order)
    client = client_for(agent)
    answer = client.post(detail_url(order, "resume"))
    assert answer.status_code == 409
    assert "cannot become" in answer.content.decode()
    assert "Submitted" in answer.content.decode()
    fragment = client.post(detail_url(order, "hand-over"), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 409
    assert "data-error" in fragment.content.decode()
    assert snapshot(order) == before


def test_invalid_input_is_refused_with_the_form_errors(world, agent):
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    before = snapshot(order)
    answer = client_for(agent).post(detail_url(order, "hold"), {"reason": ""})
    body = answer.content.decode()
    assert answer.status_code == 400
    assert "Reason: This field is required." in body
    assert 'class="field has-error"' in body  # and beside the field
    assert snapshot(order) == before


def test_get_on_an_action_is_not_allowed(world, agent):
    order = new_order(world, agent)
    assert client_for(agent).get(detail_url(order, "accept")).status_code == 405


ACTION_POSTS = {
    "accept": {},
    "triage": {"priority": "urgent"},
    "assign-outlet": {"outlet": "OUTLET"},
    "assign-technician": {"technician": "TECHNICIAN"},
    "hold": {"reason": "x"},
    "resume": {},
    "cancel": {"reason": "x"},
    "note": {"text": "x"},
    "schedule": {"start": "2099-01-01T10:00", "end": "2099-01-01T12:00"},
    "receive": {},
    "ready": {"note": "x"},
    "hand-over": {},
}


def _fill(world, data: dict) -> dict:
    values = {"OUTLET": world.outlet.pk, "TECHNICIAN": world.technician.pk}
    return {key: values.get(value, value) for key, value in data.items()}


@pytest.mark.parametrize("persona", ["finance", "auditor"])
@pytest.mark.parametrize("action", list(ACTION_POSTS))
def test_readers_cannot_act(world, agent, persona, action, request):
    order = new_order(world, agent)
    before = snapshot(order)
    client = client_for(request.getfixturevalue(persona))
    answer = client.post(detail_url(order, action), _fill(world, ACTION_POSTS[action]))
    assert answer.status_code == 403
    assert snapshot(order) == before


# --- attachments -----------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def add_photo(order: WorkOrder) -> Attachment:
    upload = SimpleUploadedFile("p.png", png_bytes("red", (400, 300)), content_type="image/png")
    return services.attachment_add(
        work_order=order, actor=Actor.system(), kind="fault_photo", upload=upload
    )


def test_attachments_are_served_through_the_checked_view(world, agent, media):
    order = new_order(world, agent)
    photo = add_photo(order)
    client = client_for(agent)
    url = f"{detail_url(order)}attachments/{photo.token}/"
    assert f'src="{url}?thumb=1"' in client.get(detail_url(order)).content.decode()
    full = client.get(url)
    assert (full.status_code, full["Content-Type"]) == (200, "image/png")
    assert b"".join(full.streaming_content) == photo.file.open("rb").read()
    thumb = client.get(url, {"thumb": "1"})
    assert (thumb.status_code, thumb["Content-Type"]) == (200, "image/jpeg")
    assert client.get(f"{detail_url(order)}attachments/not-a-token/").status_code == 404


def test_another_orders_attachment_token_is_404_under_this_order(world, agent, media):
    mine, theirs = new_order(world, agent), world.other_order
    photo = add_photo(theirs)
    answer = client_for(agent).get(f"{detail_url(mine)}attachments/{photo.token}/")
    assert answer.status_code == 404


# --- tenancy ---------------------------------------------------------------------------------


def _other_org_urls(world, follow_up_pk: int, token: str) -> list[str]:
    order = world.other_order
    return [
        detail_url(order),
        f"{detail_url(order)}attachments/{token}/",
        *[detail_url(order, action) for action in ACTION_POSTS],
        f"{FOLLOW_UPS}{follow_up_pk}/resolve/",
    ]


@pytest.fixture
def other_org_things(world, org_b, other_org_user, media):
    """B's order (seen by Oscar of B) with a photo and an open follow-up."""
    theirs = world.other_order
    photo = add_photo(theirs)
    follow_up = FollowUp.objects.create(organization=org_b, work_order=theirs, reason="差评")
    assert client_for(other_org_user).get(detail_url(theirs)).status_code == 200
    return theirs, photo, follow_up


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_url_of_another_organisations_order_is_404_and_changes_nothing(
    world, agent, other_org_things, method
):
    theirs, photo, follow_up = other_org_things
    before = snapshot(theirs)
    client = client_for(agent)
    for url in _other_org_urls(world, follow_up.pk, photo.token):
        data = {
            "reason": "x",
            "text": "x",
            "resolution": "x",
            "outlet": world.outlet.pk,
            "technician": world.technician.pk,
            "priority": "urgent",
        }
        answer = getattr(client, method)(url, data if method == "post" else None)
        assert answer.status_code == 404, url
        htmx = getattr(client, method)(url, data if method == "post" else None, HTTP_HX_REQUEST="1")
        assert htmx.status_code == 404, url
    assert snapshot(theirs) == before
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.resolution) == ("open", "")


def test_organisation_b_cannot_see_organisation_a_orders(world, agent, other_org_user):
    mine = new_order(world, agent)
    client = client_for(other_org_user)
    assert client.get(detail_url(mine)).status_code == 404
    before = snapshot(mine)
    assert client.post(detail_url(mine, "cancel"), {"reason": "x"}).status_code == 404
    assert snapshot(mine) == before
    assert mine.number not in client.get(QUEUE).content.decode()


def test_console_pages_need_a_console_role(world, agent, technician, customer):
    order = new_order(world, agent)
    for user in (technician, customer):
        client = client_for(user)
        assert client.get(QUEUE).status_code == 404
        assert client.get(detail_url(order)).status_code == 404
        assert client.post(detail_url(order, "accept")).status_code == 404
    assert Client().get(QUEUE).status_code == 302  # to the login page


def test_served_order_is_handled_by_the_serving_organisation(world, agent, org_b):
    # B owns the order, A serves it: A's agent sees it and may act on it
    served = WorkOrderFactory(organization=org_b, service_organization=world.org, status="accepted")
    client = client_for(agent)
    assert client.get(detail_url(served)).status_code == 200
    client.post(detail_url(served, "note"), {"text": "已联系"})
    assert event_types(served) == ["note_added"]


# --- follow-ups ------------------------------------------------------------------------------


def test_follow_up_list_shows_open_first_and_only_this_organisation(world, agent, org_b):
    order = new_order(world, agent)
    done = FollowUp.objects.create(
        organization=world.org, work_order=order, reason="旧的", status="done", resolution="已回访"
    )
    open_one = FollowUp.objects.create(organization=world.org, work_order=order, reason="差评")
    theirs = FollowUp.objects.create(
        organization=org_b, work_order=world.other_order, reason="乙的差评"
    )
    body = client_for(agent).get(FOLLOW_UPS).content.decode()
    assert body.index(f'id="follow-up-{open_one.pk}"') < body.index(f'id="follow-up-{done.pk}"')
    assert f'id="follow-up-{theirs.pk}"' not in body
    assert "乙的差评" not in body
    only_open = client_for(agent).get(FOLLOW_UPS, {"status": "open"}).content.decode()
    assert f'id="follow-up-{done.pk}"' not in only_open


def test_resolve_a_follow_up_through_the_page(world, agent):
    order = new_order(world, agent)
    follow_up = FollowUp.objects.create(organization=world.org, work_order=order, reason="差评")
    client = client_for(agent)
    refused = client.post(f"{FOLLOW_UPS}{follow_up.pk}/resolve/", {"resolution": ""})
    assert refused.status_code == 302
    assert FollowUp.objects.get(pk=follow_up.pk).status == "open"
    answer = client.post(
        f"{FOLLOW_UPS}{follow_up.pk}/resolve/",
        {"resolution": "已回电,安排复修"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    assert answer.content.decode().startswith(f'<tr id="follow-up-{follow_up.pk}"')
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.resolution, follow_up.assignee) == (
        "done",
        "已回电,安排复修",
        agent,
    )


def test_empty_resolution_over_htmx_answers_400_with_the_row(world, agent):
    order = new_order(world, agent)
    follow_up = FollowUp.objects.create(organization=world.org, work_order=order, reason="差评")
    answer = client_for(agent).post(
        f"{FOLLOW_UPS}{follow_up.pk}/resolve/", {"resolution": " "}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 400
    assert "This field is required." in answer.content.decode()
    assert FollowUp.objects.get(pk=follow_up.pk).status == "open"


@pytest.mark.parametrize("persona", ["finance", "auditor"])
def test_readers_cannot_resolve_follow_ups(world, agent, persona, request):
    order = new_order(world, agent)
    follow_up = FollowUp.objects.create(organization=world.org, work_order=order, reason="差评")
    client = client_for(request.getfixturevalue(persona))
    assert client.get(FOLLOW_UPS).status_code == 200
    answer = client.post(f"{FOLLOW_UPS}{follow_up.pk}/resolve/", {"resolution": "x"})
    assert answer.status_code == 403
    assert FollowUp.objects.get(pk=follow_up.pk).status == "open"


def test_sidebar_links_to_the_queue_and_follow_ups(world, agent):
    body = client_for(agent).get(FOLLOW_UPS).content.decode()
    assert f'href="{QUEUE}"' in body
    assert f'href="{FOLLOW_UPS}" aria-current="page"' in body


def test_pages_are_in_chinese_by_default(world, agent):
    order = new_order(world, agent)
    client = Client()
    client.force_login(agent)
    for url in (QUEUE, NEW, FOLLOW_UPS, detail_url(order)):
        answer = client.get(url)
        assert answer.status_code == 200
        assert '<html lang="zh-hans"' in answer.content.decode()


# --- admin -----------------------------------------------------------------------------------


ADMIN = "/admin/workorders/workorder/"


def test_admin_changelist_is_scoped_to_owned_and_served_orders(world, agent, alice, org_b):
    mine = new_order(world, agent)
    served = WorkOrderFactory(organization=org_b, service_organization=world.org)
    body = client_for(alice).get(ADMIN).content.decode()
    assert mine.number in body
    assert served.number in body
    assert world.other_order.number not in body


def test_admin_change_page_of_another_organisations_order_is_404(world, alice):
    client = client_for(alice)
    assert client.get(f"{ADMIN}{world.other_order.pk}/change/").status_code == 404
    before = snapshot(world.other_order)
    client.post(f"{ADMIN}{world.other_order.pk}/change/", {"description": "x"})
    assert snapshot(world.other_order) == before


def test_admin_never_writes_a_work_order(world, agent, alice):
    order = new_order(world, agent)
    client = client_for(alice)
    page = client.get(f"{ADMIN}{order.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    before = snapshot(order)
    answer = client.post(f"{ADMIN}{order.pk}/change/", {"status": "closed", "description": "改掉"})
    assert answer.status_code == 403
    assert snapshot(order) == before
    assert client.get(f"{ADMIN}add/").status_code == 403
    assert client.post(f"{ADMIN}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert WorkOrder.objects.filter(pk=order.pk).exists()


def test_admin_events_are_read_only_and_scoped(world, agent, alice):
    order = new_order(world, agent)
    services.workorder_add_note(
        work_order=world.other_order, actor=Actor.system(), text="乙的内部备注"
    )
    client = client_for(alice)
    body = client.get("/admin/workorders/workorderevent/").content.decode()
    assert order.number in body
    assert world.other_order.number not in body
    event = order.events.get()
    assert client.get(f"/admin/workorders/workorderevent/{event.pk}/change/").status_code == 200
    assert (
        client.post(
            f"/admin/workorders/workorderevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    other_event = world.other_order.events.get()
    assert (
        client.get(f"/admin/workorders/workorderevent/{other_event.pk}/change/").status_code == 404
    )


# --- ranked suggestions on the assign-technician card ----------------------------------------


def _on_shift_all_day(technician, *, status: str = "available") -> None:
    from shouhou.dispatch.models import Shift, Technician

    Technician.objects.filter(pk=technician.pk).update(status=status)
    Shift.objects.bulk_create(
        Shift(
            technician=technician,
            weekday=day,
            starts_at=dt.time(0),
            ends_at=dt.time(23, 59, 59, 999999),
        )
        for day in range(7)
    )


def _suggestion_world(world, org_a):
    """Tom (level 4) and Sam (level 2) can do the fault now; Otto is off duty; Nina lacks
    the skill."""
    skill = SkillFactory(organization=org_a, name="空调制冷")
    world.fault_type.required_skills.add(skill)
    sam, otto, nina = (
        TechnicianFactory(
            organization=org_a,
            outlet=world.outlet,
            user=UserFactory(phone=f"+86139000099{n:02d}", display_name=name),
        )
        for n, name in enumerate(("Sam", "Otto", "Nina"))
    )
    for technician, level in ((world.technician, 4), (sam, 2), (otto, 5)):
        TechnicianSkill.objects.create(technician=technician, skill=skill, level=level)
    for technician in (world.technician, sam, nina):
        _on_shift_all_day(technician)
    _on_shift_all_day(otto, status="off_duty")
    return sam, otto, nina


def test_assign_card_ranks_suggestions_and_says_who_was_left_out(world, agent, org_a):
    sam, _otto, _nina = _suggestion_world(world, org_a)
    order = new_order(world, agent, fault_type=world.fault_type)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    body = client_for(agent).get(detail_url(order)).content.decode()
    suggested = re.findall(r'data-suggestion="(\d+)"', body)
    assert suggested == [str(world.technician.pk), str(sam.pk)]  # the better skill first
    assert body.count("data-assign-suggested=") == 2
    assert "Assign to them" in body
    assert "Of 4 technicians, left out:" in body
    assert "not on duty 1" in body
    assert "missing a required skill 1" in body
    assert " min · " in body and "<details>" in body
    # the full list stays below, every active technician of the network in it
    assert body.count('type="radio" name="technician"') == 4
    assert 'data-action="assign-technician"' in body


def test_one_click_assigns_the_suggested_technician(world, agent, org_a):
    sam, _otto, _nina = _suggestion_world(world, org_a)
    order = new_order(world, agent, fault_type=world.fault_type)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    answer = client_for(agent).post(
        detail_url(order, "assign-technician"),
        {"technician": sam.pk},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.technician) == ("assigned", sam)
    event = order.events.get(type="technician_assigned")
    assert event.data["explanation"]["place"] == 2


def test_no_suggestion_still_offers_every_technician(world, agent):
    # nobody is on shift: no suggestion, the reason, and the full list as the fallback
    order = new_order(world, agent)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    body = client_for(agent).get(detail_url(order)).content.decode()
    assert "data-suggestion=" not in body
    assert "No technician meets every requirement right now" in body
    assert "not on duty 1" in body
    assert f'name="technician" value="{world.technician.pk}"' in body
