"""Two technicians grab the same pooled job at the same moment, each on their own thread and
database connection: exactly one wins, the other is told clearly. Runs on SQLite and, with
DATABASE_URL pointing at PostgreSQL, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shouhou.dispatch.models import DispatchAttempt, DispatchMode, Technician
from shouhou.dispatch.offers import PoolJobTaken, pool_grab
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = pytest.mark.django_db(transaction=True)


def race(entry: DispatchAttempt, technicians: list[Technician]) -> dict[int, object]:
    """Every technician grabs ``entry`` on their own thread, released together by a barrier."""
    barrier = threading.Barrier(len(technicians))
    results: dict[int, object] = {}

    def grab(technician: Technician) -> None:
        try:
            barrier.wait(timeout=10)
            pool_grab(
                attempt=entry, technician=technician, actor=Actor(technician.user, "technician")
            )
            results[technician.pk] = "won"
        except PoolJobTaken as error:
            results[technician.pk] = error
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=grab, args=(t,)) for t in technicians]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_exactly_one_of_two_simultaneous_grabs_wins(crew, agent):
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    for _round in range(3):
        # given a pooled job both Tom and Ted may take
        order = crew.order()
        workorder_accept(work_order=order, actor=Actor(agent, "agent"))
        entry = DispatchAttempt.objects.get(work_order=order)
        # when
        results = race(entry, [crew.tom, crew.ted])
        # then: one winner, one clear refusal, one assignment in the database
        assert sorted(str(value) for value in results.values()) == [
            "won",
            "其他工程师已先抢到该工单。",  # zh-hans, the default language
        ]
        winner = crew.tom if results[crew.tom.pk] == "won" else crew.ted
        order = WorkOrder.objects.get(pk=order.pk)
        assert (order.status, order.technician_id) == ("assigned", winner.pk)
        entry.refresh_from_db()
        assert (entry.outcome, entry.technician_id) == ("accepted", winner.pk)
        events = WorkOrderEvent.objects.filter(work_order=order)
        assert events.filter(type="technician_assigned").count() == 1
        assert events.filter(type="assignment_accepted").count() == 1
