"""The outbox sweeper hands back work nobody is doing, and nothing else."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shouhou.notifications.choices import DeliveryState
from shouhou.notifications.models import EventDelivery
from shouhou.notifications.services import outbox_sweep
from shouhou.notifications.tasks import sweep_outbox
from shouhou.workorders.models import WorkOrderEvent

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _age(event_id: int, seconds: int) -> None:
    WorkOrderEvent.objects.filter(pk=event_id).update(
        created_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_recent_events_are_left_to_their_own_task(settings, register_consumer, add_event):
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    add_event()
    report = outbox_sweep()
    assert report.enqueue == set() and EventDelivery.objects.count() == 0


def test_old_event_without_deliveries_gets_rows_and_is_enqueued_once(
    settings, register_consumer, add_event
):
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    event_id = add_event()
    _age(event_id, 61)
    assert outbox_sweep().enqueue == {event_id}
    row = EventDelivery.objects.get()
    assert (row.event_id, row.consumer, row.state) == (event_id, "c", DeliveryState.PENDING)
    # the next sweep leaves it to the task it just enqueued
    assert outbox_sweep().enqueue == set()


def test_expired_claim_is_handed_back_and_enqueued(settings, register_consumer, add_event):
    register_consumer("c", lambda e, d: None)
    event_id = add_event()
    EventDelivery.objects.create(
        event_id=event_id,
        consumer="c",
        state=DeliveryState.RUNNING,
        attempts=1,
        claimed_by="dead-worker",
        claimed_until=timezone.now() - dt.timedelta(seconds=1),
        next_attempt_at=timezone.now(),
    )
    report = outbox_sweep()
    row = EventDelivery.objects.get()
    assert report.enqueue == {event_id} and report.leases_expired == 1
    assert row.state == DeliveryState.RETRYING and "worker was lost" in row.last_error


def test_live_claim_is_left_alone(settings, register_consumer, add_event):
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    event_id = add_event()
    _age(event_id, 600)
    EventDelivery.objects.create(
        event_id=event_id,
        consumer="c",
        state=DeliveryState.RUNNING,
        claimed_until=timezone.now() + dt.timedelta(seconds=60),
        next_attempt_at=timezone.now() - dt.timedelta(seconds=600),
    )
    assert outbox_sweep().enqueue == set()
    assert EventDelivery.objects.get().state == DeliveryState.RUNNING


def test_due_delivery_nobody_picked_up_is_enqueued(settings, register_consumer, add_event):
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    event_id = add_event()
    long_ago = timezone.now() - dt.timedelta(seconds=61)
    EventDelivery.objects.create(
        event_id=event_id, consumer="c", state=DeliveryState.RETRYING, next_attempt_at=long_ago
    )
    assert outbox_sweep().enqueue == {event_id}
    assert EventDelivery.objects.get().next_attempt_at > long_ago
    assert outbox_sweep().enqueue == set()


def test_event_with_every_consumer_settled_is_marked_delivered(
    settings, register_consumer, add_event
):
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    event_id = add_event()
    _age(event_id, 61)
    EventDelivery.objects.create(
        event_id=event_id,
        consumer="c",
        state=DeliveryState.DELIVERED,
        delivered_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    report = outbox_sweep()
    assert report.settled == 1 and report.enqueue == set()
    assert WorkOrderEvent.objects.get(pk=event_id).delivered_at is not None


def test_sweep_job_enqueues_delivery_tasks(
    settings, register_consumer, add_event, django_capture_on_commit_callbacks
):
    settings.TASKS = DB_TASKS
    settings.EVENT_SWEEP_AFTER_SECONDS = 60
    register_consumer("c", lambda e, d: None)
    first, second = add_event(), add_event()
    _age(first, 61)
    _age(second, 61)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox() == 2
    assert sorted(t.args_kwargs["args"][0] for t in DBTaskResult.objects.all()) == [first, second]
