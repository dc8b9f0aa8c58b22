"""The inbox and preferences API: one's own messages only; preferences round-trip."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouhou.core.testing.factories import CustomerFactory, UserFactory, WorkOrderFactory
from shouhou.notifications.models import Message, NotificationPreference
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent


@pytest.fixture
def carol(db):
    return UserFactory(display_name="Carol")


@pytest.fixture
def inbox(carol):
    order = WorkOrderFactory(customer=CustomerFactory(user=carol))
    now = timezone.now()
    rows = []
    for i, type_ in enumerate((EventType.EN_ROUTE, EventType.COMPLETED)):
        ev = WorkOrderEvent.objects.create(work_order=order, type=type_, created_at=now)
        rows.append(
            Message.objects.create(
                organization=order.organization,
                work_order=order,
                event=ev,
                kind=type_,
                audience="customer",
                channel="inapp",
                recipient=carol,
                address=f"user:{carol.pk}",
                language="zh-hans",
                subject=f"s{i}",
                body=f"b{i}",
                state="sent",
                sent_at=now,
                next_attempt_at=now,
            )
        )
    return rows


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_inbox_lists_my_messages_and_marks_one_read(carol, inbox):
    api = client_for(carol)
    body = api.get("/api/v1/inbox/").json()
    assert body["unread"] == 2
    assert {m["id"] for m in body["results"]} == {m.pk for m in inbox}
    response = api.post(f"/api/v1/inbox/{inbox[0].pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert api.get("/api/v1/inbox/").json()["unread"] == 1


def test_someone_elses_message_is_404(carol, inbox):
    dave = UserFactory()
    api = client_for(dave)
    assert api.get("/api/v1/inbox/").json() == {"unread": 0, "results": []}
    assert api.post(f"/api/v1/inbox/{inbox[0].pk}/read/").status_code == 404
    inbox[0].refresh_from_db()
    assert inbox[0].read_at is None


def test_inbox_needs_a_login(db):
    assert APIClient().get("/api/v1/inbox/").status_code in {401, 403}


def test_preferences_default_then_change(carol):
    api = client_for(carol)
    got = api.get("/api/v1/me/notification-preferences/").json()
    assert got["sms"] is True and got["quiet_start"] == "22:00:00"
    response = api.put(
        "/api/v1/me/notification-preferences/",
        {"sms": False, "quiet_start": "21:30", "quiet_end": "07:00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    pref = NotificationPreference.objects.get(user=carol)
    assert (pref.sms, pref.quiet_start.hour, pref.quiet_start.minute) == (False, 21, 30)
    assert pref.wechat is True
