"""Several workers delivering the same event at the same moment (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.models import EventDelivery
from shouhou.notifications.probe.consumers import record
from shouhou.notifications.probe.models import DeliveryProbe
from shouhou.notifications.services import event_deliver
from shouhou.workorders.services import Actor, workorder_add_note

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_workers_deliver_each_consumer_once(register_consumer):
    if connection.vendor != "postgresql":
        pytest.skip("threads racing on row locks need PostgreSQL (SQLite serialises writers)")
    # given consumers that count their runs, and one event per round
    runs: list[str] = []
    lock = threading.Lock()

    def counting(event, delivery):
        with lock:
            runs.append(delivery.key)
        record(event, delivery)

    register_consumer("race.idempotent", counting)
    register_consumer("race.atomic", counting, atomic=True)
    work_order = WorkOrderFactory()
    event_ids = [
        workorder_add_note(work_order=work_order, actor=Actor.system(), text=f"n{i}").pk
        for i in range(10)
    ]
    # when eight workers deliver every event at the same moment
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for event_id in event_ids:
                event_deliver(event_id=event_id, worker_id=threading.current_thread().name)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then each (event, consumer) ran exactly once
    assert sorted(runs) == sorted(
        f"event-{e}-{c}" for e in event_ids for c in ("race.idempotent", "race.atomic")
    )
    assert DeliveryProbe.objects.count() == 20
    assert set(EventDelivery.objects.values_list("state", "attempts")) == {("delivered", 1)}
