"""The offer countdown and taking an offered job in a real phone-sized browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from shouhou.dispatch.models import DispatchAttempt
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tom_page(page, crew):
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill("13900000003")
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/tech/$"))
    page.context.add_cookies([{"name": "shouhou_language", "value": "en", "url": page.url}])
    return page


def test_offer_counts_down_and_taking_it_opens_the_job(tom_page, crew, agent):
    # given an offer to Tom
    order = crew.order()
    workorder_accept(work_order=order, actor=Actor(agent, "agent"))
    # when he opens his offers from the home page
    tom_page.goto("/tech/")
    tom_page.get_by_role("link", name="Offered jobs").click()
    # then the countdown shows minutes and seconds left
    timer = tom_page.locator(".countdown-value")
    timer.filter(has_text=re.compile(r"^[23]:\d\d$")).wait_for()
    # and taking the job opens it
    tom_page.get_by_role("button", name="Take this job").click()
    tom_page.wait_for_url(re.compile(rf"/tech/jobs/{order.number}/$"))
    tom_page.get_by_text("The job is yours.").wait_for()
    assert WorkOrder.objects.get(pk=order.pk).technician_id == crew.tom.pk


def test_an_offer_whose_time_runs_out_on_screen_disables_its_buttons(tom_page, crew, agent):
    # given an offer with two seconds left
    order = crew.order()
    workorder_accept(work_order=order, actor=Actor(agent, "agent"))
    DispatchAttempt.objects.filter(work_order=order).update(
        expires_at=timezone.now() + dt.timedelta(seconds=2)
    )
    # when Tom watches the page
    tom_page.goto("/tech/offers/")
    tom_page.locator(".countdown-value", has_text="Time is up").wait_for()
    # then he can no longer press the buttons
    assert tom_page.get_by_role("button", name="Take this job").is_disabled()
    assert tom_page.get_by_role("button", name="Decline").is_disabled()
