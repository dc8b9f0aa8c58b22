"""The console's work-order pages in a real browser: htmx filters and actions."""

from __future__ import annotations

import re

import pytest

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, phone: str = "13900000002") -> None:
    page.context.add_cookies([{"name": "shouhou_language", "value": "en", "url": base_url}])
    page.goto("/accounts/login/")
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/$"))


@pytest.fixture
def page(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def test_queue_filter_swaps_the_table_and_keeps_the_url(page, live_server, world, agent, tmp_path):
    # given a submitted and a closed order
    submitted = WorkOrderFactory(organization=world.org, customer=world.customer)
    closed = WorkOrderFactory(organization=world.org, customer=world.customer, status="closed")
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Work orders", exact=True).click()
    page.locator(f'tr[data-number="{closed.number}"]').wait_for()
    # when the agent picks a status
    page.get_by_label("Status").select_option("closed")
    # then only the table is replaced and the address bar remembers the filter
    page.wait_for_url(re.compile(r"status=closed"))
    page.locator(f'tr[data-number="{submitted.number}"]').wait_for(state="detached")
    assert page.locator("tr[data-number]").count() == 1
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)


def test_accept_over_htmx_and_a_refusal_is_shown(page, live_server, world, agent, tmp_path):
    order = services.workorder_create(
        organization=world.org,
        customer=world.customer,
        service_type=world.service_type,
        description="空调不制冷",
        channel="phone",
        fulfilment_mode="on_site",
        address=world.address,
        actor=Actor(user=agent, role="agent"),
        notify_customer=False,
    ).work_order
    sign_in(page, live_server.url)
    page.goto(f"/console/work-orders/{order.number}/")
    # when the agent accepts with a priority
    page.locator("#id_accept_priority").select_option("urgent")
    page.get_by_role("button", name="Accept", exact=True).click()
    # then the order body is re-rendered in place
    page.get_by_text("The work order was accepted.").wait_for()
    assert page.locator("#wo-body").get_attribute("data-status") == "accepted"
    assert WorkOrder.objects.get(pk=order.pk).priority == "urgent"
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)
    # when someone else cancels it meanwhile and the agent puts the stale page on hold
    services.workorder_cancel(work_order=order, actor=Actor(user=agent, role="agent"), reason="x")
    page.locator("#id_hold_reason").fill("等配件")
    page.get_by_role("button", name="Put on hold").click()
    # then the refusal is readable and the order is unchanged
    page.locator("[data-error]").wait_for()
    assert "cannot become" in page.locator("[data-error]").inner_text()
    assert WorkOrder.objects.get(pk=order.pk).status == "cancelled"
