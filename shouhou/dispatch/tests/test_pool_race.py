"""Two technicians grab the same pooled job at the same moment, each on their own thread and
database connection: exactly one wins, the other is told clearly. Runs on SQLite and, with
DATABASE_URL pointing at PostgreSQL, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shouhou.dispatch.models import DispatchAttempt, DispatchMode
from shouhou.dispatch.offers import PoolJobTaken, pool_grab
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("rounds", [3])
def test_exactly_one_of_two_simultaneous_grabs_wins(crew, agent, rounds):
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    for _round in range(rounds):
        # given a pooled job both Tom and Ted may take
        order = crew.order()
        workorder_accept(work_order=order, actor=Actor(agent, "agent"))
        entry = DispatchAttempt.objects.get(work_order=order)
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def grab(technician, name):
            try:
                barrier.wait(timeout=10)
                pool_grab(
                    attempt=entry, technician=technician, actor=Actor(technician.user, "technician")
                )
                results[name] = "won"
            except PoolJobTaken as error:
                results[name] = error
            finally:
                connection.close()

        # when
        threads = [
            threading.Thread(target=grab, args=(crew.tom, "tom")),
            threading.Thread(target=grab, args=(crew.ted, "ted")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # then: one winner, one clear refusal, one assignment in the database
        assert sorted(str(value) for value in results.values()) == [
            "Another technician took this job first.",
            "won",
        ]
        winner = crew.tom if results["tom"] == "won" else crew.ted
        order = WorkOrder.objects.get(pk=order.pk)
        assert (order.status, order.technician_id) == ("assigned", winner.pk)
        entry.refresh_from_db()
        assert (entry.outcome, entry.technician_id) == ("accepted", winner.pk)
        assert (
            WorkOrderEvent.objects.filter(work_order=order, type="technician_assigned").count() == 1
        )
        assert (
            WorkOrderEvent.objects.filter(work_order=order, type="assignment_accepted").count() == 1
        )
