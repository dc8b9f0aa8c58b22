"""The real Web Push adapter (pywebpush) against the local push service (testing/webpush.py):
VAPID signatures checked, payloads decrypted, subscriptions cleaned up."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from shouhou.core.testing.factories import UserFactory, WorkOrderFactory
from shouhou.notifications.channels import (
    NotSubscribed,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    WebPushAdapter,
)
from shouhou.notifications.choices import MessageState
from shouhou.notifications.messaging import message_send
from shouhou.notifications.models import Message, PushSubscription
from shouhou.notifications.providers import private_key_b64, public_key_b64
from shouhou.notifications.testing.webpush import BrowserSubscription, FakePushService
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent


@pytest.fixture
def vapid(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private_key_b64(key)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public_key_b64(key)
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@shouhou.example"
    settings.WEBPUSH_TTL_SECONDS = 86400
    settings.WEBPUSH_TIMEOUT_SECONDS = 5
    settings.WEBPUSH_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    settings.NOTIFICATION_CHANNELS = {"webpush": "shouhou.notifications.channels.WebPushAdapter"}
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


@pytest.fixture
def push(vapid):
    service = FakePushService().start()
    yield service
    service.stop()


def subscribe(push: FakePushService, user, public_key: str) -> BrowserSubscription:
    browser = push.subscribe(public_key)
    PushSubscription.objects.create(
        user=user, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    return browser


def make_message(user, *, urgent: bool = False) -> Message:
    order = WorkOrderFactory()
    event = WorkOrderEvent.objects.create(
        work_order=order, type=EventType.TECHNICIAN_ASSIGNED, created_at=timezone.now()
    )
    return Message.objects.create(
        organization=order.organization,
        work_order=order,
        event=event,
        kind="assigned",
        audience="technician",
        channel="webpush",
        recipient=user,
        address=f"user:{user.pk}",
        language="zh-hans",
        urgent=urgent,
        subject="新工单",
        body="您有一张新工单,请尽快联系客户。",
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
    )


def test_payload_is_encrypted_signed_and_decrypts_to_the_message(db, push, vapid):
    # given a technician with one subscribed browser
    user = UserFactory()
    subscribe(push, user, vapid)
    message = make_message(user)
    # when
    provider_id = WebPushAdapter().send(message)
    # then the push service verified the VAPID JWT and decrypted exactly the message
    assert push.rejected == []
    assert len(push.received) == 1
    received = push.received[0]
    assert received.json() == {
        "title": "新工单",
        "body": "您有一张新工单,请尽快联系客户。",
        "url": f"/tech/jobs/{message.work_order.number}/",
        "tag": f"message-{message.pk}",
    }
    assert received.ttl == 86400
    assert received.urgency == "normal"
    assert received.claims["aud"] == push.base_url
    assert received.claims["sub"] == "mailto:ops@shouhou.example"
    assert provider_id == f"{push.base_url}/message/1"
    assert PushSubscription.objects.get(user=user).last_success_at is not None


def test_urgent_messages_ask_for_high_urgency(db, push, vapid):
    user = UserFactory()
    subscribe(push, user, vapid)
    WebPushAdapter().send(make_message(user, urgent=True))
    assert push.received[0].urgency == "high"


def test_every_browser_of_the_user_gets_it_and_nobody_else(db, push, vapid):
    # given two browsers of the technician and one of somebody else
    user, other = UserFactory(), UserFactory()
    phone, laptop = subscribe(push, user, vapid), subscribe(push, user, vapid)
    subscribe(push, other, vapid)
    # when
    WebPushAdapter().send(make_message(user))
    # then
    assert sorted(r.endpoint for r in push.received) == sorted([phone.endpoint, laptop.endpoint])
    assert {r.json()["title"] for r in push.received} == {"新工单"}


def test_a_gone_subscription_is_deleted_and_the_others_still_get_it(db, push, vapid):
    user = UserFactory()
    revoked = subscribe(push, user, vapid)
    kept = subscribe(push, user, vapid)
    push.unsubscribe(revoked)  # answers 410 Gone
    WebPushAdapter().send(make_message(user))
    assert [r.endpoint for r in push.received] == [kept.endpoint]
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]


@pytest.mark.parametrize("status", [404, 410])
def test_the_last_gone_subscription_fails_the_message_permanently(db, push, vapid, status):
    user = UserFactory()
    subscribe(push, user, vapid)
    push.answer_next(status)
    message = make_message(user)
    assert message_send(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert f"HTTP {status}" in message.last_error
    assert PushSubscription.objects.count() == 0


def test_429_defers_by_retry_after_and_keeps_the_subscription(db, push, vapid):
    user = UserFactory()
    subscribe(push, user, vapid)
    push.answer_next(429, retry_after="120")
    message = make_message(user)
    before = timezone.now()
    result = message_send(message_id=message.pk, now=before)
    message.refresh_from_db()
    assert (result.state, message.state) == ("deferred", "deferred")
    assert message.next_attempt_at == before + dt.timedelta(seconds=120)
    assert PushSubscription.objects.count() == 1
    assert push.received == []


def test_429_without_retry_after_waits_a_minute(db, push, vapid):
    user = UserFactory()
    subscribe(push, user, vapid)
    push.answer_next(429)
    with pytest.raises(RateLimited) as raised:
        WebPushAdapter().send(make_message(user))
    assert raised.value.retry_after == 60.0


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_temporary(db, push, vapid, status):
    user = UserFactory()
    subscribe(push, user, vapid)
    push.answer_next(status)
    with pytest.raises(TemporaryFailure, match=f"HTTP {status}"):
        WebPushAdapter().send(make_message(user))
    assert PushSubscription.objects.count() == 1


def test_a_network_error_is_temporary(db, push, vapid):
    user = UserFactory()
    subscribe(push, user, vapid)
    message = make_message(user)
    push.stop()
    with pytest.raises(TemporaryFailure):
        WebPushAdapter().send(message)


def test_one_browser_delivered_is_enough_when_another_is_busy(db, push, vapid):
    user = UserFactory()
    busy = subscribe(push, user, vapid)
    fine = subscribe(push, user, vapid)
    push.answer_next(500, subscription=busy)
    WebPushAdapter().send(make_message(user))
    assert [r.endpoint for r in push.received] == [fine.endpoint]


def test_no_subscription_is_recorded_as_suppressed(db, push, vapid):
    user = UserFactory()
    message = make_message(user)
    with pytest.raises(NotSubscribed):
        WebPushAdapter().send(message)
    assert message_send(message_id=message.pk).state == MessageState.SUPPRESSED
    message.refresh_from_db()
    assert message.state == "suppressed"
    assert "no browser subscribed" in message.last_error


def test_a_subscription_made_with_another_vapid_key_is_refused_by_the_service(db, push, vapid):
    # the browser subscribed with another site's key: the push service answers 403
    user = UserFactory()
    other_key = public_key_b64(ec.generate_private_key(ec.SECP256R1()))
    subscribe(push, user, other_key)
    with pytest.raises(PermanentFailure, match="HTTP 403"):
        WebPushAdapter().send(make_message(user))
    assert push.rejected[0][1] == 403
    assert push.received == []


def test_endpoints_at_private_addresses_are_not_posted_to(db, push, vapid, settings):
    settings.WEBPUSH_ALLOW_HTTP_HOSTS = []
    user = UserFactory()
    subscribe(push, user, vapid)
    with pytest.raises(PermanentFailure, match="private address"):
        WebPushAdapter().send(make_message(user))
    assert push.received == [] and push.rejected == []


def test_the_fake_service_refuses_a_token_signed_with_another_key(db, push, vapid, settings):
    # the adapter signs with a key whose public half does not match what the JWT's k says:
    # simulate by subscribing with the right key but signing with a different private key
    user = UserFactory()
    subscribe(push, user, vapid)
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private_key_b64(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(PermanentFailure, match="HTTP 403"):
        WebPushAdapter().send(make_message(user))
    assert push.received == []


def test_a_bad_address_is_permanent(db, push, vapid):
    user = UserFactory()
    message = make_message(user)
    message.address = "someone@example.com"
    with pytest.raises(PermanentFailure, match="user:<id>"):
        WebPushAdapter().send(message)
