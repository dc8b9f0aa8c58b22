"""The dispatch board in a real browser: the agent opens it from the console navigation, clicks
an order on the map, assigns the suggested technician with one click, then dispatches the rest
with the batch button."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from shouhou.core.testing.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.tests.test_batch_service import ready
from shouhou.workorders.models import WorkOrder, WorkOrderEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1400, "height": 950}


@pytest.fixture
def desk(_chromium, live_server):
    context = _chromium.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def click_order_on_map(page: Page, number: str) -> None:
    """Click the order's square on the canvas where the board's script drew it."""
    canvas = page.locator("#board-map")
    page.wait_for_function(
        "number => window.shouhouBoard && window.shouhouBoard.hits.some(h => h.number === number)",
        arg=number,
    )
    hit = page.evaluate("number => window.shouhouBoard.hits.find(h => h.number === number)", number)
    size = page.evaluate("() => [board = document.getElementById('board-map'), board.width][1]")
    box = canvas.bounding_box()
    assert box is not None
    scale = box["width"] / size
    page.mouse.click(box["x"] + hit["x"] * scale, box["y"] + hit["y"] * scale)


def test_agent_assigns_from_the_map_then_batches_the_rest(desk: Page):
    # given: an organisation with an agent, two technicians on duty and two waiting orders
    org = OrganizationFactory(name="清凉空调", code="qingliang", kind="brand")
    agent = UserFactory(phone="+8613900002001", display_name="调度小王")
    MembershipFactory(user=agent, organization=org, role="agent")
    near = ready(
        TechnicianFactory(organization=org, user=UserFactory(phone="+8613900002002")),
        north=Decimal("0.01"),
    )
    ready(
        TechnicianFactory(organization=org, user=UserFactory(phone="+8613900002003")),
        north=Decimal("0.08"),
    )
    first, second = (
        WorkOrderFactory(
            organization=org,
            status="accepted",
            latitude=Decimal("30.280000") + offset,
            longitude=Decimal("120.130000"),
        )
        for offset in (Decimal("0"), Decimal("-0.05"))
    )
    page = desk
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill(agent.phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/"))
    # when: the board, from the navigation; the first order, clicked on the map
    page.locator('nav.sidebar a[href="/console/dispatch/"]').click()
    page.wait_for_url(re.compile(r"/console/dispatch/$"))
    expect(page.locator('[data-list="waiting"] li[data-order]')).to_have_count(2)
    click_order_on_map(page, first.number)
    panel = page.locator(f'#board-panel [data-panel="{first.number}"]')
    expect(panel).to_be_visible()
    expect(panel.locator("[data-suggestion]").first).to_have_attribute(
        "data-suggestion", str(near.pk)
    )
    panel.locator(f'form[data-assign-suggested="{near.pk}"] button').click()
    # then: assigned, and the lists refreshed without the order
    expect(page.locator("#board-panel .message.success")).to_be_visible()
    expect(page.locator('[data-list="waiting"] li[data-order]')).to_have_count(1)
    first.refresh_from_db()
    assert (first.status, first.technician_id) == ("assigned", near.pk)
    assert WorkOrderEvent.objects.filter(work_order=first, type="technician_assigned").exists()
    # when: the batch button for the rest (it asks first)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[data-batch] button").click()
    # then
    # (the first batch of a process loads SciPy: allow it more than the default five seconds)
    expect(page.locator(f'#board-batch [data-assigned="{second.number}"]')).to_have_count(
        1, timeout=20_000
    )
    expect(page.locator('[data-list="waiting"] li[data-order]')).to_have_count(0)
    second.refresh_from_db()
    assert second.status == "assigned"
    assert WorkOrder.objects.filter(organization=org, status="accepted").count() == 0
