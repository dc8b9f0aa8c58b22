"""Reads of SLA policies and clocks, all scoped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404

from shouhou.accounts.choices import CONSOLE_ROLES, Role
from shouhou.core.cache import TtlCache
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.sla.choices import SlaTarget
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.workorders.choices import Priority
from shouhou.workorders.models import WorkOrder

T = SlaTarget


@dataclass(frozen=True)
class Targets:
    """The minutes an order gets for each target, and where they came from."""

    policy_id: int | None  # None: the built-in default
    response_minutes: int
    arrival_minutes: int
    resolution_minutes: int
    warn_at_percent: int

    def minutes(self, target: str) -> int:
        minutes: dict[str, int] = {
            T.RESPONSE: self.response_minutes,
            T.ARRIVAL: self.arrival_minutes,
            T.RESOLUTION: self.resolution_minutes,
        }
        return minutes[target]


# When an organisation has no policy that matches an order: by priority, in minutes (response,
# arrival / start, resolution), warning at 80 %. Documented in docs/sla.md.
DEFAULT_TARGETS: Final[Mapping[str, Targets]] = {
    Priority.URGENT: Targets(None, 30, 4 * 60, 24 * 60, 80),
    Priority.HIGH: Targets(None, 60, 8 * 60, 48 * 60, 80),
    Priority.NORMAL: Targets(None, 2 * 60, 24 * 60, 72 * 60, 80),
    Priority.LOW: Targets(None, 4 * 60, 48 * 60, 120 * 60, 80),
}

# Policies are read on every intake; like the catalog they are remembered for
# CATALOG_CACHE_SECONDS (0 in tests) and forgotten at once when this process changes one.
policy_cache: TtlCache[list[SlaPolicy]] = TtlCache("CATALOG_CACHE_SECONDS")
post_save.connect(policy_cache.clear, sender=SlaPolicy, dispatch_uid="sla_policy_cache_save")
post_delete.connect(policy_cache.clear, sender=SlaPolicy, dispatch_uid="sla_policy_cache_delete")


def _specificity(policy: SlaPolicy) -> int:
    # service type and priority > service type > priority > the organisation's default
    return (2 if policy.service_type_id is not None else 0) + (1 if policy.priority else 0)


def sla_policy_for(*, work_order: WorkOrder) -> Targets:
    """The targets of the most specific active policy matching the order's organisation,
    service type and priority; the built-in default by priority when none matches."""
    policies = policy_cache.get_or_compute(
        ("policies", work_order.organization_id),
        lambda: list(
            SlaPolicy.objects.filter(organization_id=work_order.organization_id, is_active=True)
        ),
    )
    matching = [
        policy
        for policy in policies
        if policy.service_type_id in (None, work_order.service_type_id)
        and policy.priority in ("", work_order.priority)
    ]
    if not matching:
        return DEFAULT_TARGETS.get(work_order.priority, DEFAULT_TARGETS[Priority.NORMAL])
    best = max(matching, key=lambda policy: (_specificity(policy), -policy.pk))
    return Targets(
        policy_id=best.pk,
        response_minutes=best.response_minutes,
        arrival_minutes=best.arrival_minutes,
        resolution_minutes=best.resolution_minutes,
        warn_at_percent=best.warn_at_percent,
    )


# --- clocks ----------------------------------------------------------------------------------

OPEN_CLOCK = Q(met_at__isnull=True, cancelled_at__isnull=True)


def overdue_clocks(now: dt.datetime) -> Q:
    """Open clocks past their due time; a paused clock is judged at the moment it paused."""
    return OPEN_CLOCK & (
        Q(paused_at__isnull=True, due_at__lte=now)
        | Q(paused_at__isnull=False, due_at__lte=F("paused_at"))
    )


def queue_overdue(*, queryset: QuerySet[WorkOrder], now: dt.datetime) -> QuerySet[WorkOrder]:
    """The console queue's "overdue" (registered as ``hooks.QUEUE_OVERDUE``): an open SLA clock
    past its due time. Orders with no clock at all (made before SLA clocks existed, or written
    straight to the table) keep the window rule of ``workorders.selectors.window_overdue``."""
    from shouhou.workorders.selectors import window_overdue

    clocks = SlaClock.objects.filter(work_order_id=OuterRef("pk"))
    return queryset.filter(
        Exists(clocks.filter(overdue_clocks(now))) | (~Exists(clocks) & window_overdue(now))
    )


def clocks_for_order(*, work_order: WorkOrder) -> list[SlaClock]:
    """The order's clocks in the order of the targets: response, arrival, resolution."""
    rank = {target: index for index, target in enumerate(T.values)}
    return sorted(
        SlaClock.objects.filter(work_order=work_order).select_related("policy"),
        key=lambda clock: rank.get(clock.target, 99),
    )


# --- policies for a person -------------------------------------------------------------------


def sla_policy_list_for_user(*, user: Any) -> QuerySet[SlaPolicy]:
    """Policies of the organisations where ``user`` has a console role (staff read them)."""
    queryset = SlaPolicy.objects.select_related("service_type", "organization")
    if sees_everything(user):
        return queryset
    return queryset.filter(organization_id__in=organization_ids_for(user, roles=CONSOLE_ROLES))


def sla_policy_admin_organization_ids(*, user: Any) -> set[int] | None:
    """Organisations where ``user`` may change policies (admins); None: every one."""
    if sees_everything(user):
        return None
    return organization_ids_for(user, roles=(Role.ADMIN,))


def sla_policy_get_for_user(*, user: Any, pk: int) -> SlaPolicy:
    try:
        return sla_policy_list_for_user(user=user).get(pk=pk)
    except SlaPolicy.DoesNotExist:
        raise Http404 from None
