"""Technician verbs of the services that the workbench relies on."""

from __future__ import annotations

import pytest

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.workorders import services
from shouhou.workorders.models import Visit, WorkOrder
from shouhou.workorders.services import Actor, InvalidTransition

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["completed", "on_hold"])
def test_check_in_does_not_reopen_a_completed_or_held_order(world, technician, status):
    # given Tom's order that is completed (waiting for the customer) or on hold
    order = WorkOrderFactory(
        organization=world.org,
        customer=world.customer,
        service_type=world.service_type,
        address=world.address,
        technician=world.technician,
        status=status,
    )
    # when Tom checks in again (a stale page, a retried request)
    with pytest.raises(InvalidTransition):
        services.visit_check_in(
            work_order=order,
            technician=world.technician,
            actor=Actor(user=technician, role="technician"),
            latitude=None,
            longitude=None,
        )
    # then nothing changed
    assert WorkOrder.objects.get(pk=order.pk).status == status
    assert Visit.objects.filter(work_order=order).count() == 0
