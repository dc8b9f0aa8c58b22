"""Committed events gathered into one delivery task per batch (EVENT_ENQUEUE_DELAY_MS)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from django_tasks_rq import Job
from rq import SimpleWorker

from shouhou.notifications import tasks
from shouhou.notifications.enqueue import EventBatcher
from shouhou.notifications.models import EventDelivery
from shouhou.workorders.models import WorkOrderEvent


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()
        self.sent = threading.Event()

    def __call__(self, ids: list[int]) -> None:
        self.batches.append(ids)
        self.threads.add(threading.current_thread().name)
        self.sent.set()


def test_ids_added_within_the_delay_go_out_as_one_batch_off_the_calling_thread():
    send = Recorder()
    batcher = EventBatcher(send, delay=0.2)
    for event_id in range(1, 8):
        batcher.add(event_id)
    assert send.batches == []  # nothing sent by the caller
    assert send.sent.wait(5)
    time.sleep(0.05)
    assert send.batches == [[1, 2, 3, 4, 5, 6, 7]]
    assert send.threads == {"shouhou-event-batcher"}
    # a later id starts a new batch
    send.sent.clear()
    batcher.add(8)
    assert send.sent.wait(5)
    assert send.batches[-1] == [8]


def test_a_full_batch_goes_out_without_waiting_and_batches_are_capped():
    send = Recorder()
    batcher = EventBatcher(send, delay=30, max_batch=3)
    for event_id in range(1, 4):
        batcher.add(event_id)
    assert send.sent.wait(5)  # long before the 30 s delay
    assert send.batches == [[1, 2, 3]]
    # flush sends the rest at once, in chunks of at most max_batch
    batcher._pending = [4, 5, 6, 7]
    assert batcher.flush() == 4
    assert send.batches[1:] == [[4, 5, 6], [7]]


def test_a_failing_send_is_logged_and_the_next_batch_still_goes(caplog):
    calls: list[list[int]] = []
    done = threading.Event()

    def send(ids: list[int]) -> None:
        calls.append(ids)
        if len(calls) == 1:
            raise ConnectionError("redis down")
        done.set()

    batcher = EventBatcher(send, delay=0.01)
    batcher.add(1)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    batcher.add(2)
    assert done.wait(5)
    assert calls == [[1], [2]]
    assert "Enqueuing the delivery of events [1] failed" in caplog.text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_empty_with_its_own_thread():
    send = Recorder()
    batcher = EventBatcher(send, delay=30)
    batcher.add(1)  # gathered in the parent, thread started
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing inherited, and its own thread sends
        try:
            inherited = list(batcher._pending)
            child = Recorder()
            batcher.send = child
            batcher.delay = 0.01
            batcher.add(2)
            ok = child.sent.wait(5) and inherited == [] and child.batches == [[2]]
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert batcher._pending == [1]  # the parent's id stays for the parent


def test_committed_events_reach_redis_as_one_task_and_a_worker_delivers_them_all(
    rq_queue, settings, register_consumer, work_order, django_capture_on_commit_callbacks
):
    # given the production set-up: Redis tasks, events gathered for 100 ms
    settings.EVENT_ENQUEUE_DELAY_MS = 100
    seen: list[int] = []
    register_consumer("batch-consumer", lambda event, d: seen.append(event.pk))
    from shouhou.workorders.services import Actor, workorder_add_note

    # when five events are committed one after another
    ids = []
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            ids.append(
                workorder_add_note(work_order=work_order, actor=Actor.system(), text=f"n{n}").pk
            )
    # then no task is enqueued by the committing thread ...
    assert rq_queue.count == 0
    # ... and shortly after, one task carries all five
    deadline = time.monotonic() + 5
    while rq_queue.count == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rq_queue.count == 1
    job = rq_queue.jobs[0]
    assert job.func_name == "shouhou.notifications.tasks.deliver_events"
    assert job.args == (ids,)
    # when a worker runs it, every event is delivered once
    SimpleWorker([rq_queue], connection=rq_queue.connection, job_class=Job).work(burst=True)
    assert seen == ids
    assert set(EventDelivery.objects.values_list("event_id", "state")) == {
        (event_id, "delivered") for event_id in ids
    }
    assert not WorkOrderEvent.objects.filter(pk__in=ids, delivered_at__isnull=True).exists()
    result = tasks.deliver_events.get_result(job.id)
    assert result.return_value["events"] == 5
    assert result.return_value["errors"] == 0
    assert result.return_value["delivered"] == ["batch-consumer"] * 5


def test_one_failing_event_does_not_stop_the_rest_of_its_batch(
    register_consumer, add_event, monkeypatch, caplog
):
    # given three events, and the delivery of the second raising an unexpected error
    seen: list[int] = []
    register_consumer("c", lambda event, d: seen.append(event.pk))
    ids = [add_event(f"e{n}") for n in range(3)]
    real = tasks.services.event_deliver

    def flaky(*, event_id: int, worker_id: str):
        if event_id == ids[1]:
            raise RuntimeError("bug")
        return real(event_id=event_id, worker_id=worker_id)

    monkeypatch.setattr(tasks.services, "event_deliver", flaky)
    # when the batch task runs
    report = tasks.deliver_events.call(ids)
    # then the others are delivered and the failure is counted and logged
    assert seen == [ids[0], ids[2]]
    assert report["errors"] == 1
    assert f"Delivering event {ids[1]} failed" in caplog.text


def test_without_a_delay_each_event_is_enqueued_at_commit(
    rq_queue, settings, add_event, django_capture_on_commit_callbacks
):
    settings.EVENT_ENQUEUE_DELAY_MS = 0
    with django_capture_on_commit_callbacks(execute=True):
        event_id = add_event()
    assert rq_queue.count == 1
    assert rq_queue.jobs[0].args == (event_id,)
