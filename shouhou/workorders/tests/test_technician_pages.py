"""The technician's workbench pages end to end: the job list, one job, every step, ownership."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from shouhou.core.testing.factories import (
    MembershipFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.models import Technician
from shouhou.workorders import services
from shouhou.workorders.models import Attachment, Visit, WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.conftest import jpeg_with_gps, signature_data_url
from shouhou.workorders.views.technician import ACTIONS, map_links

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def tom(client, technician, world):
    client.force_login(technician)
    client.cookies["shouhou_language"] = "en"
    return client


def _technician_of(org, phone: str, name: str) -> Technician:
    user = UserFactory(phone=phone, display_name=name)
    MembershipFactory(user=user, organization=org, role="technician")
    return TechnicianFactory(organization=org, user=user)


@pytest.fixture
def tina(world) -> Technician:
    """Another technician of organisation A."""
    return _technician_of(world.org, "+8613900000011", "Tina")


@pytest.fixture
def olga(org_b) -> Technician:
    """A technician of organisation B."""
    return _technician_of(org_b, "+8613900000012", "Olga")


def make_job(world, *, technician=None, mode="on_site", accept=False, **fields) -> WorkOrder:
    """An order of organisation A assigned to ``technician`` (Tom by default)."""
    values = {
        "organization": world.org,
        "customer": world.customer,
        "service_type": world.service_type,
        "fault_type": world.fault_type,
        "fulfilment_mode": mode,
        "status": "accepted",
    }
    if mode == "on_site":
        values.update(
            address=world.address,
            latitude=world.address.latitude,
            longitude=world.address.longitude,
        )
    else:
        values["outlet"] = world.outlet
    values.update(fields)
    order = WorkOrderFactory(**values)
    if order.status == "accepted":
        services.workorder_assign_technician(
            work_order=order, technician=technician or world.technician, actor=SYSTEM
        )
    if accept:
        services.workorder_accept_assignment(
            work_order=order, technician=technician or world.technician, actor=SYSTEM
        )
    return WorkOrder.objects.get(pk=order.pk)


def in_service(world, **fields) -> WorkOrder:
    """Tom's on-site job, checked in."""
    order = make_job(world, accept=True, **fields)
    services.visit_check_in(
        work_order=order, technician=world.technician, actor=SYSTEM, latitude=None, longitude=None
    )
    return WorkOrder.objects.get(pk=order.pk)


def url(order: WorkOrder, action: str = "") -> str:
    return f"/tech/jobs/{order.number}/" + (f"{action}/" if action else "")


def state(order: WorkOrder) -> tuple[dict, list, list]:
    return (
        WorkOrder.objects.filter(pk=order.pk).values().get(),
        list(Visit.objects.filter(work_order=order).values()),
        list(WorkOrderEvent.objects.filter(work_order=order).values_list("pk", flat=True)),
    )


# --- the job list ---------------------------------------------------------------------------


def test_job_list_shows_exactly_my_jobs_in_their_groups(
    tom, world, tina, olga, django_assert_num_queries
):
    # given Tom's jobs in every group, and jobs of Tina and of organisation B
    now = timezone.now()
    to_accept = make_job(world, priority="urgent")
    today = make_job(world, accept=True)
    WorkOrder.objects.filter(pk=today.pk).update(
        status="scheduled", appointment_start=now, appointment_end=now + dt.timedelta(hours=1)
    )
    upcoming = make_job(world, accept=True)
    services.workorder_schedule(
        work_order=upcoming,
        actor=SYSTEM,
        start=now + dt.timedelta(days=2),
        end=now + dt.timedelta(days=2, hours=2),
    )
    working = in_service(world)
    done = in_service(world)
    services.workorder_sign(work_order=done, actor=SYSTEM, signature=signature_data_url())
    services.visit_finish(
        work_order=done, technician=world.technician, actor=SYSTEM, outcome="fixed"
    )
    tinas = make_job(world, technician=tina)
    olgas = WorkOrderFactory(organization=olga.organization, technician=olga, status="assigned")
    # when (session, user, the jobs: one query for the whole list, one for the route ETAs, the
    # live indicator's starting event id)
    with django_assert_num_queries(5):
        answer = tom.get("/tech/jobs/")
    # then
    assert answer.status_code == 200
    groups = {
        group.key: [job.order.number for job in group.jobs] for group in answer.context["groups"]
    }
    assert groups == {
        "today": [today.number],
        "upcoming": [upcoming.number],
        "to_accept": [to_accept.number],
        "in_progress": [working.number],
        "done": [done.number],
    }
    page = answer.content.decode()
    for order in (to_accept, today, upcoming, working, done):
        assert order.number in page
    for order in (tinas, olgas, world.other_order):
        assert order.number not in page
    assert "139****0007" in page
    assert "13900000007" not in page
    assert "Urgent" in page


