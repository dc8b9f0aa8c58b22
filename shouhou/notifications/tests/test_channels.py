"""Each channel through its local fake: success, back-off, rate limits, refusals; sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from shouhou.core.sms import FakeSmsBackend
from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications import channels
from shouhou.notifications.choices import MessageState
from shouhou.notifications.messaging import _claim, message_resend, message_send
from shouhou.notifications.models import Message
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai

FAKES = {
    "sms": channels.FakeSmsAdapter,
    "wechat": channels.FakeWeChatAdapter,
    "webpush": channels.FakeWebPushAdapter,
    "email": channels.FakeEmailAdapter,
}


@pytest.fixture(autouse=True)
def fakes(settings):
    settings.NOTIFICATION_CHANNELS = {
        name: f"{fake.__module__}.{fake.__qualname__}" for name, fake in FAKES.items()
    }
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    for fake in FAKES.values():
        fake.reset()
    FakeSmsBackend.reset()
    yield
    for fake in FAKES.values():
        fake.reset()


def make_message(channel: str, address: str = "+8613700000001") -> Message:
    order = WorkOrderFactory()
    ev = WorkOrderEvent.objects.create(work_order=order, type=EventType.EN_ROUTE, created_at=NOW)
    return Message.objects.create(
        organization=order.organization,
        work_order=order,
        event=ev,
        kind="en_route",
        audience="customer",
        channel=channel,
        address=address,
        language="zh-hans",
        subject="工程师已出发",
        body="工程师已出发",
        next_attempt_at=NOW,
    )


@pytest.mark.parametrize("channel", sorted(FAKES))
def test_success_records_the_provider_id_and_one_call(db, channel):
    message = make_message(channel)
    assert message_send(message_id=message.pk, now=NOW).state == MessageState.SENT
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, NOW)
    assert message.provider_id.startswith(f"{channel}-")
    assert [c.message_id for c in FAKES[channel].behaviour.calls] == [message.pk]
    # a second send (a duplicate task) does nothing: never sent twice
    assert message_send(message_id=message.pk, now=NOW + dt.timedelta(hours=1)).state is None
    assert len(FAKES[channel].behaviour.calls) == 1


@pytest.mark.parametrize("channel", sorted(FAKES))
def test_temporary_failure_backs_off_exponentially_then_gives_up(db, channel):
    FAKES[channel].behaviour.fail_next = 5
    message = make_message(channel)
    # first failure: retry in 30 s
    result = message_send(message_id=message.pk, now=NOW)
    assert (result.state, result.retry_at) == ("deferred", NOW + dt.timedelta(seconds=30))
    # not due yet: nothing happens
    assert message_send(message_id=message.pk, now=NOW + dt.timedelta(seconds=29)).state is None
    # second failure: 60 s later
    t2 = NOW + dt.timedelta(seconds=30)
    assert message_send(message_id=message.pk, now=t2).retry_at == t2 + dt.timedelta(seconds=60)
    # third failure hits the cap (3 attempts): failed, with the error kept
    assert message_send(message_id=message.pk, now=t2 + dt.timedelta(seconds=60)).state == "failed"
    message.refresh_from_db()
    assert message.attempts == 3 and "temporarily unavailable" in message.last_error
    assert FAKES[channel].behaviour.calls == []
    # the admin's "send again" queues it; it then goes out once
    message_resend(message=message, now=t2 + dt.timedelta(minutes=5))
    FAKES[channel].behaviour.fail_next = 0
    assert message_send(message_id=message.pk, now=t2 + dt.timedelta(minutes=5)).state == "sent"
    assert len(FAKES[channel].behaviour.calls) == 1


@pytest.mark.parametrize("channel", sorted(FAKES))
def test_rate_limit_defers_to_the_time_the_provider_names(db, channel):
    FAKES[channel].behaviour.rate_limit_next = 1
    FAKES[channel].behaviour.retry_after = 120
    message = make_message(channel)
    result = message_send(message_id=message.pk, now=NOW)
    assert (result.state, result.retry_at) == ("deferred", NOW + dt.timedelta(seconds=120))
    message.refresh_from_db()
    assert "too many requests" in message.last_error
    assert message_send(message_id=message.pk, now=NOW + dt.timedelta(seconds=119)).state is None
    assert message_send(message_id=message.pk, now=NOW + dt.timedelta(seconds=120)).state == "sent"


@pytest.mark.parametrize("channel", sorted(FAKES))
def test_permanent_failure_fails_at_once(db, channel):
    FAKES[channel].behaviour.reject_next = 1
    message = make_message(channel)
    assert message_send(message_id=message.pk, now=NOW).state == "failed"
    message.refresh_from_db()
    assert (message.attempts, message.sent_at) == (1, None)
    assert "refused" in message.last_error


def test_in_app_send_stamps_the_inbox_row(db):
    message = make_message("inapp", address="user:1")
    assert message_send(message_id=message.pk, now=NOW).state == "sent"
    message.refresh_from_db()
    assert message.provider_id == f"inapp-{message.pk}"


def test_sms_adapter_over_core_sms(db, settings):
    settings.NOTIFICATION_CHANNELS = {}  # the real adapters: SmsAdapter over SMS_BACKEND (fake)
    FakeSmsBackend.fail_next = 1
    message = make_message("sms")
    assert message_send(message_id=message.pk, now=NOW).state == "deferred"
    assert message_send(message_id=message.pk, now=NOW + dt.timedelta(seconds=30)).state == "sent"
    sent = [(m.phone, m.text) for m in FakeSmsBackend.outbox]
    assert sent == [("+8613700000001", "工程师已出发")]


def test_email_adapter_over_django_mail(db, settings):
    settings.NOTIFICATION_CHANNELS = {}
    message = make_message("email", address="alice@example.com")
    assert message_send(message_id=message.pk, now=NOW).state == "sent"
    [email] = mail.outbox
    assert email.to == ["alice@example.com"] and email.subject == "工程师已出发"
    assert email.extra_headers["Message-ID"] == f"<message-{message.pk}@shouhou>"


def test_wechat_real_adapter_is_not_configured(db, settings):
    real = "shouhou.notifications.channels.WeChatTemplateAdapter"
    settings.NOTIFICATION_CHANNELS = {"wechat": real}
    message = make_message("wechat", address="openid")
    assert message_send(message_id=message.pk, now=NOW).state == "failed"


def test_only_one_claim_wins_and_an_abandoned_claim_is_retaken(db):
    message = make_message("wechat")
    assert _claim(message.pk, NOW) is True
    assert _claim(message.pk, NOW) is False  # a concurrent worker loses the conditional UPDATE
    # the first worker died: after the lease the message is due again
    assert _claim(message.pk, NOW + dt.timedelta(minutes=5)) is False
    assert _claim(message.pk, NOW + dt.timedelta(minutes=11)) is True
    message.refresh_from_db()
    assert message.attempts == 2
