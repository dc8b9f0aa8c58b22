"""Webhooks end to end against a real local HTTP receiver that checks signatures itself."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.services import event_deliver
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery
from shouhou.webhooks.services import (
    WebhookUrlInvalid,
    webhook_deliver,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_secret_rotate,
    webhook_sweep,
)
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor, workorder_add_note, workorder_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def work_order(org_a) -> WorkOrder:
    return WorkOrderFactory(organization=org_a)


def _urge(work_order: WorkOrder) -> WorkOrderEvent:
    return workorder_log(
        work_order=work_order, type=EventType.URGED, actor=Actor.system(), data={"count": 1}
    )


def test_an_event_reaches_the_endpoint_signed_and_logged(
    receiver, org_a, work_order, django_capture_on_commit_callbacks
):
    # given an endpoint of organisation A
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    # when an event of A's order commits (immediate backend: delivery runs at once)
    with django_capture_on_commit_callbacks(execute=True):
        event = _urge(work_order)
    # then the receiver got one POST that verifies with the endpoint's secret
    (request,) = receiver.requests
    assert receiver.verifies(request, endpoint.secret)
    body = json.loads(request["body"])
    assert (body["id"], body["type"], body["work_order"]["number"]) == (
        event.pk,
        "urged",
        work_order.number,
    )
    delivery = WebhookDelivery.objects.get()
    assert request["headers"]["Shouhou-Delivery"] == f"whd_{delivery.pk}"
    assert request["headers"]["Shouhou-Event"] == "urged"
    assert (delivery.state, delivery.last_status_code, delivery.attempts) == ("delivered", 200, 1)
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [200]


def test_a_failing_receiver_is_retried_with_backoff_and_every_answer_logged(
    receiver, org_a, work_order
):
    receiver.statuses = [503, 500]
    webhook_endpoint_create(organization=org_a, url=receiver.url)
    event_deliver(event_id=_urge(work_order).pk)
    delivery = WebhookDelivery.objects.get()

    before = timezone.now()
    report = webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("retrying", 503)
    assert report.retry_at == delivery.next_attempt_at
    assert before + dt.timedelta(seconds=30) <= delivery.next_attempt_at
    # not due yet: nothing is sent
    assert webhook_deliver(delivery_id=delivery.pk).attempt is None

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    before = timezone.now()
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert before + dt.timedelta(seconds=60) <= delivery.next_attempt_at

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_deliver(delivery_id=delivery.pk).sent is True
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [503, 500, 200]
    # the same delivery id on every attempt, so the receiver can dedupe
    assert {r["headers"]["Shouhou-Delivery"] for r in receiver.requests} == {f"whd_{delivery.pk}"}


def test_retries_stop_24_hours_after_the_event(receiver, org_a, work_order):
    receiver.statuses = [500]
    webhook_endpoint_create(organization=org_a, url=receiver.url)
    event = _urge(work_order)
    WorkOrderEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=24)
    )
    event_deliver(event_id=event.pk)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == ("failed", "HTTP 500")


def test_after_rotation_both_secrets_sign_until_the_grace_period_ends(receiver, org_a, work_order):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    old_secret = endpoint.secret
    endpoint = webhook_secret_rotate(endpoint=endpoint, grace=dt.timedelta(hours=1))
    assert endpoint.secret != old_secret
    event_deliver(event_id=_urge(work_order).pk)
    webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
    (during,) = receiver.requests
    assert receiver.verifies(during, old_secret) and receiver.verifies(during, endpoint.secret)

    # after the grace period only the new secret signs
    type(endpoint).objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    event_deliver(event_id=_urge(work_order).pk)
    webhook_deliver(delivery_id=WebhookDelivery.objects.order_by("-pk").first().pk)
    after = receiver.requests[1]
    assert receiver.verifies(after, endpoint.secret)
    assert not receiver.verifies(after, old_secret)


def test_internal_events_and_other_organisations_endpoints_get_nothing(
    receiver, org_a, org_b, work_order
):
    webhook_endpoint_create(organization=org_b, url=receiver.url)  # B's endpoint, A's order
    webhook_endpoint_create(
        organization=org_a, url=receiver.url, event_types=[EventType.STATUS_CHANGED]
    )
    event_deliver(event_id=_urge(work_order).pk)  # A wants only status changes
    note = workorder_add_note(work_order=work_order, actor=Actor.system(), text="internal")
    event_deliver(event_id=note.pk)
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_replay_sends_the_same_delivery_again(receiver, org_a, work_order):
    webhook_endpoint_create(organization=org_a, url=receiver.url)
    event_deliver(event_id=_urge(work_order).pk)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver(delivery_id=delivery.pk)
    webhook_delivery_replay(delivery=delivery)
    webhook_deliver(delivery_id=delivery.pk)
    assert [r["headers"]["Shouhou-Delivery"] for r in receiver.requests] == [
        f"whd_{delivery.pk}"
    ] * 2
    assert WebhookAttempt.objects.count() == 2


def test_only_https_urls_are_accepted(org_a, settings):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = []
    with pytest.raises(WebhookUrlInvalid):
        webhook_endpoint_create(organization=org_a, url="http://example.com/hooks")
    assert webhook_endpoint_create(organization=org_a, url="https://example.com/hooks").secret


def test_a_url_resolving_to_a_private_address_is_not_called(org_a, work_order, settings):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = []
    webhook_endpoint_create(organization=org_a, url="https://127.0.0.1:9/hooks")
    event_deliver(event_id=_urge(work_order).pk)
    webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "private address" in attempt.error


def test_sweeper_hands_back_a_send_whose_worker_died(receiver, org_a, work_order):
    # given a delivery claimed by a worker that died mid-request
    webhook_endpoint_create(organization=org_a, url=receiver.url)
    event_deliver(event_id=_urge(work_order).pk)
    WebhookDelivery.objects.update(
        state="running", attempts=1, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    delivery = WebhookDelivery.objects.get()
    # when the sweeper runs, then it is handed back, and the next send delivers it
    assert webhook_sweep() == {delivery.pk}
    assert webhook_deliver(delivery_id=delivery.pk).sent is True
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert webhook_sweep() == set()
