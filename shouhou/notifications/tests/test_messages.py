"""Messages to people: planning, templates, languages, quiet hours, preferences, the inbox."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import (
    CustomerFactory,
    MembershipFactory,
    OrganizationFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
)
from shouhou.notifications.choices import MessageState
from shouhou.notifications.handlers import notify
from shouhou.notifications.messaging import (
    follow_ups_create,
    inbox_for,
    inbox_unread_count,
    message_mark_read,
    message_send,
    messages_create_for_event,
    messages_due,
)
from shouhou.notifications.models import Message, NotificationPreference, NotificationTemplate
from shouhou.notifications.services import event_deliver
from shouhou.workorders.choices import EventType, Priority, WorkOrderStatus
from shouhou.workorders.models import WorkOrderEvent

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAYTIME = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
NIGHT = dt.datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)


@pytest.fixture
def order(db):
    org = OrganizationFactory()
    alice = UserFactory(display_name="Alice", email="alice@example.com")
    NotificationPreference.objects.create(user=alice, wechat_openid="openid-alice")
    customer = CustomerFactory(organization=org, user=alice, phone="+8613700000001")
    bob = UserFactory(display_name="Bob", phone="+8613912345678")
    technician = TechnicianFactory(organization=org, user=bob)
    return WorkOrderFactory(
        organization=org,
        customer=customer,
        technician=technician,
        status=WorkOrderStatus.ASSIGNED,
        priority=Priority.NORMAL,
    )


def event(work_order, type_, **fields):
    fields.setdefault("created_at", timezone.now())
    return WorkOrderEvent.objects.create(work_order=work_order, type=type_, **fields)


def by_channel(messages):
    return {(m.audience, m.channel): m for m in messages}


def test_on_the_way_tells_the_customer_on_every_channel_they_have(order):
    # given Alice (login, email, WeChat openid) and Bob on the way with an ETA
    ev = event(order, EventType.EN_ROUTE, data={"eta": "2026-11-23T03:30:00+00:00"})
    # when the event is turned into messages in the daytime
    messages_create_for_event(event=ev, now=DAYTIME)
    # then the customer gets in-app, WeChat, email and SMS; the technician nothing
    got = by_channel(Message.objects.filter(event=ev))
    assert set(got) == {
        ("customer", "inapp"),
        ("customer", "wechat"),
        ("customer", "email"),
        ("customer", "sms"),
    }
    sms = got["customer", "sms"]
    assert sms.address == "+8613700000001"
    assert sms.language == "zh-hans"
    # the body names the technician with a masked phone and the local ETA
    assert "Bob" in sms.body and "139****5678" in sms.body and "11:30" in sms.body
    assert got["customer", "wechat"].address == "openid-alice"
    assert all(m.state == MessageState.QUEUED for m in got.values())


def test_assignment_tells_customer_and_technician(order):
    ev = event(order, EventType.TECHNICIAN_ASSIGNED)
    messages_create_for_event(event=ev, now=DAYTIME)
    got = by_channel(Message.objects.filter(event=ev))
    assert ("technician", "inapp") in got and ("technician", "webpush") in got
    assert got["technician", "inapp"].recipient == order.technician.user
    assert order.number in got["technician", "inapp"].body
    assert ("customer", "sms") in got


def test_running_the_consumer_twice_makes_each_message_once(order, register_consumer):
    # given the notifications consumer on the delivery layer
    register_consumer("notifications", notify, atomic=True)
    ev = event(order, EventType.COMPLETED)
    # when the event is delivered, then delivered again, and the planner run again too
    event_deliver(event_id=ev.pk, worker_id="w1")
    first = set(Message.objects.filter(event=ev).values_list("pk", flat=True))
    event_deliver(event_id=ev.pk, worker_id="w2")
    assert messages_create_for_event(event=ev) == []
    # then the same messages exist, once each
    assert first and set(Message.objects.filter(event=ev).values_list("pk", flat=True)) == first


def test_language_follows_the_recipient(order):
    # given Alice prefers English, Bob has no preference
    order.customer.user.preferred_language = "en"
    order.customer.user.save()
    ev = event(order, EventType.TECHNICIAN_ASSIGNED)
    messages_create_for_event(event=ev, now=DAYTIME)
    got = by_channel(Message.objects.filter(event=ev))
    assert got["customer", "inapp"].language == "en"
    assert got["customer", "inapp"].body.startswith("Engineer Bob")
    assert got["technician", "inapp"].language == "zh-hans"
    assert got["technician", "inapp"].body.startswith("您有新工单")


def test_organisation_template_overrides_the_built_in_and_the_default(order):
    other = OrganizationFactory()
    common = {"kind": "completed", "audience": "customer", "channel": "sms", "language": "zh-hans"}
    NotificationTemplate.objects.create(organization=None, body="内置 {{ number }}", **common)
    NotificationTemplate.objects.create(organization=other, body="别家 {{ number }}", **common)
    ev = event(order, EventType.COMPLETED)
    messages_create_for_event(event=ev, now=DAYTIME)
    # the built-in row wins over the code default; another organisation's row is not used
    assert Message.objects.get(event=ev, channel="sms").body == f"内置 {order.number}"
    # and the organisation's own row wins over the built-in row
    NotificationTemplate.objects.create(
        organization=order.organization, body="本店 {{ number }}", **common
    )
    ev2 = event(order, EventType.COMPLETED)
    messages_create_for_event(event=ev2, now=DAYTIME)
    assert Message.objects.get(event=ev2, channel="sms").body == f"本店 {order.number}"
    # the in-app message still uses the default (templates are per channel)
    assert "已完成" in Message.objects.get(event=ev2, channel="inapp").body


def test_quiet_hours_defer_customer_messages_to_morning_but_not_the_inbox(order):
    ev = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev, now=NIGHT)
    got = by_channel(Message.objects.filter(event=ev))
    morning = dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    for channel in ("sms", "wechat", "email"):
        assert got["customer", channel].state == MessageState.DEFERRED
        assert got["customer", channel].next_attempt_at == morning
    assert got["customer", "inapp"].state == MessageState.QUEUED
    # sending before morning does nothing; in the morning it goes
    sms = got["customer", "sms"]
    assert message_send(message_id=sms.pk, now=NIGHT).state is None
    assert message_send(message_id=sms.pk, now=morning).state == MessageState.SENT


def test_customer_without_login_gets_default_quiet_hours(db):
    order = WorkOrderFactory(customer__phone="+8613700000009")
    ev = event(order, EventType.COMPLETED)
    messages_create_for_event(event=ev, now=NIGHT)
    sms = Message.objects.get(event=ev)
    assert (sms.channel, sms.state, sms.recipient) == ("sms", MessageState.DEFERRED, None)


def test_urgent_orders_are_excepted_from_quiet_hours(order):
    order.priority = Priority.URGENT
    order.save()
    ev = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev, now=NIGHT)
    assert set(Message.objects.filter(event=ev).values_list("state", flat=True)) == {"queued"}
    assert all(Message.objects.filter(event=ev).values_list("urgent", flat=True))


def test_quiet_hours_follow_the_preference(order):
    pref = order.customer.user.notification_preference
    pref.quiet_start, pref.quiet_end = dt.time(23, 45), dt.time(6, 0)
    pref.save()
    ev = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev, now=NIGHT)  # 23:30: before this user's quiet hours
    assert Message.objects.get(event=ev, channel="sms").state == MessageState.QUEUED
    pref.quiet_hours = False
    pref.save()
    ev2 = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev2, now=NIGHT + dt.timedelta(hours=1))
    assert Message.objects.get(event=ev2, channel="sms").state == MessageState.QUEUED


def test_disabled_channel_is_recorded_as_suppressed_and_never_sent(order):
    pref = order.customer.user.notification_preference
    pref.sms = False
    pref.save()
    ev = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev, now=DAYTIME)
    sms = Message.objects.get(event=ev, channel="sms")
    assert sms.state == MessageState.SUPPRESSED
    assert message_send(message_id=sms.pk, now=DAYTIME).state is None
    sms.refresh_from_db()
    assert (sms.state, sms.attempts, sms.sent_at) == (MessageState.SUPPRESSED, 0, None)


def test_urge_tells_the_technician_and_the_organisations_agents_and_admins(order):
    org = order.organization
    agent = MembershipFactory(organization=org, role="agent").user
    admin = MembershipFactory(organization=org, role="admin").user
    MembershipFactory(organization=org, role="finance")
    MembershipFactory(role="agent")  # another organisation
    ev = event(order, EventType.URGED, data={"count": 1})
    messages_create_for_event(event=ev, now=DAYTIME)
    staff = Message.objects.filter(event=ev, audience="staff")
    assert {m.recipient for m in staff} == {agent, admin}
    assert {m.channel for m in staff} == {"inapp"}
    assert Message.objects.filter(event=ev, audience="technician").count() == 2


def test_low_rating_tells_staff_and_a_good_one_does_not(order):
    agent = MembershipFactory(organization=order.organization, role="agent").user
    good = event(order, EventType.RATED, data={"average": "4.5"})
    bad = event(order, EventType.RATED, data={"average": "2.0"})
    messages_create_for_event(event=good, now=DAYTIME)
    messages_create_for_event(event=bad, now=DAYTIME)
    assert not Message.objects.filter(event=good).exists()
    low = Message.objects.get(event=bad)
    assert (low.recipient, low.kind) == (agent, "low_rating")
    assert "2.0" in low.body


def test_inbox_unread_count_and_mark_read(order):
    alice = order.customer.user
    for type_ in (EventType.EN_ROUTE, EventType.COMPLETED):
        ev = event(order, type_)
        for pk in messages_create_for_event(event=ev, now=DAYTIME):
            message_send(message_id=pk, now=DAYTIME)
    assert inbox_unread_count(user=alice) == 2
    first = inbox_for(user=alice).first()
    message_mark_read(user=alice, message_id=first.pk)
    assert inbox_unread_count(user=alice) == 1
    # someone else's message is not found
    with pytest.raises(Message.DoesNotExist):
        message_mark_read(user=order.technician.user, message_id=first.pk)


def test_the_sweeper_finds_due_and_abandoned_messages(order):
    ev = event(order, EventType.EN_ROUTE)
    messages_create_for_event(event=ev, now=NIGHT)
    morning = dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    deferred = set(Message.objects.filter(event=ev, state="deferred").values_list("pk", flat=True))
    assert not deferred & set(messages_due(now=morning - dt.timedelta(minutes=1)))
    assert deferred <= set(messages_due(now=morning + dt.timedelta(minutes=1)))


def test_follow_up_goes_48_hours_after_completion_once(order):
    order.status = WorkOrderStatus.COMPLETED
    order.save()
    completed = event(order, EventType.COMPLETED, created_at=DAYTIME)
    # not yet 48 hours later
    assert follow_ups_create(now=DAYTIME + dt.timedelta(hours=47)) == []
    # 48 hours later: the customer's follow-up on every channel they have
    later = DAYTIME + dt.timedelta(hours=48)
    created = follow_ups_create(now=later)
    follow_ups = Message.objects.filter(event=completed, kind="follow_up")
    assert set(created) == set(follow_ups.values_list("pk", flat=True))
    assert set(follow_ups.values_list("channel", flat=True)) == {"inapp", "wechat", "email", "sms"}
    assert "两天" in follow_ups.get(channel="inapp").body
    # the next run makes nothing more
    assert follow_ups_create(now=later + dt.timedelta(minutes=10)) == []


def test_assignment_eta_falls_back_to_the_appointment_window(order):
    order.appointment_start = dt.datetime(2026, 11, 24, 14, 0, tzinfo=SHANGHAI)
    order.appointment_end = dt.datetime(2026, 11, 24, 16, 0, tzinfo=SHANGHAI)
    order.save()
    ev = event(order, EventType.TECHNICIAN_ASSIGNED)
    messages_create_for_event(event=ev, now=DAYTIME)
    sms = Message.objects.get(event=ev, channel="sms")
    assert "预计2026-11-24 14:00–16:00到达" in sms.body