def test_job_list_is_empty_for_someone_without_a_technician_profile(client, agent, world):
    make_job(world)
    client.force_login(agent)
    answer = client.get("/tech/jobs/")
    assert answer.status_code == 200
    assert [len(group.jobs) for group in answer.context["groups"]] == [0, 0, 0, 0, 0]


def test_technician_home_shows_todays_and_upcoming_jobs(tom, world):
    now = timezone.now()
    today = make_job(world, accept=True)
    WorkOrder.objects.filter(pk=today.pk).update(
        status="scheduled", appointment_start=now, appointment_end=now + dt.timedelta(hours=1)
    )
    later = make_job(world, accept=True)
    answer = tom.get("/tech/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert today.number in page
    assert later.number in page
    assert "/tech/jobs/" in page


def test_job_list_needs_a_login(client):
    answer = client.get("/tech/jobs/")
    assert answer.status_code == 302
    assert answer.url.startswith("/accounts/login/")


# --- one job --------------------------------------------------------------------------------


def test_detail_shows_the_job_with_the_masked_phone_and_map_links(tom, world):
    order = make_job(world)
    answer = tom.get(url(order))
    assert answer.status_code == 200
    page = answer.content.decode()
    assert order.number in page
    assert "139****0007" in page
    assert "13900000007" not in page
    assert "https://uri.amap.com/marker?position=120.13,30.28" in page
    assert "baidumap://map/marker?location=30.28,120.13" in page
    assert "https://api.map.baidu.com/marker?location=30.28,120.13" in page
    assert "https://maps.apple.com/?ll=30.28,120.13" in page
    assert answer.context["actions"] == {"note", "accept", "decline", "schedule"}


def test_detail_as_an_htmx_fragment(tom, world):
    order = make_job(world)
    answer = tom.get(url(order), **HTMX)
    assert answer.status_code == 200
    assert answer.content.decode().startswith('<div id="tech-job"')


def test_map_links_carry_the_coordinates_and_the_name():
    links = map_links(
        latitude=Decimal("30.280000"), longitude=Decimal("120.130000"), name="文三路 90 号"
    )
    assert links is not None
    amap = urlsplit(links.amap)
    assert (amap.scheme, amap.netloc, amap.path) == ("https", "uri.amap.com", "/marker")
    assert parse_qs(amap.query)["position"] == ["120.13,30.28"]
    assert parse_qs(amap.query)["name"] == ["文三路 90 号"]
    baidu = urlsplit(links.baidu_app)
    assert (baidu.scheme, baidu.netloc, baidu.path) == ("baidumap", "map", "/marker")
    assert parse_qs(baidu.query)["location"] == ["30.28,120.13"]
    assert parse_qs(baidu.query)["title"] == ["文三路 90 号"]
    assert parse_qs(baidu.query)["src"] == ["shouhou"]
    web = urlsplit(links.baidu_web)
    assert (web.netloc, web.path) == ("api.map.baidu.com", "/marker")
    assert parse_qs(web.query)["location"] == ["30.28,120.13"]
    assert parse_qs(web.query)["output"] == ["html"]
    assert parse_qs(web.query)["src"] == ["shouhou"]
    apple = urlsplit(links.apple)
    assert (apple.netloc, parse_qs(apple.query)["ll"]) == ("maps.apple.com", ["30.28,120.13"])
    assert parse_qs(apple.query)["q"] == ["文三路 90 号"]


def test_map_links_search_the_address_without_coordinates():
    links = map_links(latitude=None, longitude=None, name="", address="杭州市文三路 90 号")
    assert links is not None
    assert parse_qs(urlsplit(links.apple).query)["q"] == ["杭州市文三路 90 号"]
    assert parse_qs(urlsplit(links.amap).query)["keyword"] == ["杭州市文三路 90 号"]
    assert map_links(latitude=None, longitude=None, name="", address="") is None


# --- the steps ------------------------------------------------------------------------------


def test_accept_the_job(tom, world):
    order = make_job(world)
    answer = tom.post(url(order, "accept"))
    assert (answer.status_code, answer.url) == (302, url(order))
    order.refresh_from_db()
    assert order.assignment_accepted_at is not None
    assert order.events.filter(type="assignment_accepted").count() == 1
    assert "You took the job." in tom.get(url(order)).content.decode()


def test_decline_needs_a_reason(tom, world):
    order = make_job(world)
    before = state(order)
    answer = tom.post(url(order, "decline"), {"reason": " "})
    assert answer.status_code == 400
    assert "Say why you cannot take this job." in answer.content.decode()
    assert state(order) == before


def test_decline_with_a_reason_gives_the_job_back(tom, world):
    order = make_job(world)
    answer = tom.post(url(order, "decline"), {"reason": "车坏了"})
    assert (answer.status_code, answer.url) == (302, "/tech/jobs/")
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("accepted", None)
    assert order.events.get(type="assignment_declined").reason == "车坏了"
    assert tom.get(url(order)).status_code == 404


def test_decline_through_htmx_redirects_to_the_list(tom, world):
    order = make_job(world)
    answer = tom.post(url(order, "decline"), {"reason": "请假"}, **HTMX)
    assert answer.status_code == 200
    assert answer["HX-Redirect"] == "/tech/jobs/"


def test_schedule_an_appointment(tom, world):
    order = make_job(world, accept=True)
    day = timezone.localdate() + dt.timedelta(days=1)
    answer = tom.post(
        url(order, "schedule"),
        {"date": day.isoformat(), "start_time": "14:00", "end_time": "16:00"},
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "scheduled"
    start = timezone.localtime(order.appointment_start)
    end = timezone.localtime(order.appointment_end)
    assert (start.date(), start.time(), end.time()) == (day, dt.time(14), dt.time(16))


def test_schedule_in_chinese_reads_the_same_fields(client, technician, world):
    order = make_job(world, accept=True)
    client.force_login(technician)
    day = timezone.localdate() + dt.timedelta(days=1)
    answer = client.post(
        url(order, "schedule"),
        {"date": day.isoformat(), "start_time": "09:30", "end_time": "11:00"},
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert timezone.localtime(order.appointment_start).time() == dt.time(9, 30)
    page = client.get(url(order)).content.decode()
    assert f'value="{day.isoformat()}"' in page


def test_en_route_and_check_in_wait_until_the_job_is_taken(tom, world):
    order = make_job(world)
    before = state(order)
    answer = tom.post(url(order, "check-in"), {"latitude": "", "longitude": ""})
    assert answer.status_code == 409
    assert state(order) == before


def test_schedule_refuses_a_window_that_ends_first(tom, world):
    order = make_job(world, accept=True)
    day = timezone.localdate() + dt.timedelta(days=1)
    before = state(order)
    answer = tom.post(
        url(order, "schedule"),
        {"date": day.isoformat(), "start_time": "16:00", "end_time": "14:00"},
    )
    assert answer.status_code == 400
    assert "The appointment must end after it starts." in answer.content.decode()
    assert state(order) == before


def test_confirm_the_customers_time_in_one_tap(tom, world):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    order = make_job(world, preferred_start=start, preferred_end=start + dt.timedelta(hours=2))
    assert "Confirm the customer" in tom.get(url(order)).content.decode()
    answer = tom.post(url(order, "confirm-time"))
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "scheduled"
    assert (order.appointment_start, order.appointment_end) == (
        start,
        start + dt.timedelta(hours=2),
    )
    assert order.assignment_accepted_at is not None


def test_on_the_way(tom, world):
    order = make_job(world, accept=True)
    answer = tom.post(url(order, "en-route"))
    assert answer.status_code == 302
    visit = order.visits.get()
    assert visit.status == "en_route"
    assert visit.en_route_at is not None
    assert order.events.filter(type="en_route").count() == 1


def test_check_in_records_the_location_on_the_visit(tom, world):
    order = make_job(world, accept=True)
    answer = tom.post(url(order, "check-in"), {"latitude": "30.28012345", "longitude": "120.1302"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "in_service"
    visit = order.visits.get()
    assert (visit.status, visit.check_in_latitude, visit.check_in_longitude) == (
        "on_site",
        Decimal("30.280123"),
        Decimal("120.130200"),
    )


def test_check_in_without_a_location_when_the_browser_refuses(tom, world):
    order = make_job(world, accept=True)
    answer = tom.post(url(order, "check-in"), {"latitude": "", "longitude": ""})
    assert answer.status_code == 302
    visit = Visit.objects.get(work_order=order)
    assert (visit.status, visit.check_in_latitude, visit.check_in_longitude) == (
        "on_site",
        None,
        None,
    )


def test_check_in_refuses_a_location_out_of_range(tom, world):
    order = make_job(world, accept=True)
    before = state(order)
    answer = tom.post(url(order, "check-in"), {"latitude": "91", "longitude": "120"})
    assert answer.status_code == 400
    assert state(order) == before


def test_report_the_diagnosis_and_the_work_done(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "report"), {"diagnosis": "冷媒泄漏", "work_done": "补焊加氟"})
    assert answer.status_code == 302
    visit = order.visits.get()
    assert (visit.diagnosis, visit.work_done) == ("冷媒泄漏", "补焊加氟")
    types = list(order.events.values_list("type", flat=True))
    assert types[-2:] == ["diagnosed", "work_reported"]


def test_an_empty_report_is_refused_with_the_services_message(tom, world):
    order = in_service(world)
    before = state(order)
    answer = tom.post(url(order, "report"), {"diagnosis": "", "work_done": ""})
    assert answer.status_code == 400
    assert "Write the diagnosis or the work done." in answer.content.decode()
    assert state(order) == before


def test_before_and_after_photos_lose_their_exif_and_show_as_thumbnails(tom, world):
    order = in_service(world)
    for kind in ("before_photo", "after_photo"):
        upload = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")
        answer = tom.post(url(order, "photo"), {"kind": kind, "file": upload})
        assert answer.status_code == 302
    photos = list(Attachment.objects.filter(work_order=order).order_by("pk"))
    assert [photo.kind for photo in photos] == ["before_photo", "after_photo"]
    visit = order.visits.get()
    for photo in photos:
        assert photo.visit_id == visit.pk
        assert Image.open(photo.file.path).getexif() == {}
    page = tom.get(url(order)).content.decode()
    thumbnail = f"/tech/jobs/{order.number}/attachments/{photos[0].token}/thumbnail/"
    assert thumbnail in page
    answer = tom.get(thumbnail)
    assert (answer.status_code, answer["Content-Type"]) == (200, "image/jpeg")
    full = tom.get(f"/tech/jobs/{order.number}/attachments/{photos[1].token}/")
    assert (full.status_code, full["Content-Type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(b"".join(full.streaming_content))).getexif() == {}


def test_a_file_that_is_not_a_picture_is_refused(tom, world):
    order = in_service(world)
    before = state(order)
    upload = SimpleUploadedFile("photo.jpg", b"not a picture at all", content_type="image/jpeg")
    answer = tom.post(url(order, "photo"), {"kind": "before_photo", "file": upload})
    assert answer.status_code == 400
    assert "not a picture we can read" in answer.content.decode()
    assert state(order) == before


def test_the_customer_signs_on_the_screen(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "sign"), {"signature": signature_data_url()})
    assert answer.status_code == 302
    signature = Attachment.objects.get(work_order=order, kind="signature")
    assert signature.content_type == "image/png"
    assert order.events.filter(type="signed").count() == 1


def test_an_empty_signature_is_refused(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "sign"), {"signature": ""})
    assert answer.status_code == 400
    assert "The signature is missing. Ask the customer to sign." in answer.content.decode()
    assert not Attachment.objects.filter(work_order=order).exists()


def test_complete_fixed_after_the_signature(tom, world):
    order = in_service(world)
    tom.post(url(order, "sign"), {"signature": signature_data_url()})
    answer = tom.post(
        url(order, "complete"),
        {"outcome": "fixed", "note": "", "latitude": "30.2802", "longitude": "120.1303"},
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "completed"
    visit = order.visits.get()
    assert (visit.status, visit.outcome, visit.check_out_latitude) == (
        "done",
        "fixed",
        Decimal("30.280200"),
    )


def test_complete_fixed_without_a_signature_shows_the_message_and_changes_nothing(tom, world):
    order = in_service(world)
    before = state(order)
    answer = tom.post(url(order, "complete"), {"outcome": "fixed"})
    assert answer.status_code == 400
    assert "The customer must sign before the job is completed." in answer.content.decode()
    assert state(order) == before


def test_complete_fixed_without_a_signature_through_htmx(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "complete"), {"outcome": "fixed"}, **HTMX)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.startswith('<div id="tech-job"')
    assert "The customer must sign before the job is completed." in page
    assert WorkOrder.objects.get(pk=order.pk).status == "in_service"


def test_needs_parts_puts_the_job_on_hold(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "complete"), {"outcome": "needs_parts", "note": "压缩机待到货"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "压缩机待到货")
    assert order.visits.get().outcome == "needs_parts"


def test_customer_absent_sends_the_job_back_to_assigned(tom, world):
    order = in_service(world)
    answer = tom.post(url(order, "complete"), {"outcome": "customer_absent"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.appointment_start) == ("assigned", None)
    assert order.visits.get().outcome == "customer_absent"


def test_customer_absent_while_on_the_way(tom, world):
    order = make_job(world, accept=True)
    tom.post(url(order, "en-route"))
    answer = tom.post(url(order, "complete"), {"outcome": "customer_absent"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "assigned"
    assert order.visits.get().outcome == "customer_absent"


def test_an_internal_note(tom, world):
    order = make_job(world)
    answer = tom.post(url(order, "note"), {"text": "客户要求先打电话"})
    assert answer.status_code == 302
    note = order.events.get(type="note_added")
    assert (note.reason, note.is_internal, note.actor_role) == (
        "客户要求先打电话",
        True,
        "technician",
    )


def test_a_step_the_status_does_not_allow_answers_409(tom, world):
    order = make_job(world)
    before = state(order)
    answer = tom.post(url(order, "report"), {"diagnosis": "看不出来"})
    assert answer.status_code == 409
    assert "not available" in answer.content.decode()
    assert state(order) == before


def test_the_whole_on_site_visit_through_the_pages(tom, world):
    order = make_job(world)
    day = timezone.localdate() + dt.timedelta(days=1)
    steps = [
        ("accept", {}),
        ("schedule", {"date": day.isoformat(), "start_time": "09:00", "end_time": "11:00"}),
        ("en-route", {}),
        ("check-in", {"latitude": "30.2801", "longitude": "120.1302"}),
        ("report", {"diagnosis": "冷媒泄漏", "work_done": "补焊加氟"}),
        ("sign", {"signature": signature_data_url()}),
        ("complete", {"outcome": "fixed"}),
    ]
    for action, data in steps:
        answer = tom.post(url(order, action), data, **HTMX)
        assert answer.status_code == 200, action
        assert 'class="tech-alert error"' not in answer.content.decode(), action
    assert WorkOrder.objects.get(pk=order.pk).status == "completed"


# --- carry-in at the outlet -----------------------------------------------------------------


def test_carry_in_receive_diagnose_repair_ready_hand_over(tom, world):
    order = make_job(world, mode="carry_in")
    assert "links" in tom.get(url(order)).context
    assert tom.get(url(order)).context["links"] is None
    assert tom.post(url(order, "accept")).status_code == 302
    assert tom.post(url(order, "receive")).status_code == 302
    assert WorkOrder.objects.get(pk=order.pk).status == "in_service"
    assert tom.post(url(order, "report"), {"diagnosis": "屏幕总成损坏"}).status_code == 302
    assert tom.post(url(order, "report"), {"work_done": "更换屏幕总成"}).status_code == 302
    assert tom.post(url(order, "ready"), {"note": "可到店取机"}).status_code == 302
    assert WorkOrder.objects.get(pk=order.pk).status == "completed"
    steps = tom.get(url(order)).context["steps"]
    assert [done for _label, done in steps] == [True, True, True, True, False]
    assert tom.post(url(order, "hand-over")).status_code == 302
    order.refresh_from_db()
    assert order.status == "closed"
    assert list(order.events.values_list("type", flat=True)) == [
        "technician_assigned",
        "assignment_accepted",
        "device_received",
        "diagnosed",
        "work_reported",
        "ready_for_pickup",
        "handed_over",
    ]
    assert not order.visits.exists()


def test_carry_in_offers_no_visit_steps(tom, world):
    order = make_job(world, mode="carry_in", accept=True)
    actions = tom.get(url(order)).context["actions"]
    assert actions == {"note", "decline", "schedule", "receive"}
    answer = tom.post(url(order, "en-route"))
    assert answer.status_code == 409
    assert not order.visits.exists()


# --- ownership ------------------------------------------------------------------------------

PAGES = ["", *(f"{action}/" for action in ACTIONS)]


@pytest.mark.parametrize("intruder", ["tina", "olga", "agent", "customer"])
@pytest.mark.parametrize("path", PAGES)
def test_someone_elses_job_answers_404_everywhere_and_nothing_changes(
    client, world, request, intruder, path
):
    # given Tom's job in service with a photo, and someone else signed in
    order = in_service(world)
    services.attachment_add(
        work_order=order, actor=SYSTEM, kind="before_photo", upload=jpeg_with_gps()
    )
    person = request.getfixturevalue(intruder)
    client.force_login(person.user if isinstance(person, Technician) else person)
    before = state(order)
    upload = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    data = {
        "reason": "x",
        "text": "x",
        "diagnosis": "x",
        "work_done": "x",
        "outcome": "customer_absent",
        "kind": "before_photo",
        "file": upload,
        "signature": signature_data_url(),
        "date": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
        "start_time": "09:00",
        "end_time": "10:00",
    }
    # when
    answer = client.get(f"/tech/jobs/{order.number}/{path}") if not path else None
    if path:
        answer = client.post(f"/tech/jobs/{order.number}/{path}", data)
    # then
    assert answer.status_code == 404
    assert state(order) == before


@pytest.mark.parametrize("intruder", ["tina", "olga", "agent", "customer"])
def test_someone_elses_photos_answer_404(client, world, request, intruder):
    order = in_service(world)
    photo = services.attachment_add(
        work_order=order, actor=SYSTEM, kind="before_photo", upload=jpeg_with_gps()
    )
    person = request.getfixturevalue(intruder)
    client.force_login(person.user if isinstance(person, Technician) else person)
    base = f"/tech/jobs/{order.number}/attachments/{photo.token}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "thumbnail/").status_code == 404


def test_a_photo_of_another_order_is_not_served_under_my_job(tom, world, tina):
    mine = make_job(world)
    theirs = make_job(world, technician=tina)
    photo = services.attachment_add(
        work_order=theirs, actor=SYSTEM, kind="before_photo", upload=jpeg_with_gps()
    )
    assert tom.get(f"/tech/jobs/{mine.number}/attachments/{photo.token}/").status_code == 404


def test_other_organisations_order_answers_404(tom, world):
    other = world.other_order
    assert tom.get(f"/tech/jobs/{other.number}/").status_code == 404
    assert tom.post(f"/tech/jobs/{other.number}/accept/").status_code == 404
    assert WorkOrderEvent.objects.filter(work_order=other).count() == 0


def test_detail_query_count_is_pinned(tom, world, django_assert_num_queries):
    order = in_service(world)
    for _ in range(3):
        services.attachment_add(
            work_order=order, actor=SYSTEM, kind="before_photo", upload=jpeg_with_gps()
        )
    # session, user, the order, its visits, attachments and events
    with django_assert_num_queries(6):
        answer = tom.get(url(order))
    assert answer.status_code == 200
    assert len(answer.context["photo_sections"][2][1]) == 3


# --- live state for dispatch: on the way, on site, available, on/off duty -------------------


def test_on_the_way_check_in_and_finish_keep_the_technicians_state(tom, world):
    # given Tom's accepted job, and Tom available with no known position
    order = make_job(world, accept=True)
    Technician.objects.filter(pk=world.technician.pk).update(status="available")
    # when he sets off from somewhere with his phone's position
    tom.post(url(order, "en-route"), {"latitude": "30.250000", "longitude": "120.150000"})
    # then dispatch sees him on the way, there
    tech = Technician.objects.get(pk=world.technician.pk)
    assert (tech.status, tech.last_latitude, tech.last_longitude) == (
        "en_route",
        Decimal("30.250000"),
        Decimal("120.150000"),
    )
    assert tech.last_seen_at is not None
    # when he checks in at the door
    tom.post(url(order, "check-in"), {"latitude": "30.280000", "longitude": "120.130000"})
    tech.refresh_from_db()
    assert (tech.status, tech.last_latitude, tech.last_longitude) == (
        "on_site",
        Decimal("30.280000"),
        Decimal("120.130000"),
    )
    # when the visit ends (the customer was out) he is available again, still known there
    services.visit_finish(
        work_order=order, technician=world.technician, actor=SYSTEM, outcome="customer_absent"
    )
    tech.refresh_from_db()
    assert (tech.status, tech.last_latitude) == ("available", Decimal("30.280000"))


def test_check_in_without_a_position_keeps_the_last_known_one(world):
    # given Tom last seen somewhere
    seen = timezone.now() - dt.timedelta(hours=1)
    Technician.objects.filter(pk=world.technician.pk).update(
        last_latitude=Decimal("30.1"), last_longitude=Decimal("120.1"), last_seen_at=seen
    )
    # when he checks in without a position (the browser refused)
    order = in_service(world)
    # then he is on site and the old position stays
    tech = Technician.objects.get(pk=order.technician_id)
    assert (tech.status, tech.last_latitude, tech.last_seen_at) == (
        "on_site",
        Decimal("30.100000"),
        seen,
    )


def test_the_duty_switch_on_the_technician_home(tom, world):
    # given Tom off duty
    assert Technician.objects.get(pk=world.technician.pk).status == "off_duty"
    page = tom.get("/tech/").content.decode()
    assert 'data-duty="off"' in page
    assert "Go on duty" in page
    # when he goes on duty
    answer = tom.post("/tech/", {"technician": world.technician.pk, "duty": "on"})
    # then he is available, and the page says so
    assert answer.status_code == 302
    assert Technician.objects.get(pk=world.technician.pk).status == "available"
    page = tom.get("/tech/").content.decode()
    assert 'data-duty="on"' in page
    assert "Go off duty" in page
    # when he goes off duty again
    tom.post("/tech/", {"technician": world.technician.pk, "duty": "off"})
    assert Technician.objects.get(pk=world.technician.pk).status == "off_duty"


def test_going_on_duty_keeps_a_technician_on_the_way(tom, world):
    Technician.objects.filter(pk=world.technician.pk).update(status="en_route")
    tom.post("/tech/", {"technician": world.technician.pk, "duty": "on"})
    assert Technician.objects.get(pk=world.technician.pk).status == "en_route"


@pytest.mark.parametrize("payload", [{"duty": "sideways"}, {"duty": "on", "technician": "x"}])
def test_the_duty_switch_refuses_nonsense(tom, world, payload):
    payload = {"technician": world.technician.pk, **payload}
    answer = tom.post("/tech/", payload)
    assert answer.status_code == 302
    assert Technician.objects.get(pk=world.technician.pk).status == "off_duty"


def test_nobody_switches_another_technicians_duty(tom, tina, olga):
    for other in (tina, olga):
        tom.post("/tech/", {"technician": other.pk, "duty": "on"})
        assert Technician.objects.get(pk=other.pk).status == "off_duty"


def test_the_duty_switch_needs_a_login(client, world):
    answer = client.post("/tech/", {"technician": world.technician.pk, "duty": "on"})
    assert answer.status_code == 302
    assert "/accounts/" in answer["Location"]
    assert Technician.objects.get(pk=world.technician.pk).status == "off_duty"
