"""The customer's pages in a real browser on a 390 px phone: htmx, the little JS, keyboard.

Run in English (cookie ``shouhou_language=en``); the Chinese journey is checked after the
translations are merged.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from shouhou.core.sms import FakeSmsBackend
from shouhou.feedback.models import Rating
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.tests.test_customer_pages import completed, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def in_english(page, live_server) -> None:
    page.context.add_cookies([{"name": "shouhou_language", "value": "en", "url": live_server.url}])


def signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )


def swapped(page, selector: str, action) -> None:
    """Do ``action`` and wait until htmx has replaced the element at ``selector``."""
    page.locator(selector).evaluate("element => element.setAttribute('data-old', '1')")
    action()
    page.locator(f"{selector}:not([data-old])").wait_for(state="attached")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_report_on_a_phone_with_live_price_location_and_sms_code(page, live_server, world):
    # given a visitor on a phone, who lets the page read the location
    in_english(page, live_server)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 30.2741, "longitude": 120.1551})
    page.goto("/report/org-a/")
    assert no_horizontal_scroll(page)
    # when they pick the product and the fault, the expected price appears
    swapped(
        page,
        "#id_product_model",
        lambda: page.get_by_label("Brand").select_option(str(world.product_model.brand_id)),
    )
    swapped(
        page,
        "#id_fault_type",
        lambda: page.locator("#id_product_model").select_option(str(world.product_model.pk)),
    )
    page.get_by_label("Type of fault").select_option(str(world.fault_type.pk))
    page.locator("#estimate").get_by_text("¥80 – ¥230").wait_for()
    # carry-in shows the outlets instead of the address
    page.get_by_label("I bring it to a service outlet").check()
    assert page.get_by_label("Street address").is_hidden()
    assert page.get_by_role("group", name="Choose an outlet").is_visible()
    page.get_by_label("An engineer comes to me").check()
    page.get_by_label("Describe the fault").fill("空调不制冷")
    page.get_by_label("City").fill("杭州市")
    page.get_by_label("Street address").fill("文三路 90 号")
    page.get_by_role("button", name="Use my current location").click()
    page.get_by_text("Location added.").wait_for()
    page.get_by_label("Time").select_option("14")
    page.get_by_label("Your name").fill("王女士")
    page.get_by_label("Mobile number").fill("13800138000")
    page.get_by_role("button", name="Send code").click()
    page.get_by_text("The code was sent.").wait_for()
    code = re.search(r"\d{6}", FakeSmsBackend.outbox[-1].text).group(0)
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Submit the report").click()
    # then the number is shown at once, and the order follows the link
    page.get_by_role("heading", name="Report received").wait_for()
    order = WorkOrder.objects.get(organization=world.org)
    assert page.get_by_text(order.number).is_visible()
    assert str(order.latitude) == "30.274100"
    assert no_horizontal_scroll(page)
    page.get_by_role("link", name="Follow my order").click()
    page.get_by_text("Waiting to be accepted").first.wait_for()
    assert no_horizontal_scroll(page)


def test_rating_with_the_keyboard_on_a_phone(page, live_server, world, agent, customer):
    # given Carol signed in, with a completed order
    order = completed(world, agent, make_order(world))
    in_english(page, live_server)
    signed_in(page, live_server, customer)
    page.goto(f"/my/orders/{order.number}/")
    assert no_horizontal_scroll(page)
    # when she rates every dimension with the arrow keys (the stars are radio buttons)
    for legend in (
        "Service attitude",
        "Professional skill",
        "Response speed",
        "Clear process and prices",
    ):
        group = page.get_by_role("group", name=legend)
        group.get_by_role("radio", name="1 star", exact=True).focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
    page.get_by_role("button", name="Send my rating").click()
    # then the page shows her rating (htmx swapped the order in place)
    page.get_by_role("heading", name="Your rating").wait_for()
    rating = Rating.objects.get(work_order=order)
    assert (
        rating.attitude,
        rating.professionalism,
        rating.responsiveness,
        rating.transparency,
    ) == (4, 4, 4, 4)
    # and she confirms the completion from the same page
    page.get_by_role("button", name="Yes, confirm the service is complete").click()
    page.get_by_text("Thank you for confirming.").wait_for()
    order.refresh_from_db()
    assert order.status == "closed"
