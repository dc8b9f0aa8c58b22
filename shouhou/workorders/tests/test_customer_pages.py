"""The customer's pages end to end: report (报修), tracking, actions, rating, 我的服务, files.

The pages are requested in English (cookie ``shouhou_language=en``) so the assertions hold
before the Chinese translations of these pages are merged; the browser test checks Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from shouhou.accounts.models import SmsCode, User
from shouhou.core.testing.factories import (
    AddressFactory,
    AssetFactory,
    CustomerFactory,
    OrganizationFactory,
    ProductModelFactory,
    UserFactory,
)
from shouhou.customers.models import Address, Customer
from shouhou.feedback.models import FollowUp, Rating
from shouhou.workorders import services
from shouhou.workorders.models import Attachment, WorkOrder
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.conftest import png_bytes, signature_data_url

pytestmark = pytest.mark.django_db

NEW_PHONE = "13800138000"
NEW_PHONE_E164 = "+8613800138000"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def english(client: Client) -> Client:
    client.cookies["shouhou_language"] = "en"
    return client


@pytest.fixture
def web(client) -> Client:
    return english(client)


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def intake_data(world, **overrides):
    data = {
        "category": world.product_model.category_id,
        "brand": world.product_model.brand_id,
        "product_model": world.product_model.pk,
        "device_identifier": "",
        "service_type": world.service_type.pk,
        "fault_type": world.fault_type.pk,
        "description": "空调不制冷,外机不转",
        "fulfilment_mode": "on_site",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 90 号",
        "latitude": "30.280000",
        "longitude": "120.130000",
        "date": tomorrow().isoformat(),
        "slot": "14",
        "name": "王女士",
        "phone": NEW_PHONE,
        "code": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def request_code(web: Client, capture, phone: str = NEW_PHONE) -> str:
    from shouhou.core.sms import FakeSmsBackend

    with capture(execute=True):
        answer = web.post("/report/org-a/code/", {"phone": phone}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    return re.search(r"\d{6}", FakeSmsBackend.outbox[-1].text).group(0)


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "customers": Customer.objects.count(),
        "addresses": Address.objects.count(),
        "orders": WorkOrder.objects.count(),
        "attachments": Attachment.objects.count(),
    }


def photo(name: str = "fault.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


# --- building orders through the services ------------------------------------------------------


def make_order(world, *, customer=None, user=None, **overrides) -> WorkOrder:
    customer = customer or world.customer
    values = {
        "organization": world.org,
        "customer": customer,
        "service_type": world.service_type,
        "description": "空调不制冷",
        "channel": "web",
        "fulfilment_mode": "on_site",
        "actor": Actor(user=user or customer.user, role="customer"),
        "address": world.address
        if customer == world.customer
        else AddressFactory(customer=customer),
        "fault_type": world.fault_type,
        "product_model": world.product_model,
        "uploads": [png_bytes()],
        "notify_customer": False,
    }
    values.update(overrides)
    return services.workorder_create(**values).work_order


def staff(agent) -> Actor:
    return Actor(user=agent, role="agent")


def tom(world) -> Actor:
    return Actor(user=world.technician.user, role="technician")


def scheduled(world, agent, order: WorkOrder) -> WorkOrder:
    services.workorder_accept(work_order=order, actor=staff(agent))
    services.workorder_assign_technician(
        work_order=order, technician=world.technician, actor=staff(agent)
    )
    services.workorder_accept_assignment(
        work_order=order, technician=world.technician, actor=tom(world)
    )
    start = timezone.make_aware(dt.datetime.combine(tomorrow(), dt.time(14)))
    services.workorder_schedule(
        work_order=order, actor=tom(world), start=start, end=start + dt.timedelta(hours=2)
    )
    order.refresh_from_db()
    return order


def in_service(world, agent, order: WorkOrder) -> WorkOrder:
    scheduled(world, agent, order)
    services.visit_set_en_route(work_order=order, technician=world.technician, actor=tom(world))
    services.visit_check_in(
        work_order=order,
        technician=world.technician,
        actor=tom(world),
        latitude=Decimal("30.28"),
        longitude=Decimal("120.13"),
    )
    order.refresh_from_db()
    return order


def completed(world, agent, order: WorkOrder) -> WorkOrder:
    in_service(world, agent, order)
    services.attachment_add(
        work_order=order, actor=tom(world), kind="after_photo", upload=png_bytes("green")
    )
    services.workorder_sign(work_order=order, actor=tom(world), signature=signature_data_url())
    services.visit_finish(
        work_order=order, technician=world.technician, actor=tom(world), outcome="fixed"
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def dave(world) -> User:
    """Another customer of organisation A, with his own order: Carol must not touch it."""
    return UserFactory(phone="+8613700000008", display_name="Dave")


@pytest.fixture
def daves_order(world, dave) -> WorkOrder:
    customer = CustomerFactory(organization=world.org, name="Dave", phone=dave.phone, user=dave)
    return make_order(world, customer=customer)


# --- 报修 -------------------------------------------------------------------------------------


def test_report_form_is_served_for_an_active_organization_only(world, web):
    # when
    page = web.get("/report/org-a/")
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', html)
    assert 'accept="image/*,video/*" multiple' in html
    assert "Report a fault" in html
    assert "西湖服务中心" in html  # the outlet for carry-in
    world.org.is_active = False
    world.org.save(update_fields=["is_active"])
    assert web.get("/report/org-a/").status_code == 404
    assert web.get("/report/no-such-org/").status_code == 404


def test_report_creates_one_order_signs_in_and_texts_the_number(
    world, web, sms_outbox, django_capture_on_commit_callbacks
):
    # given a visitor who asked for a code
    code = request_code(web, django_capture_on_commit_callbacks)
    before = counts()
    # when they submit the report with a photo
    with django_capture_on_commit_callbacks(execute=True):
        answer = web.post("/report/org-a/", intake_data(world, code=code, photos=[photo()]))
    # then one order exists, with the customer, the address and the photo
    order = WorkOrder.objects.get(organization=world.org)
    assert answer.status_code == 302
    assert answer["Location"] == f"/report/org-a/done/{order.tracking_token}/"
    assert counts() == {
        "users": before["users"] + 1,
        "customers": before["customers"] + 1,
        "addresses": before["addresses"] + 1,
        "orders": before["orders"] + 1,
        "attachments": before["attachments"] + 1,
    }
    user = User.objects.get(phone=NEW_PHONE_E164)
    assert web.session["_auth_user_id"] == str(user.pk)
    assert (order.channel, order.fulfilment_mode, order.status) == ("web", "on_site", "submitted")
    assert order.customer.user == user
    assert (order.customer.name, order.customer.phone) == ("王女士", NEW_PHONE_E164)
    assert (order.address.city, order.address.address) == ("杭州市", "文三路 90 号")
    assert str(order.latitude) == "30.280000"
    assert timezone.localtime(order.preferred_start).time() == dt.time(14)
    assert order.preferred_end - order.preferred_start == dt.timedelta(hours=2)
    assert (order.estimate_low, order.estimate_high) == (Decimal("80.00"), Decimal("230.00"))
    assert order.attachments.get().kind == "fault_photo"
    assert order.idempotency_key.startswith("web:")
    # the SMS carries the number and the tracking link
    assert sms_outbox[-1].phone == NEW_PHONE_E164
    assert order.number in sms_outbox[-1].text
    assert f"/t/{order.tracking_token}/" in sms_outbox[-1].text
    # and the success page shows the number at once
    done = web.get(answer["Location"])
    html = done.content.decode()
    assert done.status_code == 200
    assert order.number in html
    assert f"http://testserver/t/{order.tracking_token}/" in html
    assert "138****8000" in html
    assert "¥80 – ¥230" in html


def test_carry_in_report_goes_to_the_chosen_outlet_without_an_address(
    world, web, django_capture_on_commit_callbacks
):
    code = request_code(web, django_capture_on_commit_callbacks)
    data = intake_data(
        world, code=code, fulfilment_mode="carry_in", outlet=world.outlet.pk, street="", city=""
    )
    answer = web.post("/report/org-a/", data)
    order = WorkOrder.objects.get(organization=world.org)
    assert answer.status_code == 302
    assert (order.fulfilment_mode, order.outlet, order.address) == ("carry_in", world.outlet, None)
    assert Address.objects.filter(customer=order.customer).count() == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code we sent to your phone."),
        ("wrong", "The code is not correct. 4 tries left."),
    ],
)
def test_wrong_or_missing_code_creates_nothing(
    world, web, django_capture_on_commit_callbacks, code, message
):
    # given
    real = request_code(web, django_capture_on_commit_callbacks)
    wrong = f"{(int(real) + 1) % 10**6:06d}"
    before = counts()
    # when
    answer = web.post(
        "/report/org-a/",
        intake_data(world, code=wrong if code == "wrong" else code, photos=[photo()]),
    )
    # then
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert counts() == before
    assert "_auth_user_id" not in web.session
    # a wrong try is counted even though the request failed
    assert SmsCode.objects.get(phone=NEW_PHONE_E164).attempts == (1 if code == "wrong" else 0)


def test_a_disabled_account_cannot_report(world, web, django_capture_on_commit_callbacks):
    UserFactory(phone=NEW_PHONE_E164, is_active=False)
    code = request_code(web, django_capture_on_commit_callbacks)
    before = counts()
    answer = web.post("/report/org-a/", intake_data(world, code=code))
    assert answer.status_code == 400
    assert "This account is disabled." in answer.content.decode()
    assert counts() == before
    assert "_auth_user_id" not in web.session


def test_invalid_fields_are_reported_next_to_them_and_create_nothing(world, web):
    before = counts()
    answer = web.post(
        "/report/org-a/",
        intake_data(
            world, description="", street="", phone="12345", date="", slot="", service_type=""
        ),
    )
    html = answer.content.decode()
    assert answer.status_code == 400
    for message in (
        "Describe the fault in a few words.",
        "Enter the street and house number.",
        "Enter a valid mainland China mobile number: 11 digits starting with 1.",
        "Choose a date.",
        "Choose a time.",
        "Choose the service you need.",
    ):
        assert message in html
    assert counts() == before


def test_a_time_in_the_past_is_refused(world, web):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    answer = web.post("/report/org-a/", intake_data(world, date=yesterday))
    assert answer.status_code == 400
    assert "This time has passed. Choose a later time." in answer.content.decode()


def test_double_submit_with_the_same_key_creates_one_order(
    world, web, django_capture_on_commit_callbacks
):
    # given one submitted report
    code = request_code(web, django_capture_on_commit_callbacks)
    data = intake_data(world, code=code)
    first = web.post("/report/org-a/", data)
    # when the same form is sent again: a double tap, and a browser retry without cookies
    again = web.post("/report/org-a/", data)
    retry = english(Client()).post("/report/org-a/", data)
    # then
    order = WorkOrder.objects.get(organization=world.org)
    assert first.status_code == again.status_code == retry.status_code == 302
    assert first["Location"] == again["Location"] == retry["Location"]
    assert first["Location"] == f"/report/org-a/done/{order.tracking_token}/"
    assert Address.objects.count() == 2  # Carol's from the world, and this one
    assert Customer.objects.filter(phone=NEW_PHONE_E164).count() == 1


def test_a_signed_in_customer_reports_without_a_code(world, web, customer):
    web.force_login(customer)
    answer = web.post("/report/org-a/", intake_data(world, phone="139 0000 0007", name="Carol"))
    order = WorkOrder.objects.get(customer=world.customer)
    assert answer.status_code == 302
    assert order.created_by == customer
    assert SmsCode.objects.count() == 0


def test_a_non_image_named_jpg_is_refused_and_creates_nothing(
    world, web, django_capture_on_commit_callbacks
):
    # given
    code = request_code(web, django_capture_on_commit_callbacks)
    before = counts()
    fake = SimpleUploadedFile("fault.jpg", b"MZ this is not a picture", content_type="image/jpeg")
    data = intake_data(world, code=code)
    # when
    answer = web.post("/report/org-a/", {**data, "photos": [fake]})
    # then
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "This file is not a picture we can read. Please use JPG, PNG or WebP." in html
    assert counts() == before
    assert "_auth_user_id" not in web.session
    # and the same code still works once the file is fixed
    fixed = web.post("/report/org-a/", {**data, "photos": [photo()]})
    assert fixed.status_code == 302
    assert WorkOrder.objects.filter(organization=world.org).count() == 1


def test_more_than_nine_photos_are_refused(world, web):
    before = counts()
    data = intake_data(world, photos=[photo(f"p{i}.png") for i in range(10)])
    answer = web.post("/report/org-a/", data)
    assert answer.status_code == 400
    assert "Up to 9 photos or one short video." in answer.content.decode()
    assert counts() == before


def mp4(name: str = "fault.mp4") -> SimpleUploadedFile:
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    return SimpleUploadedFile(name, data, content_type="video/mp4")


def test_one_short_video_is_accepted_and_two_are_refused(
    world, web, django_capture_on_commit_callbacks
):
    code = request_code(web, django_capture_on_commit_callbacks)
    before = counts()
    two = web.post("/report/org-a/", intake_data(world, code=code, photos=[mp4(), mp4("b.mp4")]))
    assert two.status_code == 400
    assert re.search(
        r'id="id_photos".*?<p class="error" role="alert">Up to 9 photos or one short video.</p>',
        two.content.decode(),
        re.DOTALL,
    )
    assert counts() == before
    one = web.post("/report/org-a/", intake_data(world, code=code, photos=[mp4()]))
    assert one.status_code == 302
    video = Attachment.objects.get(work_order__organization=world.org)
    assert (video.kind, video.content_type) == ("fault_video", "video/mp4")


def test_without_javascript_the_form_shows_the_price_and_sends_the_code(
    world, web, sms_outbox, django_capture_on_commit_callbacks
):
    before = counts()
    data = intake_data(world, description="屏幕不亮")
    preview = web.post("/report/org-a/", {**data, "preview": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        code = web.post("/report/org-a/code/", data)
    assert preview.status_code == code.status_code == 200
    assert "¥80 – ¥230" in preview.content.decode()
    assert 'class="error"' not in preview.content.decode()
    assert "The code was sent. It is valid for 5 minutes." in code.content.decode()
    assert "屏幕不亮" in code.content.decode()
    assert f'value="{data["idempotency_key"]}"' in code.content.decode()
    assert sms_outbox[-1].phone == NEW_PHONE_E164
    assert counts() == before


def test_estimate_shows_the_price_range_of_the_fault(world, web):
    answer = web.get(
        "/report/org-a/estimate/",
        {"fault_type": world.fault_type.pk, "product_model": world.product_model.pk},
    )
    assert answer.status_code == 200
    assert "¥80 – ¥230" in answer.content.decode()
    nothing = web.get("/report/org-a/estimate/", {"fault_type": ""})
    assert "Choose the type of fault to see the expected price." in nothing.content.decode()


def test_estimate_says_free_when_a_known_device_of_this_phone_is_under_warranty(
    world, web, customer
):
    # given Carol's air conditioner, under warranty
    AssetFactory(
        customer=world.customer,
        category=world.product_model.category,
        product_model=world.product_model,
        serial_number="SN-0042",
        warranty_until=timezone.localdate() + dt.timedelta(days=100),
    )
    query = {
        "fault_type": world.fault_type.pk,
        "product_model": world.product_model.pk,
        "phone": "13900000007",
    }
    # when a stranger types her number: the model alone reveals nothing
    assert "¥80 – ¥230" in web.get("/report/org-a/estimate/", query).content.decode()
    # when the serial number is known too, or Carol is signed in
    by_serial = web.get("/report/org-a/estimate/", {**query, "device_identifier": "sn-0042"})
    web.force_login(customer)
    signed_in = web.get("/report/org-a/estimate/", query)
    # then
    assert "Free of charge: under warranty" in by_serial.content.decode()
    assert "Free of charge: under warranty" in signed_in.content.decode()


def test_a_report_for_a_device_under_warranty_is_marked_so(world, web, customer):
    AssetFactory(
        customer=world.customer,
        category=world.product_model.category,
        product_model=world.product_model,
        warranty_until=timezone.localdate() + dt.timedelta(days=100),
    )
    web.force_login(customer)
    web.post("/report/org-a/", intake_data(world, phone="13900000007", name="Carol"))
    order = WorkOrder.objects.get(organization=world.org)
    assert order.is_under_warranty is True
    assert order.asset is not None


def test_choices_narrow_models_by_brand(world, web):
    ProductModelFactory(organization=world.org, name="XR-9", code="xr-9")
    answer = web.get(
        "/report/org-a/choices/",
        {"part": "models", "category": "", "brand": world.product_model.brand_id},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "KFR-35GW" in html
    assert "XR-9" not in html
    assert 'id="fault-type-field" hx-swap-oob="true"' in html
    assert answer["HX-Trigger-After-Settle"] == "estimate-refresh"


def test_landing_and_report_index_offer_a_report_entry_per_organization(world, web):
    OrganizationFactory(name="停业公司", code="closed", is_active=False)
    landing = web.get("/")
    index = web.get("/report/", HTTP_HX_REQUEST="true")
    assert 'href="/report/"' in landing.content.decode()
    assert 'href="/report/org-a/"' in index.content.decode()
    assert "停业公司" not in index.content.decode()


# --- tracking -----------------------------------------------------------------------------------


def test_tracking_by_token_shows_status_engineer_and_hides_internal_notes(world, web, agent):
    # given a scheduled order with an internal note
    order = scheduled(world, agent, make_order(world))
    services.workorder_add_note(work_order=order, actor=staff(agent), text="Difficult customer")
    # when anyone with the link opens it
    answer = web.get(f"/t/{order.tracking_token}/")
    # then
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Appointment set" in html
    assert "Tom" in html
    assert "139****0003" in html  # the engineer's phone, masked
    assert "+8613900000003" not in html
    assert "Engineer Tom took your order." in html
    assert "Engineer visit booked:" in html
    assert "14:00–16:00" in html
    assert "Difficult customer" not in html
    assert world.address.address not in html  # the street is for the customer only
    assert "Is this your order?" in html
    attachment = order.attachments.get()
    assert f"/attachments/{attachment.token}/thumb/?t={order.tracking_token}" in html


def test_a_bad_token_is_not_found(world, web):
    make_order(world)
    assert web.get("/t/this-token-does-not-exist-at-all/").status_code == 404
    assert web.get("/t/short/").status_code == 404


def test_my_order_page_shows_the_same_detail_to_its_customer(world, web, customer, agent):
    order = scheduled(world, agent, make_order(world))
    web.force_login(customer)
    answer = web.get(f"/my/orders/{order.number}/")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Appointment set" in html
    assert world.address.address in html
    assert "Remind them" in html
    assert "Is this your order?" not in html


def test_another_customers_order_is_not_found_and_cannot_be_changed(
    world, web, customer, daves_order
):
    # given Carol signed in
    web.force_login(customer)
    number = daves_order.number
    # when she tries Dave's order
    page = web.get(f"/my/orders/{number}/")
    cancel = web.post(f"/my/orders/{number}/cancel/", {"reason": "not_needed"})
    urge = web.post(f"/my/orders/{number}/urge/")
    by_link = web.post(f"/t/{daves_order.tracking_token}/cancel/", {"reason": "not_needed"})
    # then
    assert (page.status_code, cancel.status_code, urge.status_code) == (404, 404, 404)
    assert by_link.status_code == 403
    daves_order.refresh_from_db()
    assert (daves_order.status, daves_order.urge_count) == ("submitted", 0)
    assert daves_order.events.count() == 1


def test_actions_through_the_link_need_the_customers_identity(
    world, web, django_capture_on_commit_callbacks, sms_outbox
):
    # given a visitor holding Carol's tracking link
    order = make_order(world)
    base = f"/t/{order.tracking_token}/"
    # when they try to cancel without proving who they are
    refused = web.post(f"{base}cancel/", {"reason": "not_needed"})
    # then nothing changes
    assert refused.status_code == 403
    assert "Confirm it is you first" in refused.content.decode()
    order.refresh_from_db()
    assert order.status == "submitted"
    # when they get the code on Carol's phone and type it
    with django_capture_on_commit_callbacks(execute=True):
        sent = web.post(f"{base}code/", HTTP_HX_REQUEST="true")
    assert sent.status_code == 200
    assert sms_outbox[-1].phone == "+8613900000007"
    code = re.search(r"\d{6}", sms_outbox[-1].text).group(0)
    verified = web.post(f"{base}verify/", {"code": code})
    assert verified.status_code == 302
    cancelled = web.post(f"{base}cancel/", {"reason": "bad_time"})
    # then the order is cancelled by Carol
    assert cancelled.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "The time doesn't suit me")
    assert order.cancelled_by == world.customer.user


def test_wrong_code_on_the_link_signs_nobody_in(world, web, django_capture_on_commit_callbacks):
    order = make_order(world)
    base = f"/t/{order.tracking_token}/"
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{base}code/")
    answer = web.post(f"{base}verify/", {"code": "000000"})
    assert answer.status_code == 400
    assert "_auth_user_id" not in web.session


# --- files -------------------------------------------------------------------------------------


def test_attachments_are_served_only_to_people_who_may_see_the_order(
    world, web, customer, dave, daves_order
):
    # given Carol's order with a fault photo
    order = make_order(world)
    attachment = order.attachments.get()
    url = f"/attachments/{attachment.token}/"
    # then a stranger without the link gets nothing, with the link gets the picture
    assert web.get(url).status_code == 404
    assert web.get(url, {"t": daves_order.tracking_token}).status_code == 404
    by_link = web.get(url, {"t": order.tracking_token})
    assert (by_link.status_code, by_link["Content-Type"]) == (200, "image/png")
    assert b"".join(by_link.streaming_content).startswith(b"\x89PNG")
    thumb = web.get(f"{url}thumb/", {"t": order.tracking_token})
    assert (thumb.status_code, thumb["Content-Type"]) == (200, "image/jpeg")
    # Dave, signed in, still nothing; Carol, signed in, gets it without the link
    web.force_login(dave)
    assert web.get(url).status_code == 404
    web.force_login(customer)
    assert web.get(url).status_code == 200
    assert web.get("/attachments/0123456789abcdef0123456789abcdef/").status_code == 404


# --- actions -----------------------------------------------------------------------------------


def test_cancel_with_a_reason_cancels(world, web, customer):
    order = make_order(world)
    web.force_login(customer)
    answer = web.post(
        f"/my/orders/{order.number}/cancel/", {"reason": "fixed_myself", "details": "插头松了"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/my/orders/{order.number}/"
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "I fixed it myself: 插头松了")
    page = web.get(answer["Location"]).content.decode()
    assert "Your order was cancelled." in page
    assert "You cancelled the order: I fixed it myself: 插头松了" in page


def test_cancel_without_a_reason_is_refused(world, web, customer):
    order = make_order(world)
    web.force_login(customer)
    answer = web.post(f"/my/orders/{order.number}/cancel/", {"reason": "", "details": ""})
    other = web.post(f"/my/orders/{order.number}/cancel/", {"reason": "other", "details": ""})
    assert answer.status_code == other.status_code == 400
    assert "Tell us why you are cancelling." in answer.content.decode()
    assert "Write the reason in a few words." in other.content.decode()
    order.refresh_from_db()
    assert order.status == "submitted"


def test_cancel_with_htmx_answers_with_the_order_fragment(world, web, customer):
    order = make_order(world)
    web.force_login(customer)
    answer = web.post(
        f"/my/orders/{order.number}/cancel/", {"reason": "not_needed"}, HTTP_HX_REQUEST="true"
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.startswith('<div id="order"')
    assert "Your order was cancelled." in html
    assert "<html" not in html


def test_cancel_after_the_service_started_is_refused_with_a_message(world, web, customer, agent):
    order = in_service(world, agent, make_order(world))
    web.force_login(customer)
    answer = web.post(f"/my/orders/{order.number}/cancel/", {"reason": "not_needed"})
    assert answer.status_code == 409
    assert "The repair has started; please call us to cancel." in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "in_service"


def test_reschedule_changes_the_preferred_time(world, web, customer):
    order = make_order(world)
    web.force_login(customer)
    day = timezone.localdate() + dt.timedelta(days=2)
    answer = web.post(
        f"/my/orders/{order.number}/reschedule/", {"date": day.isoformat(), "slot": "10"}
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert timezone.localtime(order.preferred_start) == timezone.make_aware(
        dt.datetime.combine(day, dt.time(10))
    )
    assert order.events.filter(type="appointment_changed").count() == 1


def test_urging_twice_is_refused_the_second_time(world, web, customer):
    order = make_order(world)
    web.force_login(customer)
    first = web.post(f"/my/orders/{order.number}/urge/")
    second = web.post(f"/my/orders/{order.number}/urge/")
    assert first.status_code == 302
    assert second.status_code == 429
    assert (
        "We have your reminder. You can remind us again in 30 minutes." in second.content.decode()
    )
    order.refresh_from_db()
    assert order.urge_count == 1


def test_confirming_completion_closes_the_order(world, web, customer, agent):
    order = completed(world, agent, make_order(world))
    web.force_login(customer)
    page = web.get(f"/my/orders/{order.number}/").content.decode()
    assert "Is it fixed?" in page
    assert "After the repair" in page
    answer = web.post(f"/my/orders/{order.number}/confirm/")
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "closed"


def test_not_fixed_yet_sends_the_work_back_with_the_reason(world, web, customer, agent):
    order = completed(world, agent, make_order(world))
    web.force_login(customer)
    empty = web.post(f"/my/orders/{order.number}/reject/", {"reason": " "})
    assert empty.status_code == 400
    assert "Tell us what is still wrong." in empty.content.decode()
    answer = web.post(f"/my/orders/{order.number}/reject/", {"reason": "还是不制冷"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "in_service"
    assert order.events.get(type="completion_rejected").reason == "还是不制冷"


def test_rating_flow_stores_four_scores_and_shows_them(world, web, customer, agent):
    # given a completed order, which invites a rating
    order = completed(world, agent, make_order(world))
    web.force_login(customer)
    page = web.get(f"/my/orders/{order.number}/").content.decode()
    assert "Rate the service" in page
    assert 'type="radio" class="star-input" name="attitude"' in page
    # when Carol rates it with a photo
    answer = web.post(
        f"/my/orders/{order.number}/rate/",
        {
            "attitude": "5",
            "professionalism": "4",
            "responsiveness": "5",
            "transparency": "4",
            "comment": "师傅很专业",
            "photos": [photo("rating.png")],
        },
    )
    # then
    assert answer.status_code == 302
    rating = Rating.objects.get(work_order=order)
    assert (
        rating.attitude,
        rating.professionalism,
        rating.responsiveness,
        rating.transparency,
    ) == (5, 4, 5, 4)
    assert (rating.average, rating.comment) == (Decimal("4.50"), "师傅很专业")
    assert order.attachments.filter(kind="rating_photo").count() == 1
    assert FollowUp.objects.count() == 0
    shown = web.get(f"/my/orders/{order.number}/").content.decode()
    assert "Your rating" in shown
    assert "Rate the service" not in shown
    assert "师傅很专业" in shown


def test_a_rating_of_two_or_less_opens_a_follow_up(world, web, customer, agent):
    order = completed(world, agent, make_order(world))
    web.force_login(customer)
    scores = {"attitude": "1", "professionalism": "2", "responsiveness": "2", "transparency": "1"}
    answer = web.post(f"/my/orders/{order.number}/rate/", scores)
    assert answer.status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.work_order, follow_up.rating.average) == (order, Decimal("1.50"))


def test_a_rating_needs_every_dimension(world, web, customer, agent):
    order = completed(world, agent, make_order(world))
    web.force_login(customer)
    answer = web.post(f"/my/orders/{order.number}/rate/", {"attitude": "5"})
    assert answer.status_code == 400
    assert answer.content.decode().count("Choose 1 to 5 stars.") == 3
    assert Rating.objects.count() == 0


# --- 我的服务 ------------------------------------------------------------------------------------


def test_my_orders_lists_my_orders_newest_first_with_pinned_queries(
    world, web, customer, daves_order, django_assert_num_queries
):
    # given three orders of Carol's and one of Dave's
    first, second, third = (make_order(world) for _ in range(3))
    web.force_login(customer)
    # when / then: session, user, orders (one query with everything the rows show)
    with django_assert_num_queries(3):
        answer = web.get("/my/orders/")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.index(third.number) < html.index(second.number) < html.index(first.number)
    assert daves_order.number not in html
    assert html.count("Waiting to be accepted") == 3


def test_my_service_shows_recent_orders_and_devices(world, web, customer):
    order = make_order(world)
    AssetFactory(
        customer=world.customer, category=world.product_model.category, nickname="客厅空调"
    )
    web.force_login(customer)
    answer = web.get("/my/")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert order.number in html
    assert "客厅空调" in html
    assert 'href="/report/org-a/"' in html


def test_my_pages_need_sign_in(world, web):
    order = make_order(world)
    assert web.get("/my/orders/").status_code == 302
    assert web.get(f"/my/orders/{order.number}/").status_code == 302
