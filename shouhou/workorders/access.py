"""What a person may do on one work order: as staff, as its technician, as its customer."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shouhou.accounts.choices import CONSOLE_ROLES, Role
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.workorders.models import WorkOrder

STAFF, TECHNICIAN, CUSTOMER = "staff", "technician", "customer"
# Roles that may change an order from the console (finance and auditors only read).
OPERATOR_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.OUTLET_MANAGER})


def relations(user: Any, work_order: WorkOrder) -> set[str]:
    """How ``user`` relates to ``work_order``: any of staff / technician / customer."""
    found: set[str] = set()
    if not getattr(user, "is_authenticated", False):
        return found
    owners = {work_order.organization_id, work_order.service_organization_id}
    if sees_everything(user) or organization_ids_for(user, roles=OPERATOR_ROLES) & owners:
        found.add(STAFF)
    if work_order.technician is not None and work_order.technician.user_id == user.pk:
        found.add(TECHNICIAN)
    if work_order.customer.user_id == user.pk:
        found.add(CUSTOMER)
    return found


def workorder_visible_to(user: Any) -> QuerySet[WorkOrder]:
    """Every order ``user`` may see in any capacity (the API's list)."""
    queryset = WorkOrder.objects.all()
    if sees_everything(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    ids = organization_ids_for(user, roles=CONSOLE_ROLES)
    return queryset.filter(
        Q(organization_id__in=ids)
        | Q(service_organization_id__in=ids)
        | Q(technician__user_id=user.pk)
        | Q(customer__user_id=user.pk)
    )
