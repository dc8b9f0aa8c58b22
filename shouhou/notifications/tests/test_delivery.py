"""Delivery of events to consumers: once per (event, consumer), retries, claims, give-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shouhou.notifications.choices import DeliveryState
from shouhou.notifications.models import EventDelivery
from shouhou.notifications.probe.models import DeliveryProbe
from shouhou.notifications.services import (
    DeliveryNotReplayable,
    _claim,
    delivery_replay,
    event_deliver,
)
from shouhou.workorders.models import WorkOrderEvent

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_event_enqueues_its_delivery_only_after_commit(
    settings, add_event, django_capture_on_commit_callbacks
):
    # given the database task backend
    settings.TASKS = DB_TASKS
    # when an event is recorded
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event_id = add_event()
    # then nothing is queued until the commit, and then exactly one delivery task
    assert DBTaskResult.objects.count() == 0
    for callback in callbacks:
        callback()
    task = DBTaskResult.objects.get()
    assert task.task_path == "shouhou.notifications.tasks.deliver_event"
    assert task.args_kwargs == {"args": [event_id], "kwargs": {}}


def test_immediate_backend_delivers_to_every_consumer_after_commit(
    register_consumer, add_event, django_capture_on_commit_callbacks
):
    seen: list[tuple[str, int]] = []
    register_consumer("first", lambda event, d: seen.append(("first", event.pk)))
    register_consumer("second", lambda event, d: seen.append(("second", event.pk)))
    with django_capture_on_commit_callbacks(execute=True):
        event_id = add_event()
    assert seen == [("first", event_id), ("second", event_id)]
    assert set(
        EventDelivery.objects.filter(event_id=event_id).values_list("consumer", "state")
    ) == {("first", "delivered"), ("second", "delivered")}
    assert WorkOrderEvent.objects.get(pk=event_id).delivered_at is not None


def test_delivering_twice_runs_each_consumer_once(register_consumer, add_event):
    calls: list[str] = []
    register_consumer("counter", lambda event, d: calls.append(d.key))
    event_id = add_event()
    first = event_deliver(event_id=event_id)
    second = event_deliver(event_id=event_id)
    assert calls == [f"event-{event_id}-counter"]
    assert first.delivered == ["counter"]
    assert second.delivered == [] and second.event_settled is True


def test_consumer_filters_by_event_type(register_consumer, add_event):
    calls: list[int] = []
    register_consumer(
        "status-only", lambda e, d: calls.append(e.pk), event_types={"status_changed"}
    )
    event_id = add_event()
    report = event_deliver(event_id=event_id)
    assert calls == [] and report.event_settled is True
    assert EventDelivery.objects.filter(event_id=event_id).count() == 0


def test_failure_retries_with_exponential_backoff_and_skips_done_consumers(
    register_consumer, add_event
):
    calls: list[str] = []
    failures = {"left": 2}

    def flaky(event, delivery):
        calls.append(f"flaky#{delivery.attempt}")
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("receiver is down")

    register_consumer("steady", lambda e, d: calls.append("steady"))
    register_consumer("flaky", flaky, retry_base_seconds=10)
    event_id = add_event()

    # first pass: steady done, flaky fails → retry after 10 s
    before = timezone.now()
    report = event_deliver(event_id=event_id)
    row = EventDelivery.objects.get(event_id=event_id, consumer="flaky")
    assert report.failed == ["flaky"] and report.delivered == ["steady"]
    assert row.state == DeliveryState.RETRYING and row.attempts == 1
    assert "receiver is down" in row.last_error
    assert before + dt.timedelta(seconds=10) <= row.next_attempt_at
    assert row.next_attempt_at <= timezone.now() + dt.timedelta(seconds=10)
    assert report.retry_at == row.next_attempt_at

    # not due yet: nothing runs
    assert event_deliver(event_id=event_id).skipped == ["steady", "flaky"]

    # due: fails again → 20 s
    EventDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    event_deliver(event_id=event_id)
    row.refresh_from_db()
    assert row.attempts == 2
    assert before + dt.timedelta(seconds=20) <= row.next_attempt_at
    assert WorkOrderEvent.objects.get(pk=event_id).delivered_at is None

    # due: succeeds; the event leaves the outbox
    EventDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert event_deliver(event_id=event_id).event_settled is True
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.DELIVERED, 3, "")
    assert calls == ["steady", "flaky#1", "flaky#2", "flaky#3"]


def test_gives_up_after_max_attempts(register_consumer, add_event):
    def broken(event, delivery):
        raise RuntimeError("never works")

    register_consumer("broken", broken, max_attempts=2, retry_base_seconds=1)
    event_id = add_event()
    event_deliver(event_id=event_id)
    EventDelivery.objects.update(next_attempt_at=timezone.now())
    report = event_deliver(event_id=event_id)
    row = EventDelivery.objects.get(event_id=event_id)
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 2)
    assert report.retry_at is None and report.event_settled is True


def test_a_claim_is_won_once_until_it_expires(register_consumer, add_event):
    register_consumer("slow", lambda e, d: None)
    event_id = add_event()
    EventDelivery.objects.create(event_id=event_id, consumer="slow", next_attempt_at=timezone.now())
    assert _claim(event_id=event_id, consumer="slow", token="w1") == 1
    assert _claim(event_id=event_id, consumer="slow", token="w2") == 0
    # the first worker died: once its claim expires another may take it
    EventDelivery.objects.update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert _claim(event_id=event_id, consumer="slow", token="w2") == 2
    assert EventDelivery.objects.get().claimed_by == "w2"


def test_atomic_consumer_effect_rolls_back_when_its_claim_was_taken_over(
    register_consumer, add_event
):
    def effect_then_lose_claim(event, delivery):
        DeliveryProbe.objects.create(key=delivery.key, event_id=event.pk, consumer="a")
        # another worker takes the delivery over while this one is still running
        EventDelivery.objects.update(claimed_by="someone-else")

    register_consumer("atomic", effect_then_lose_claim, atomic=True)
    event_id = add_event()
    report = event_deliver(event_id=event_id)
    assert report.skipped == ["atomic"]
    assert DeliveryProbe.objects.count() == 0
    assert EventDelivery.objects.get().state == DeliveryState.RUNNING


def test_replay_makes_a_failed_delivery_due_again(register_consumer, add_event):
    calls: list[int] = []
    register_consumer("replayed", lambda e, d: calls.append(d.attempt))
    event_id = add_event()
    event_deliver(event_id=event_id)
    delivery = EventDelivery.objects.get()
    delivery_replay(delivery=delivery)
    assert WorkOrderEvent.objects.get(pk=event_id).delivered_at is None
    event_deliver(event_id=event_id)
    assert calls == [1, 1]
    assert EventDelivery.objects.get().state == DeliveryState.DELIVERED


def test_replay_refuses_a_running_delivery(register_consumer, add_event):
    register_consumer("busy", lambda e, d: None)
    event_id = add_event()
    EventDelivery.objects.create(event_id=event_id, consumer="busy", next_attempt_at=timezone.now())
    _claim(event_id=event_id, consumer="busy", token="w1")
    with pytest.raises(DeliveryNotReplayable):
        delivery_replay(delivery=EventDelivery.objects.get())
