"""The periodic expiry as a task and as a management command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from shouhou.dispatch.models import DispatchAttempt
from shouhou.dispatch.tasks import offers_expire
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = pytest.mark.django_db


def due_offer(crew, agent) -> DispatchAttempt:
    order = crew.order()
    workorder_accept(work_order=order, actor=Actor(agent, "agent"))
    DispatchAttempt.objects.filter(work_order=order).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return DispatchAttempt.objects.get(work_order=order)


def test_offers_expire_task_moves_a_due_offer_on(crew, agent):
    offer = due_offer(crew, agent)
    result = offers_expire.enqueue()
    assert result.return_value == 1
    offer.refresh_from_db()
    assert offer.outcome == "expired"
    assert DispatchAttempt.objects.get(work_order=offer.work_order, sequence=2).technician_id == (
        crew.ted.pk
    )
    assert offers_expire.enqueue().return_value == 0


def test_offers_expire_command(crew, agent):
    offer = due_offer(crew, agent)
    out = io.StringIO()
    call_command("offers_expire", stdout=out)
    assert out.getvalue() == "1 offer(s) or pool entries expired\n"
    offer.refresh_from_db()
    assert offer.outcome == "expired"
