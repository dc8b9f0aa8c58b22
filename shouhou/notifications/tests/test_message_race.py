"""Workers racing to send the same messages (PostgreSQL: real concurrent UPDATEs)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.channels import FakeWeChatAdapter
from shouhou.notifications.messaging import message_send
from shouhou.notifications.models import Message
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_senders_send_each_message_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip("threads racing on UPDATEs need PostgreSQL (SQLite serialises writers)")
    settings.NOTIFICATION_CHANNELS = {"wechat": "shouhou.notifications.channels.FakeWeChatAdapter"}
    FakeWeChatAdapter.reset()
    order = WorkOrderFactory()
    now = timezone.now()
    ids = []
    for i in range(20):
        ev = WorkOrderEvent.objects.create(
            work_order=order, type=EventType.EN_ROUTE, created_at=now
        )
        ids.append(
            Message.objects.create(
                organization=order.organization,
                work_order=order,
                event=ev,
                kind="en_route",
                audience="customer",
                channel="wechat",
                address=f"openid-{i}",
                language="zh-hans",
                body="hi",
                next_attempt_at=now,
            ).pk
        )
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            barrier.wait()
            for pk in ids:
                message_send(message_id=pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(c.message_id for c in FakeWeChatAdapter.behaviour.calls) == sorted(ids)
    assert set(Message.objects.values_list("state", "attempts")) == {("sent", 1)}
    FakeWeChatAdapter.reset()
