"""Reads of work orders for each kind of person, all scoped.

Staff see the orders their organisation owns or serves; technicians see the orders assigned to
them; customers see their own orders (or one order through its tracking token). Anything else
answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from shouhou.accounts.choices import CONSOLE_ROLES
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.dispatch.models import Technician
from shouhou.workorders import hooks
from shouhou.workorders.choices import OPEN, WorkOrderStatus
from shouhou.workorders.models import WorkOrder, WorkOrderEvent

_RELATED = (
    "organization",
    "service_organization",
    "customer",
    "service_type",
    "fault_type",
    "category",
    "brand",
    "product_model__brand",
    "outlet",
    "technician__user",
    "address",
)


def workorder_list_for_staff(*, user: Any) -> QuerySet[WorkOrder]:
    """Orders owned or served by the user's organisations (console roles only)."""
    queryset = WorkOrder.objects.select_related(*_RELATED)
    if sees_everything(user):
        return queryset
    ids = organization_ids_for(user, roles=CONSOLE_ROLES)
    if not ids:
        return queryset.none()
    return queryset.filter(Q(organization_id__in=ids) | Q(service_organization_id__in=ids))


def workorder_get_for_staff(*, user: Any, number: str) -> WorkOrder:
    try:
        return workorder_list_for_staff(user=user).get(number=number)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def technician_profiles_of(*, user: Any) -> QuerySet[Technician]:
    if not getattr(user, "is_authenticated", False):
        return Technician.objects.none()
    return (
        Technician.objects.filter(
            user_id=user.pk,
            is_active=True,
            organization__memberships__user_id=user.pk,
            organization__memberships__role="technician",
            organization__memberships__is_active=True,
        )
        .select_related("organization", "outlet", "user")
        .distinct()
    )


def workorder_list_for_technician(*, user: Any) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related(*_RELATED).filter(
        technician__in=technician_profiles_of(user=user)
    )


def workorder_get_for_technician(*, user: Any, number: str) -> WorkOrder:
    try:
        return workorder_list_for_technician(user=user).get(number=number)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def workorder_list_for_customer(*, user: Any) -> QuerySet[WorkOrder]:
    if not getattr(user, "is_authenticated", False):
        return WorkOrder.objects.none()
    return WorkOrder.objects.select_related(*_RELATED).filter(customer__user_id=user.pk)


def workorder_get_for_customer(*, user: Any, number: str) -> WorkOrder:
    try:
        return workorder_list_for_customer(user=user).get(number=number)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def workorder_get_by_token(*, token: str) -> WorkOrder:
    """The order behind a tracking link (the token is the secret; nothing else is checked)."""
    if not token or len(token) < 20:
        raise Http404
    try:
        return WorkOrder.objects.select_related(*_RELATED).get(tracking_token=token)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def events_for_customer(work_order: WorkOrder) -> QuerySet[WorkOrderEvent]:
    return work_order.events.filter(is_internal=False).select_related("actor")


def events_for_staff(work_order: WorkOrder) -> QuerySet[WorkOrderEvent]:
    return work_order.events.select_related("actor")


def window_overdue(moment: dt.datetime) -> Q:
    """The rule without SLA clocks: past the appointment's or the preferred window's end, or
    not accepted 2 hours after it was submitted (for open orders)."""
    return (
        Q(appointment_end__lt=moment)
        | Q(appointment_end__isnull=True, preferred_end__lt=moment)
        | Q(status=WorkOrderStatus.SUBMITTED, submitted_at__lt=moment - dt.timedelta(hours=2))
    )


def queue_filter(
    queryset: QuerySet[WorkOrder],
    *,
    status: str = "",
    priority: str = "",
    overdue: bool = False,
    outlet: int | None = None,
    technician: int | None = None,
    fault_type: int | None = None,
    channel: str = "",
    text: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[WorkOrder]:
    """The console queue's filters.

    "Overdue" is asked of the app that provides ``hooks.QUEUE_OVERDUE`` (``sla``: an open SLA
    clock past its due time, see docs/sla.md). Without a provider, and for orders the provider
    leaves to it, the window rule holds: still open past the preferred window's end or the
    appointment's end, or submitted more than 2 hours ago and not yet accepted."""
    if status == "open":
        queryset = queryset.filter(status__in=OPEN)
    elif status:
        queryset = queryset.filter(status=status)
    if priority:
        queryset = queryset.filter(priority=priority)
    if overdue:
        moment = now or timezone.now()
        provider = hooks.provided(hooks.QUEUE_OVERDUE)
        queryset = queryset.filter(status__in=OPEN)
        if provider is not None:
            queryset = provider(queryset=queryset, now=moment)
        else:
            queryset = queryset.filter(window_overdue(moment))
    if outlet:
        queryset = queryset.filter(outlet_id=outlet)
    if technician:
        queryset = queryset.filter(technician_id=technician)
    if fault_type:
        queryset = queryset.filter(fault_type_id=fault_type)
    if channel:
        queryset = queryset.filter(channel=channel)
    if text:
        term = text.strip()
        phone_digits = "".join(ch for ch in term if ch.isdigit())
        condition = (
            Q(number__icontains=term)
            | Q(description__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(device_identifier__icontains=term)
        )
        if len(phone_digits) >= 4:
            condition |= Q(customer__phone__contains=phone_digits)
        queryset = queryset.filter(condition)
    return queryset
