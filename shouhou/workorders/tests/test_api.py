"""The work-order API end to end: journeys, idempotency, conflicts and tenancy."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from shouhou.feedback.models import FollowUp, Rating
from shouhou.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from shouhou.workorders.tests.conftest import jpeg_with_gps, png_bytes, signature_data_url

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # assertions read English messages
    client.force_authenticate(user)
    return client


def create_payload(world, **overrides):
    payload = {
        "customer": {"name": "王女士", "phone": "13800138000"},
        "address": {
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 90 号",
            "latitude": "30.280000",
            "longitude": "120.130000",
        },
        "service_type": world.service_type.pk,
        "fault_type": world.fault_type.pk,
        "description": "空调不制冷,外机不转",
        "fulfilment_mode": "on_site",
        "priority": "high",
        "channel": "phone",
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def test_on_site_appliance_journey_through_the_api(world, agent, technician, customer):
    staff, tom, carol = client_for(agent), client_for(technician), client_for(customer)
    # an agent takes a phone call
    created = staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "Carol", "phone": customer.phone}),
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert created.json()["status"] == "submitted"
    assert created.json()["estimate_low"] == "80.00"
    assert created.json()["estimate_high"] == "230.00"
    assert created.json()["customer_status"] == "Waiting to be accepted"
    assert created.json()["tracking_url"].startswith("http://testserver/t/")
    # accept, assign, technician accepts and makes the appointment
    assert (
        staff.post(f"/api/v1/work-orders/{number}/accept/", {}, format="json").json()["status"]
        == "accepted"
    )
    assigned = staff.post(
        f"/api/v1/work-orders/{number}/assign-technician/",
        {"technician": world.technician.pk},
        format="json",
    )
    assert assigned.json()["status"] == "assigned"
    assert tom.post(f"/api/v1/work-orders/{number}/accept-assignment/").status_code == 200
    start = timezone.now() + dt.timedelta(hours=3)
    scheduled = tom.post(
        f"/api/v1/work-orders/{number}/schedule/",
        {"start": start.isoformat(), "end": (start + dt.timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert scheduled.json()["status"] == "scheduled"
    assert scheduled.json()["customer_status"] == "Appointment set"
    # on the way, check in, photos, report, signature, complete
    assert tom.post(f"/api/v1/work-orders/{number}/en-route/").status_code == 200
    checked_in = tom.post(
        f"/api/v1/work-orders/{number}/check-in/",
        {"latitude": "30.280100", "longitude": "120.130200"},
        format="json",
    )
    assert checked_in.json()["status"] == "in_service"
    for kind in ("before_photo", "after_photo"):
        upload = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
        answer = tom.post(
            f"/api/v1/work-orders/{number}/attachments/",
            {"kind": kind, "file": upload},
            format="multipart",
        )
        assert answer.status_code == 201, answer.json()
    tom.post(
        f"/api/v1/work-orders/{number}/report/",
        {"diagnosis": "冷媒泄漏", "work_done": "补焊并加注冷媒"},
        format="json",
    )
    refused = tom.post(
        f"/api/v1/work-orders/{number}/complete/", {"outcome": "fixed"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "work_order_invalid"
    assert (
        tom.post(
            f"/api/v1/work-orders/{number}/sign/",
            {"signature": signature_data_url()},
            format="json",
        ).status_code
        == 200
    )
    completed = tom.post(
        f"/api/v1/work-orders/{number}/complete/", {"outcome": "fixed"}, format="json"
    )
    assert completed.json()["status"] == "completed"
    # the customer confirms and rates four dimensions
    assert carol.post(f"/api/v1/work-orders/{number}/confirm/").json()["status"] == "closed"
    rated = carol.post(
        f"/api/v1/work-orders/{number}/rate/",
        {
            "attitude": 5,
            "professionalism": 4,
            "responsiveness": 5,
            "transparency": 4,
            "comment": "师傅很专业",
        },
        format="json",
    )
    assert rated.status_code == 201
    assert rated.json()["average"] == "4.50"
    # then
    order = WorkOrder.objects.get(number=number)
    world.technician.refresh_from_db()
    assert str(world.technician.rating) == "4.50"
    assert list(order.events.values_list("type", flat=True)) == [
        "created",
        "status_changed",
        "technician_assigned",
        "assignment_accepted",
        "appointment_confirmed",
        "en_route",
        "checked_in",
        "attachment_added",
        "attachment_added",
        "diagnosed",
        "work_reported",
        "signed",
        "completed",
        "completion_confirmed",
        "rated",
    ]
    visit = order.visits.get()
    assert (visit.status, visit.outcome, visit.diagnosis) == ("done", "fixed", "冷媒泄漏")
    assert str(visit.check_in_latitude) == "30.280100"
    photo = Attachment.objects.filter(work_order=order, kind="after_photo").get()
    assert Image.open(photo.file.path).getexif() == {}
    assert photo.thumbnail.name.endswith("-thumb.jpg")


def test_carry_in_phone_repair_through_the_api(world, agent, outlet_manager, customer):
    staff, manager, carol = client_for(agent), client_for(outlet_manager), client_for(customer)
    created = staff.post(
        "/api/v1/work-orders/",
        create_payload(
            world,
            customer={"name": "Carol", "phone": customer.phone},
            address=None,
            fulfilment_mode="carry_in",
            outlet=world.outlet.pk,
            description="屏幕碎裂",
        ),
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    staff.post(f"/api/v1/work-orders/{number}/accept/")
    staff.post(
        f"/api/v1/work-orders/{number}/assign-outlet/", {"outlet": world.outlet.pk}, format="json"
    )
    start = timezone.now() + dt.timedelta(days=1)
    staff.post(
        f"/api/v1/work-orders/{number}/schedule/",
        {"start": start.isoformat(), "end": (start + dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert manager.post(f"/api/v1/work-orders/{number}/receive/").json()["status"] == "in_service"
    manager.post(
        f"/api/v1/work-orders/{number}/report/", {"diagnosis": "屏幕总成损坏"}, format="json"
    )
    ready = manager.post(
        f"/api/v1/work-orders/{number}/ready-for-pickup/",
        {"work_done": "更换屏幕总成"},
        format="json",
    )
    assert ready.json()["status"] == "completed"
    handed = manager.post(f"/api/v1/work-orders/{number}/hand-over/")
    assert handed.json()["status"] == "closed"
    assert (
        carol.post(
            f"/api/v1/work-orders/{number}/rate/",
            {"attitude": 1, "professionalism": 2, "responsiveness": 2, "transparency": 3},
            format="json",
        ).status_code
        == 201
    )
    # a low rating opens a follow-up for staff
    follow_up = FollowUp.objects.get(work_order__number=number)
    assert follow_up.status == "open"
    assert Rating.objects.get(work_order__number=number).average == 2
    world.outlet.refresh_from_db()
    assert str(world.outlet.rating) == "2.00"


def test_idempotency_key_makes_one_order(world, agent):
    staff = client_for(agent)
    first = staff.post(
        "/api/v1/work-orders/", create_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="tap-1"
    )
    second = staff.post(
        "/api/v1/work-orders/", create_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="tap-1"
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["number"] == second.json()["number"]
    assert WorkOrder.objects.filter(organization=world.org).count() == 1
    assert world.org.customers.get(phone="+8613800138000").addresses.count() == 1


def test_a_retry_after_the_first_order_committed_answers_it_and_leaves_nothing_behind(world, agent):
    # given an order made with a key, then other orders (the day's count moves on)
    staff = client_for(agent)
    first = staff.post(
        "/api/v1/work-orders/", create_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k-9"
    ).json()
    staff.post("/api/v1/work-orders/", create_payload(world), format="json")
    events = WorkOrderEvent.objects.count()
    # when the first request is retried with another customer's details
    retry = staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "新客户", "phone": "13900139000"}),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-9",
    )
    # then the first order answers, and the retry wrote nothing: no customer, address or
    # event of its own (on PostgreSQL the number it took is skipped: sequences never go back)
    assert retry.status_code == 200
    assert retry.json()["number"] == first["number"]
    assert not world.org.customers.filter(phone="+8613900139000").exists()
    assert WorkOrderEvent.objects.count() == events
    assert WorkOrder.objects.filter(organization=world.org).count() == 2
    third = staff.post("/api/v1/work-orders/", create_payload(world), format="json").json()
    skipped = 1 if connection.vendor == "postgresql" else 0
    assert int(third["number"][-4:]) == int(first["number"][-4:]) + 2 + skipped


def test_intake_finds_a_known_customer_and_creates_a_new_one_once(world, agent):
    # given a customer the organisation knows under another name
    staff = client_for(agent)
    known = world.org.customers.create(name="王秀英", phone="+8613800138000")
    # when an agent reports for the same number with a different name, and for a new number
    staff.post("/api/v1/work-orders/", create_payload(world), format="json")
    staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "李先生", "phone": "139 0013 9000"}),
        format="json",
    )
    staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "李", "phone": "13900139000"}),
        format="json",
    )
    # then the known customer kept the stored name, and the new one exists once
    orders = WorkOrder.objects.filter(organization=world.org).order_by("pk")
    assert orders[0].customer_id == known.pk
    known.refresh_from_db()
    assert known.name == "王秀英"
    new = world.org.customers.get(phone="+8613900139000")
    assert (new.name, orders[1].customer_id, orders[2].customer_id) == ("李先生", new.pk, new.pk)


def test_customer_get_or_create_keeps_the_stored_row_and_links_a_login_once(world, customer):
    from shouhou.workorders.services import customer_get_or_create

    # given a customer stored by another request, without a login
    stored = world.org.customers.create(name="先到的", phone="+8613700137000")
    # when the same number comes again under another name, then with the customer's login
    again = customer_get_or_create(organization=world.org, phone="+8613700137000", name="后到的")
    linked = customer_get_or_create(
        organization=world.org, phone="+8613700137000", name="x", user=customer
    )
    # then it is the same row, its name unchanged, and the login is linked
    assert (again.pk, again.name, linked.pk) == (stored.pk, "先到的", stored.pk)
    assert world.org.customers.filter(phone="+8613700137000").count() == 1
    stored.refresh_from_db()
    assert (stored.name, stored.user_id) == ("先到的", customer.pk)


def test_illegal_transition_answers_409_with_a_readable_message(world, agent):
    staff = client_for(agent)
    number = staff.post("/api/v1/work-orders/", create_payload(world), format="json").json()[
        "number"
    ]
    answer = staff.post(f"/api/v1/work-orders/{number}/resume/")
    assert answer.status_code == 409
    assert answer.json()["code"] == "invalid_transition"
    assert "Submitted" in answer.json()["detail"]


def test_customer_cannot_cancel_after_service_started(world, agent, technician, customer):
    staff, tom, carol = client_for(agent), client_for(technician), client_for(customer)
    number = staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "Carol", "phone": customer.phone}),
        format="json",
    ).json()["number"]
    staff.post(f"/api/v1/work-orders/{number}/accept/")
    staff.post(
        f"/api/v1/work-orders/{number}/assign-technician/",
        {"technician": world.technician.pk},
        format="json",
    )
    tom.post(f"/api/v1/work-orders/{number}/check-in/", {}, format="json")
    answer = carol.post(
        f"/api/v1/work-orders/{number}/cancel/", {"reason": "不修了"}, format="json"
    )
    assert answer.status_code == 409
    assert WorkOrder.objects.get(number=number).status == "in_service"


def test_urge_is_limited_to_once_per_half_hour(world, agent, customer):
    staff, carol = client_for(agent), client_for(customer)
    number = staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "Carol", "phone": customer.phone}),
        format="json",
    ).json()["number"]
    assert carol.post(f"/api/v1/work-orders/{number}/urge/").json()["urge_count"] == 1
    again = carol.post(f"/api/v1/work-orders/{number}/urge/")
    assert again.status_code == 429
    assert again["Retry-After"] == "1800"
    assert WorkOrder.objects.get(number=number).urge_count == 1


def test_attachment_checked_by_content_not_name(world, agent):
    staff = client_for(agent)
    number = staff.post("/api/v1/work-orders/", create_payload(world), format="json").json()[
        "number"
    ]
    fake = SimpleUploadedFile("photo.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    answer = staff.post(
        f"/api/v1/work-orders/{number}/attachments/",
        {"kind": "fault_photo", "file": fake},
        format="multipart",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "attachment_rejected"
    assert Attachment.objects.count() == 0


def test_technician_sees_only_own_jobs_and_customer_never_sees_internal_notes(
    world, agent, technician, customer
):
    staff, carol = client_for(agent), client_for(customer)
    number = staff.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "Carol", "phone": customer.phone}),
        format="json",
    ).json()["number"]
    staff.post(f"/api/v1/work-orders/{number}/notes/", {"text": "客户脾气急"}, format="json")
    assert client_for(technician).get("/api/v1/work-orders/").json()["count"] == 0
    types = [event["type"] for event in carol.get(f"/api/v1/work-orders/{number}/events/").json()]
    assert types == ["created"]
    assert carol.post(f"/api/v1/work-orders/{number}/accept/").status_code == 403


WRONG_TENANT_ACTIONS = [
    "accept",
    "triage",
    "assign-outlet",
    "assign-technician",
    "hold",
    "resume",
    "cancel",
    "notes",
    "accept-assignment",
    "decline-assignment",
    "schedule",
    "en-route",
    "check-in",
    "receive",
    "report",
    "sign",
    "complete",
    "ready-for-pickup",
    "hand-over",
    "confirm",
    "reject-completion",
    "urge",
    "reschedule",
    "rate",
    "attachments",
]


@pytest.mark.parametrize("verb", WRONG_TENANT_ACTIONS)
def test_other_organisation_gets_404_on_every_action_and_nothing_changes(world, agent, verb):
    staff = client_for(agent)
    other = world.other_order
    before = WorkOrder.objects.filter(pk=other.pk).values().get()
    answer = staff.post(
        f"/api/v1/work-orders/{other.number}/{verb}/",
        {"reason": "x", "text": "x", "outlet": world.outlet.pk},
        format="json",
    )
    assert answer.status_code == 404
    assert WorkOrder.objects.filter(pk=other.pk).values().get() == before
    assert WorkOrderEvent.objects.filter(work_order=other).count() == 0


@pytest.mark.parametrize("path", ["", "events/", "attachments/"])
def test_other_organisation_gets_404_on_reads(world, agent, path):
    answer = client_for(agent).get(f"/api/v1/work-orders/{world.other_order.number}/{path}")
    assert answer.status_code == 404


def test_list_is_scoped_and_query_count_is_pinned(world, agent, django_assert_num_queries):
    staff = client_for(agent)
    for index in range(3):
        staff.post(
            "/api/v1/work-orders/",
            create_payload(world, customer={"name": f"客户{index}", "phone": f"1380013800{index}"}),
            format="json",
        )
    fresh = client_for(type(agent).objects.get(pk=agent.pk))  # no cached memberships
    # memberships, count, page, visits
    with django_assert_num_queries(4):
        answer = fresh.get("/api/v1/work-orders/")
    assert answer.json()["count"] == 3
    assert world.other_order.number not in {row["number"] for row in answer.json()["results"]}


def test_png_signature_keeps_transparency(world):
    image = Image.open(io.BytesIO(png_bytes()))
    assert image.format == "PNG"


def test_car_workshop_booking_on_a_platform_through_the_api(db):
    """A platform receives the booking; a merchant workshop in its network does the work and
    sees the order; a third organisation sees nothing."""
    from shouhou.accounts.models import Organization
    from shouhou.core.testing.factories import (
        CustomerFactory,
        FaultTypeFactory,
        FaultTypeLineFactory,
        MembershipFactory,
        OutletFactory,
        PriceListItemFactory,
        ServiceTypeFactory,
        UserFactory,
    )

    # given a platform, a merchant workshop in its network and an unrelated merchant
    platform = Organization.objects.create(name="快修养车", code="platform", kind="platform")
    merchant = Organization.objects.create(
        name="老王汽修", code="wang", kind="merchant", parent=platform
    )
    stranger = Organization.objects.create(name="别家汽修", code="other", kind="merchant")
    platform_agent = UserFactory(phone="+8613700000001")
    MembershipFactory(user=platform_agent, organization=platform, role="agent")
    workshop_manager = UserFactory(phone="+8613700000002")
    MembershipFactory(user=workshop_manager, organization=merchant, role="outlet_manager")
    stranger_admin = UserFactory(phone="+8613700000003")
    MembershipFactory(user=stranger_admin, organization=stranger, role="admin")
    driver = UserFactory(phone="+8613700000004")
    CustomerFactory(organization=platform, phone=driver.phone, user=driver, name="李先生")
    workshop = OutletFactory(organization=merchant, name="老王汽修 高新店")
    service = ServiceTypeFactory(organization=platform, kind="maintenance", name="保养")
    brakes = FaultTypeFactory(organization=platform, name="更换刹车片")
    for code, kind, price in [
        ("labour-brake", "labour", "120.00"),
        ("brake-pads", "part", "260.00"),
        ("brake-fluid", "material", "45.00"),
    ]:
        FaultTypeLineFactory(fault_type=brakes, item_code=code)
        PriceListItemFactory(
            organization=platform,
            code=code,
            kind=kind,
            unit_price=price,
            valid_from=dt.date(2020, 1, 1),
        )
    staff, manager, customer = (
        client_for(platform_agent),
        client_for(workshop_manager),
        client_for(driver),
    )
    start = timezone.now() + dt.timedelta(days=1)
    # when the booking is taken and routed to the workshop
    created = staff.post(
        "/api/v1/work-orders/",
        {
            "customer": {"name": "李先生", "phone": "13700000004"},
            "service_type": service.pk,
            "fault_type": brakes.pk,
            "description": "刹车异响,想换刹车片",
            "device_identifier": "LSVAM4187C2184847",
            "fulfilment_mode": "carry_in",
            "outlet": workshop.pk,
            "channel": "app",
            "preferred_start": start.isoformat(),
            "preferred_end": (start + dt.timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert created.json()["estimate_low"] == "425.00"
    assert created.json()["service_organization"] == merchant.pk
    staff.post(f"/api/v1/work-orders/{number}/accept/")
    staff.post(
        f"/api/v1/work-orders/{number}/assign-outlet/", {"outlet": workshop.pk}, format="json"
    )
    # then the workshop sees it and works it through; the stranger sees nothing
    assert [row["number"] for row in manager.get("/api/v1/work-orders/").json()["results"]] == [
        number
    ]
    assert client_for(stranger_admin).get(f"/api/v1/work-orders/{number}/").status_code == 404
    manager.post(
        f"/api/v1/work-orders/{number}/schedule/",
        {"start": start.isoformat(), "end": (start + dt.timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert manager.post(f"/api/v1/work-orders/{number}/receive/").json()["status"] == "in_service"
    manager.post(
        f"/api/v1/work-orders/{number}/report/",
        {"diagnosis": "前刹车片磨损到极限", "work_done": "更换前刹车片并更换刹车油"},
        format="json",
    )
    manager.post(f"/api/v1/work-orders/{number}/ready-for-pickup/", {}, format="json")
    assert manager.post(f"/api/v1/work-orders/{number}/hand-over/").json()["status"] == "closed"
    rated = customer.post(
        f"/api/v1/work-orders/{number}/rate/",
        {"attitude": 5, "professionalism": 5, "responsiveness": 4, "transparency": 5},
        format="json",
    )
    assert rated.status_code == 201
    workshop.refresh_from_db()
    assert str(workshop.rating) == "4.75"


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_racing_on_postgresql_makes_one_order(world, agent):
    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("two requests inside the database at once need PostgreSQL")
    # given two identical requests with one key, sent at the same moment
    import threading

    barrier = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def submit() -> None:
        try:
            staff = client_for(agent)
            barrier.wait(10)
            response = staff.post(
                "/api/v1/work-orders/",
                create_payload(world),
                format="json",
                HTTP_IDEMPOTENCY_KEY="race-1",
            )
            answers.append((response.status_code, response.json()["number"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then one made the order, the other was answered with it, and one address exists
    assert sorted(code for code, _ in answers) == [200, 201]
    assert answers[0][1] == answers[1][1]
    assert WorkOrder.objects.filter(organization=world.org).count() == 1
    assert world.org.customers.get(phone="+8613800138000").addresses.count() == 1
