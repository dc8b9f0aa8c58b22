"""The transition table, checked over every pair of statuses."""

import itertools

import pytest

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.workorders.choices import TRANSITIONS, WorkOrderStatus
from shouhou.workorders.models import WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor, InvalidTransition, _workorder_transition

STATUSES = list(WorkOrderStatus.values)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "requested"), list(itertools.product(STATUSES, STATUSES)))
def test_transition_table_over_every_pair(current, requested, agent):
    # given an order in `current`
    order = WorkOrderFactory(
        status=current, cancellation_reason="客户取消" if current == "cancelled" else ""
    )
    # cancelling needs a reason (a database constraint holds it)
    updates = {"cancellation_reason": "不需要了"} if requested == "cancelled" else None
    actor = Actor(user=agent, role="agent")
    # when / then
    if current == requested:
        result = _workorder_transition(work_order=order, to=requested, actor=actor)
        assert result.status == current
        assert WorkOrderEvent.objects.filter(work_order=order).count() == 0
    elif requested in TRANSITIONS[current]:
        _workorder_transition(
            work_order=order, to=requested, actor=actor, reason="because", updates=updates
        )
        assert WorkOrder.objects.get(pk=order.pk).status == requested
        event = WorkOrderEvent.objects.get(work_order=order)
        assert (event.from_status, event.to_status) == (current, requested)
        assert event.actor == agent
        assert event.actor_role == "agent"
        assert event.reason == "because"
    else:
        with pytest.raises(InvalidTransition) as raised:
            _workorder_transition(work_order=order, to=requested, actor=actor, updates=updates)
        assert raised.value.status_code == 409
        assert str(WorkOrderStatus(current).label) in str(raised.value)
        assert WorkOrder.objects.get(pk=order.pk).status == current
        assert WorkOrderEvent.objects.filter(work_order=order).count() == 0


def test_terminal_statuses_have_no_way_out():
    assert TRANSITIONS[WorkOrderStatus.CLOSED] == frozenset()
    assert TRANSITIONS[WorkOrderStatus.CANCELLED] == frozenset()


@pytest.mark.django_db
def test_milestone_time_is_recorded_once(agent):
    order = WorkOrderFactory(status="submitted")
    actor = Actor(user=agent, role="agent")
    accepted = _workorder_transition(work_order=order, to="accepted", actor=actor)
    first = accepted.accepted_at
    _workorder_transition(work_order=accepted, to="on_hold", actor=actor)
    again = _workorder_transition(work_order=accepted, to="accepted", actor=actor)
    assert first is not None
    assert again.accepted_at == first
