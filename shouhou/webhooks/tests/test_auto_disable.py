"""Automatic disabling: an endpoint whose every attempt failed for WEBHOOK_DISABLE_AFTER_SECONDS
is disabled by the periodic job with the reason recorded and shown; enabling it clears that."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from shouhou.core.scheduler import registered_jobs
from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.services import event_deliver
from shouhou.webhooks.models import WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.services import (
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
    webhook_endpoints_disable_failing,
    webhook_sweep,
)
from shouhou.workorders.choices import EventType
from shouhou.workorders.services import Actor, workorder_log

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _send(org) -> WebhookDelivery:
    order = WorkOrderFactory(organization=org)
    event = workorder_log(work_order=order, type=EventType.URGED, actor=Actor.system(), data={})
    event_deliver(event_id=event.pk)
    delivery = WebhookDelivery.objects.get(event=event)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _failing_for(endpoint: WebhookEndpoint, period: dt.timedelta) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - period)


def test_the_failure_clock_starts_at_the_first_failure_and_stops_at_a_success(org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500, 502]
    before = timezone.now()
    _send(org_a)
    endpoint.refresh_from_db()
    started = endpoint.failing_since
    assert started is not None and started >= before
    _send(org_a)  # a second failure does not move the clock
    endpoint.refresh_from_db()
    assert endpoint.failing_since == started
    _send(org_a)  # 200
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_an_endpoint_failing_for_three_days_is_disabled_with_the_reason(org_a, receiver):
    # given an endpoint whose attempts have all failed, the last with HTTP 503
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [503]
    _send(org_a)
    _failing_for(endpoint, 3 * DAY + dt.timedelta(minutes=1))
    # when the job runs (default period: 3 days)
    now = timezone.now()
    assert webhook_endpoints_disable_failing(now=now) == [endpoint.pk]
    # then it is disabled with the reason and the last error recorded
    endpoint.refresh_from_db()
    assert (
        endpoint.is_active,
        endpoint.disabled_reason,
        endpoint.disabled_detail,
        endpoint.disabled_at,
    ) == (False, "failing", "HTTP 503", now)
    # and nothing more is sent to it
    order = WorkOrderFactory(organization=org_a)
    event_deliver(
        event_id=workorder_log(
            work_order=order, type=EventType.URGED, actor=Actor.system(), data={}
        ).pk
    )
    assert WebhookDelivery.objects.count() == 1


def test_an_endpoint_failing_for_less_than_the_period_stays_active(org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, 3 * DAY - dt.timedelta(minutes=1))
    assert webhook_endpoints_disable_failing() == []
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (True, "")


def test_a_success_stops_the_clock_so_the_endpoint_stays_active(org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, 4 * DAY)
    _send(org_a)  # succeeds
    assert webhook_endpoints_disable_failing() == []
    endpoint.refresh_from_db()
    assert endpoint.is_active is True


def test_the_period_is_a_setting_and_zero_never_disables(org_a, receiver, settings):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, dt.timedelta(hours=2))
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 0
    assert webhook_endpoints_disable_failing() == []
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    assert webhook_endpoints_disable_failing() == [endpoint.pk]


def test_enabling_again_clears_the_reason_and_restarts_the_clock(org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, 5 * DAY)
    webhook_endpoints_disable_failing()
    endpoint = webhook_endpoint_set_active(endpoint=endpoint, is_active=True)
    assert (
        endpoint.is_active,
        endpoint.disabled_reason,
        endpoint.disabled_detail,
        endpoint.disabled_at,
        endpoint.failing_since,
    ) == (True, "", "", None, None)
    # the old failures do not disable it again at the next run
    assert webhook_endpoints_disable_failing() == []


def test_the_reason_is_shown_on_the_console(alice, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, 4 * DAY)
    webhook_endpoints_disable_failing()
    client = Client()
    client.force_login(alice)
    client.cookies["shouhou_language"] = "en"
    detail = client.get(f"/console/webhooks/{endpoint.pk}/").content.decode()
    assert 'data-disabled-reason="failing"' in detail
    assert "Disabled automatically: every delivery failed" in detail
    assert "<code>HTTP 500</code>" in detail
    listing = client.get("/console/webhooks/").content.decode()
    assert "Disabled automatically: every delivery failed" in listing
    # and re-enabling from the console clears it
    client.post(f"/console/webhooks/{endpoint.pk}/enable/")
    assert (
        "data-disabled-reason"
        not in client.get(f"/console/webhooks/{endpoint.pk}/").content.decode()
    )


def test_the_periodic_job_is_registered_and_disables(org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    _send(org_a)
    _failing_for(endpoint, 4 * DAY)
    job = registered_jobs()["webhooks.disable_failing"]
    assert job.every == dt.timedelta(hours=1)
    job.func()
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "failing")


def test_the_sweeper_leaves_a_disabled_endpoints_deliveries_waiting(org_a, receiver, settings):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.statuses = [500]
    delivery = _send(org_a)
    webhook_endpoint_set_active(endpoint=endpoint, is_active=False)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert webhook_sweep() == set()
    webhook_endpoint_set_active(endpoint=endpoint, is_active=True)
    assert webhook_sweep() == {delivery.pk}
