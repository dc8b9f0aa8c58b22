"""The production task backend: RQ on a real Redis (django-tasks-rq), driven by our tasks."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks_rq import Job
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from shouhou.notifications.models import EventDelivery
from shouhou.notifications.tasks import deliver_event


def test_event_delivery_goes_through_redis_and_a_worker(
    rq_queue, register_consumer, add_event, django_capture_on_commit_callbacks
):
    # given a consumer
    calls: list[int] = []
    register_consumer("redis-consumer", lambda event, d: calls.append(event.pk))
    # when an event is committed, its delivery task waits in Redis ...
    with django_capture_on_commit_callbacks(execute=True):
        event_id = add_event()
    assert rq_queue.count == 1
    job = rq_queue.jobs[0]
    assert (job.func_name, job.args) == ("shouhou.notifications.tasks.deliver_event", (event_id,))
    assert calls == []
    # ... until an RQ worker runs it
    SimpleWorker([rq_queue], connection=rq_queue.connection, job_class=Job).work(burst=True)
    # then the consumer ran once and the task result is readable through the Tasks API
    assert calls == [event_id]
    assert EventDelivery.objects.get().state == "delivered"
    result = deliver_event.get_result(job.id)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {"delivered": ["redis-consumer"], "failed": [], "skipped": []}


def test_a_failed_delivery_is_retried_by_a_deferred_redis_job(
    rq_queue, register_consumer, add_event
):
    def down(event, delivery):
        raise ConnectionError("receiver down")

    register_consumer("down", down, retry_base_seconds=30)
    event_id = add_event()
    before = timezone.now()
    deliver_event.call(event_id)
    registry = ScheduledJobRegistry(queue=rq_queue)
    (job_id,) = registry.get_job_ids()
    scheduled_at = registry.get_scheduled_time(job_id)
    retry_at = EventDelivery.objects.get().next_attempt_at
    assert abs(scheduled_at - retry_at) < dt.timedelta(seconds=1)
    assert retry_at >= before + dt.timedelta(seconds=30)
    assert rq_queue.count == 0  # not runnable before its time


def test_enqueues_reuse_one_redis_connection_per_process(rq_queue, settings):
    # given django-rq patched as the app does when the redis backend is installed
    import django_rq

    from shouhou.core import rq_connections

    rq_connections.install()
    client = django_rq.get_queue("default").connection
    client.ping()
    before = client.info("clients")["connected_clients"]
    # when fifty tasks are enqueued
    for event_id in range(50):
        deliver_event.enqueue(event_id)
    # then they share one client and its pool: no new connection per enqueue
    assert rq_queue.count == 50
    assert django_rq.get_queue("default").connection is client
    assert client.info("clients")["connected_clients"] - before <= 1
    # and a queue configured elsewhere gets its own client, not the cached one
    other_url = rq_queue.connection.connection_pool.connection_kwargs
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/14"}}
    other = django_rq.get_queue("default").connection
    assert other is not client
    assert other.connection_pool.connection_kwargs["db"] == 14 != other_url["db"]
