"""The technician's workbench in a real phone-sized browser: location on check-in, the
signature drawn on the screen, finishing the visit (headless Chromium through Playwright)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from shouhou.workorders import services
from shouhou.workorders.models import Attachment, Visit, WorkOrder
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.test_technician_pages import make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def tom_page(page, technician, world):
    """Tom signed in, in English, with the browser sharing a position near the customer."""
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill("13900000003")
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/tech/$"))
    page.context.add_cookies([{"name": "shouhou_language", "value": "en", "url": page.url}])
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 30.2801, "longitude": 120.1302})
    return page


def test_check_in_sends_the_browsers_position(tom_page, world):
    # given Tom's accepted job
    order = make_job(world, accept=True)
    tom_page.goto(f"/tech/jobs/{order.number}/")
    # when he checks in
    tom_page.get_by_role("button", name="Check in and start").click()
    tom_page.get_by_text("Checked in. The service has started.").wait_for()
    # then the visit has the position the browser gave
    visit = Visit.objects.get(work_order=order)
    assert (visit.check_in_latitude, visit.check_in_longitude) == (
        Decimal("30.280100"),
        Decimal("120.130200"),
    )
    assert WorkOrder.objects.get(pk=order.pk).status == "in_service"


def test_the_customer_signs_on_the_screen_and_the_job_is_completed(tom_page, world):
    # given Tom's job in service, on a phone-sized page
    order = make_job(world, accept=True)
    services.visit_check_in(
        work_order=order, technician=world.technician, actor=SYSTEM, latitude=None, longitude=None
    )
    tom_page.goto(f"/tech/jobs/{order.number}/")
    # when finishing before anyone signed, the page says why it cannot
    tom_page.get_by_label("Fixed").check()
    tom_page.get_by_role("button", name="Finish the visit").click()
    tom_page.get_by_text("The customer must sign before the job is completed.").wait_for()
    # and when the customer draws a signature and Tom saves it
    pad = tom_page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None and box["width"] <= 390
    tom_page.mouse.move(box["x"] + 20, box["y"] + 60)
    tom_page.mouse.down()
    for step in range(1, 12):
        tom_page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 60 + (step % 3) * 25)
    tom_page.mouse.up()
    tom_page.get_by_role("button", name="Save the signature").click()
    tom_page.get_by_text("The customer's signature is saved.").wait_for()
    # then the signature is a picture with ink on a white ground
    signature = Attachment.objects.get(work_order=order, kind="signature")
    image = Image.open(io.BytesIO(signature.file.read())).convert("L")
    darkest, lightest = image.getextrema()
    assert (darkest < 80, lightest) == (True, 255)
    # and finishing now completes the job, with the position at check-out
    tom_page.get_by_label("Fixed").check()
    tom_page.get_by_role("button", name="Finish the visit").click()
    tom_page.get_by_text("The visit is finished.").wait_for()
    assert WorkOrder.objects.get(pk=order.pk).status == "completed"
    visit = Visit.objects.get(work_order=order)
    assert (visit.outcome, visit.check_out_latitude) == ("fixed", Decimal("30.280100"))


def test_the_job_list_fits_a_phone(tom_page, world):
    order = make_job(world, priority="urgent")
    tom_page.goto("/tech/jobs/")
    card = tom_page.locator("a.tech-card", has_text=order.number)
    box = card.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    assert box["height"] >= 48
    width = tom_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    card.click()
    tom_page.wait_for_url(re.compile(rf"/tech/jobs/{order.number}/$"))
    assert tom_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_check_in_still_works_when_the_location_is_refused(tom_page, world):
    # given a browser that refuses to share the position
    order = make_job(world, accept=True)
    tom_page.context.clear_permissions()
    tom_page.goto(f"/tech/jobs/{order.number}/")
    # when he checks in
    tom_page.get_by_role("button", name="Check in and start").click()
    tom_page.get_by_text("Checked in. The service has started.").wait_for()
    # then the visit starts without a position
    visit = Visit.objects.get(work_order=order)
    assert (visit.status, visit.check_in_latitude, visit.check_in_longitude) == (
        "on_site",
        None,
        None,
    )
