"""Live pages in a real browser: a page updates, without reloading, from a change made in
another session (docs/live.md)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from shouhou.core import live
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.test_customer_pages import make_order

# One live page per test, and changes made by service calls from the test (another session):
# the live server's threads share one in-memory SQLite connection, so the test never has two
# requests of its own in flight at once.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.live_pages,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def _live_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LIVE_BACKEND = "memory"
    # Short keep-alives so a closed browser frees its server thread quickly at teardown.
    settings.LIVE_KEEPALIVE_SECONDS = 1


@pytest.fixture
def screen(_chromium, live_server):
    """One browser context per person (separate cookies, separate sessions)."""
    contexts = []

    def open_screen(viewport: dict):
        context = _chromium.new_context(viewport=viewport, base_url=live_server.url)
        context.add_cookies([{"name": "shouhou_language", "value": "en", "url": live_server.url}])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_screen
    for context in contexts:
        context.close()


def signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def mark_document(page) -> None:
    """A flag that a reload would wipe: proves the page changed in place."""
    page.evaluate("window.__sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_tracking_page_shows_the_new_status_when_an_agent_accepts_elsewhere(
    screen, live_server, world, agent
):
    # given the customer's tracking page open on a phone, with its live stream connected
    order = make_order(world)
    customer = screen(PHONE)
    customer.goto(f"/t/{order.tracking_token}/")
    expect(customer.locator(".live-indicator")).to_have_attribute("data-live-state", "on")
    expect(customer.locator("#order .badge[data-status]")).to_have_attribute(
        "data-status", "submitted"
    )
    mark_document(customer)
    # when an agent accepts the order (in another session)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    # then the customer's page shows the new status and the timeline entry, without a reload
    expect(customer.locator("#order .badge[data-status]")).to_have_attribute(
        "data-status", "accepted"
    )
    expect(customer.locator("#order .badge[data-status]")).to_have_text("Accepted")
    assert still_same_document(customer)
    assert WorkOrder.objects.get(pk=order.pk).status == "accepted"


def test_technician_job_list_shows_a_job_dispatched_elsewhere(
    screen, live_server, world, agent, technician
):
    # given the technician's job list, live, without the order
    order = make_order(world)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    tom = screen(PHONE)
    signed_in(tom, live_server, technician)
    tom.goto("/tech/jobs/")
    expect(tom.locator(".live-indicator")).to_have_attribute("data-live-state", "on")
    expect(tom.locator("#tech-jobs")).not_to_contain_text(order.number)
    mark_document(tom)
    # when the order is dispatched to Tom in another session
    services.workorder_assign_technician(
        work_order=order, technician=world.technician, actor=Actor(user=agent, role="agent")
    )
    # then the new job appears without a reload
    expect(tom.locator("#tech-jobs")).to_contain_text(order.number)
    assert still_same_document(tom)


def test_console_queue_follows_a_change_and_keeps_its_filter(screen, live_server, world, agent):
    # given the queue filtered to accepted orders, live
    order = make_order(world)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    console = screen(DESKTOP)
    signed_in(console, live_server, agent)
    console.goto("/console/work-orders/?status=accepted")
    expect(console.locator(".live-indicator")).to_have_attribute("data-live-state", "on")
    expect(console.locator(f'tr[data-number="{order.number}"]')).to_have_count(1)
    mark_document(console)
    # when the order is assigned in another session (it is no longer "accepted")
    services.workorder_assign_technician(
        work_order=order, technician=world.technician, actor=Actor(user=agent, role="agent")
    )
    # then the filtered table drops it, without a reload, keeping the filter
    expect(console.locator(f'tr[data-number="{order.number}"]')).to_have_count(0)
    assert re.search(r"status=accepted", console.url)
    assert still_same_document(console)


def test_a_dropped_stream_reconnects_and_resumes_from_the_database(
    screen, live_server, world, agent, settings, monkeypatch
):
    # given the tracking page, live, on a stream the server ends after two seconds
    settings.LIVE_STREAM_SECONDS = 2
    order = make_order(world)
    customer = screen(PHONE)
    customer.goto(f"/t/{order.tracking_token}/")
    indicator = customer.locator(".live-indicator")
    expect(indicator).to_have_attribute("data-live-state", "on")
    mark_document(customer)
    # when the order changes and the live message is lost (Redis down, say)
    monkeypatch.setattr(live, "publish_many", lambda channels, message: None)
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    accepted = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    # then the browser reconnects when the stream ends, receives the missed event from the
    # database, and shows the new status without a reload
    expect(indicator).to_have_attribute("data-live-seen", str(accepted.pk), timeout=20_000)
    expect(customer.locator("#order .badge[data-status]")).to_have_attribute(
        "data-status", "accepted"
    )
    assert still_same_document(customer)
