"""The console: the SLA section of the order page and the queue's "overdue" filter."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.sla.models import SlaPolicy
from shouhou.sla.services import sla_tick
from shouhou.sla.tests.conftest import STAFF, START
from shouhou.workorders import services

pytestmark = pytest.mark.django_db

QUEUE = "/console/work-orders/"
NUMBER = re.compile(r'data-number="([A-Z0-9]+)"')


def client_for(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["shouhou_language"] = language
    return client


def sla_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-sla-target="(\w+)" data-sla-state="(\w+)"', html))


def test_order_page_shows_each_target_with_due_time_and_time_left(world, agent, now):
    SlaPolicy.objects.create(
        organization=world.org,
        name="家电维修标准",
        response_minutes=60,
        arrival_minutes=240,
        resolution_minutes=1440,
    )
    order = world.order()
    now.advance(minutes=20)
    services.workorder_accept(work_order=order, actor=STAFF)
    now.advance(minutes=10)
    services.workorder_hold(work_order=order, actor=STAFF, reason="等配件")
    page = client_for(agent).get(f"/console/work-orders/{order.number}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html.split('id="sla-clocks"')[1].split("</section>")[0]
    assert "家电维修标准" in section
    assert sla_rows(html) == {"response": "met", "arrival": "paused", "resolution": "paused"}
    # due in Beijing time: accepted 09:20 + 4 h = 13:20; 3 h 50 min left, frozen on hold
    arrival = section.split('data-sla-target="arrival"')[1].split("</tr>")[0]
    assert "2026-11-23 13:20" in arrival
    assert "3 h 50 min left" in arrival
    assert "Paused (on hold)" in arrival


def test_order_page_shows_overdue_and_the_timeline_says_which_target(world, agent, now):
    order = world.order(priority="urgent")  # built-in: response 30 min
    now.advance(minutes=45)
    sla_tick()
    html = client_for(agent).get(f"/console/work-orders/{order.number}/").content.decode()
    assert sla_rows(html)["response"] == "overdue"
    response = html.split('data-sla-target="response"')[1].split("</tr>")[0]
    assert "overdue by 15 min" in response
    assert "built-in default targets" in html
    timeline = html.split('data-sla-target="resolution"')[1]
    assert "SLA breached" in timeline
    assert "Response · due 2026-11-23 09:30" in timeline


def test_order_page_in_chinese_has_the_section(world, agent, now):
    order = world.order()
    html = client_for(agent, "zh-hans").get(f"/console/work-orders/{order.number}/").content
    assert 'id="sla-clocks"' in html.decode()


def test_overdue_filter_uses_sla_due_times(world, agent, now):
    # given orders of each kind
    late = world.order(priority="urgent", description="响应超时")  # response due 09:30
    in_time = world.order(description="按时")  # response due 11:00
    held = world.order(priority="urgent", description="挂起")
    services.workorder_accept(work_order=held, actor=STAFF)
    services.workorder_hold(work_order=held, actor=STAFF, reason="等配件")  # paused early
    paused_late = world.order(priority="urgent", description="挂起前已超时")
    met_late = world.order(priority="urgent", description="受理晚了")
    cancelled = world.order(priority="urgent", description="取消")
    now.advance(minutes=40)
    services.workorder_accept(work_order=met_late, actor=STAFF)  # response met, late
    services.workorder_accept(work_order=paused_late, actor=STAFF)
    services.workorder_cancel(work_order=cancelled, actor=STAFF, reason="不修了")
    # an order accepted 40 min late whose arrival clock (4 h) is then paused: not overdue
    services.workorder_hold(work_order=paused_late, actor=STAFF, reason="等客户")
    # an order without clocks (older than SLA clocks) keeps the window rule
    legacy = WorkOrderFactory(
        organization=world.org,
        customer=world.customer,
        status="scheduled",
        appointment_start=START - dt.timedelta(hours=3),
        appointment_end=START - dt.timedelta(hours=1),
    )
    now.advance(minutes=1)
    # when the agent asks for overdue orders
    found = set(NUMBER.findall(client_for(agent).get(QUEUE, {"overdue": "on"}).content.decode()))
    # then only the open order past an SLA due time, and the legacy one by its window
    assert found == {late.number, legacy.number}
    assert in_time.number not in found and held.number not in found
    # and once the arrival clock of the held order would be past due had it run, still not
    now.advance(hours=6)
    found = set(NUMBER.findall(client_for(agent).get(QUEUE, {"overdue": "on"}).content.decode()))
    assert held.number not in found and paused_late.number not in found
    assert late.number in found and met_late.number in found  # arrival 4 h now past due
