"""Organisation admins edit their own templates (defaults read-only) and resend failed messages."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from shouhou.core.testing.factories import OrganizationFactory, WorkOrderFactory
from shouhou.notifications.channels import FakeWeChatAdapter
from shouhou.notifications.models import Message, NotificationTemplate
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent

COMMON = {"kind": "completed", "audience": "customer", "channel": "sms", "language": "zh-hans"}


def test_org_admin_sees_own_and_built_in_templates_and_edits_only_their_own(client, alice, org_a):
    built_in = NotificationTemplate.objects.create(organization=None, body="内置", **COMMON)
    own = NotificationTemplate.objects.create(organization=org_a, body="本店", **COMMON)
    theirs = NotificationTemplate.objects.create(
        organization=OrganizationFactory(), body="别家", **COMMON
    )
    client.force_login(alice)
    changelist = client.get(reverse("admin:notifications_notificationtemplate_changelist"))
    shown = set(changelist.context["cl"].result_list)
    assert shown == {built_in, own}
    # another organisation's row is 404; the built-in one cannot be changed
    url = "admin:notifications_notificationtemplate_change"
    assert client.get(reverse(url, args=[theirs.pk])).status_code == 404
    post = {**COMMON, "organization": org_a.pk, "subject": "", "body": "改了"}
    client.post(reverse(url, args=[built_in.pk]), post)
    built_in.refresh_from_db()
    assert built_in.body == "内置"
    # their own row they edit; a broken template is refused with a message
    response = client.post(reverse(url, args=[own.pk]), {**post, "body": "{% if %}"})
    assert response.status_code == 200 and "body" in response.context["adminform"].form.errors
    client.post(reverse(url, args=[own.pk]), post)
    own.refresh_from_db()
    assert own.body == "改了"


def test_send_again_sends_a_failed_message_once(
    client, alice, org_a, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = {"wechat": "shouhou.notifications.channels.FakeWeChatAdapter"}
    order = WorkOrderFactory(organization=org_a)
    now = timezone.now()
    ev = WorkOrderEvent.objects.create(work_order=order, type=EventType.EN_ROUTE, created_at=now)
    message = Message.objects.create(
        organization=org_a,
        work_order=order,
        event=ev,
        kind="en_route",
        audience="customer",
        channel="wechat",
        address="openid",
        language="zh-hans",
        body="hi",
        state="failed",
        attempts=6,
        next_attempt_at=now - dt.timedelta(hours=1),
    )
    client.force_login(alice)
    url = reverse("admin:notifications_message_changelist")
    FakeWeChatAdapter.reset()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"action": "send_again", "_selected_action": [message.pk]}, follow=True
        )
    assert response.status_code == 200
    message.refresh_from_db()
    # the immediate task backend sent it after the commit
    assert (message.state, message.attempts) == ("sent", 7)
    assert [c.message_id for c in FakeWeChatAdapter.behaviour.calls] == [message.pk]
    FakeWeChatAdapter.reset()
