"""The inbox page, its unread badge, mark as read, and the preferences page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import CustomerFactory, UserFactory, WorkOrderFactory
from shouhou.notifications.models import Message, NotificationPreference
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent


@pytest.fixture
def erin(db):
    return UserFactory(display_name="Erin")


@pytest.fixture
def unread(erin):
    order = WorkOrderFactory(customer=CustomerFactory(user=erin))
    now = timezone.now()
    ev = WorkOrderEvent.objects.create(work_order=order, type=EventType.EN_ROUTE, created_at=now)
    return Message.objects.create(
        organization=order.organization,
        work_order=order,
        event=ev,
        kind="en_route",
        audience="customer",
        channel="inapp",
        recipient=erin,
        address=f"user:{erin.pk}",
        language="zh-hans",
        subject="工程师已出发",
        body="工程师张师傅已出发",
        state="sent",
        sent_at=now,
        next_attempt_at=now,
    )


def test_header_loads_the_badge_and_the_badge_counts_unread(client, erin, unread):
    client.force_login(erin)
    home = client.get("/my/")
    assert 'hx-get="/inbox/badge/"' in home.content.decode()
    badge = client.get("/inbox/badge/").content.decode()
    assert 'class="badge orange"' in badge and ">1</span>" in badge


def test_inbox_shows_my_message_and_marks_it_read(client, erin, unread):
    client.force_login(erin)
    page = client.get("/inbox/").content.decode()
    assert "工程师张师傅已出发" in page
    response = client.post(f"/inbox/{unread.pk}/read/")
    assert response.status_code == 302
    unread.refresh_from_db()
    assert unread.read_at is not None
    assert "badge" not in client.get("/inbox/badge/").content.decode()


def test_someone_elses_message_is_404_and_not_listed(client, unread):
    frank = UserFactory()
    client.force_login(frank)
    assert "工程师张师傅已出发" not in client.get("/inbox/").content.decode()
    assert client.post(f"/inbox/{unread.pk}/read/").status_code == 404
    unread.refresh_from_db()
    assert unread.read_at is None


def test_inbox_needs_a_login(client, db):
    assert client.get("/inbox/").status_code == 302


def test_preferences_page_saves_channels_and_quiet_hours(client, erin):
    client.force_login(erin)
    assert client.get("/inbox/settings/").status_code == 200
    response = client.post(
        "/inbox/settings/",
        {
            "sms": "on",
            "email": "on",
            "quiet_hours": "on",
            "quiet_start": "21:00",
            "quiet_end": "07:30",
        },
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=erin)
    assert (pref.sms, pref.wechat, pref.webpush) == (True, False, False)
    assert (pref.quiet_start.hour, pref.quiet_end.minute) == (21, 30)
