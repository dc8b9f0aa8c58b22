"""SLA policies for each organisation's admins (tenant-scoped); clocks read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shouhou.core.admin import TenantAdminMixin, TenantModelAdmin
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.workorders.admin import ReadOnlyMixin, _owned_or_served


@admin.register(SlaPolicy)
class SlaPolicyAdmin(TenantModelAdmin):
    """Targets per organisation, narrowed by service type and/or priority; the most specific
    active policy wins (docs/sla.md). ``clean()`` refuses another organisation's service type
    and a second active policy for the same organisation, service type and priority."""

    list_display = [
        "name",
        "organization",
        "service_type",
        "priority",
        "response_minutes",
        "arrival_minutes",
        "resolution_minutes",
        "warn_at_percent",
        "is_active",
    ]
    list_filter = ["is_active", "priority"]
    list_select_related = ["organization", "service_type"]
    search_fields = ["name"]
    fields = [
        "organization",
        "name",
        "service_type",
        "priority",
        "response_minutes",
        "arrival_minutes",
        "resolution_minutes",
        "warn_at_percent",
        "is_active",
    ]


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyMixin, TenantModelAdmin):
    """Each order's clocks, for looking: the work-order services and the SLA job write them."""

    tenant_field = "work_order__organization"
    list_display = [
        "work_order",
        "target",
        "target_minutes",
        "started_at",
        "due_at",
        "paused_at",
        "warned_at",
        "breached_at",
        "met_at",
        "cancelled_at",
    ]
    list_filter = ["target"]
    list_select_related = ["work_order"]
    search_fields = ["work_order__number"]
    date_hierarchy = "due_at"
    readonly_fields = [
        "work_order",
        "policy",
        "target",
        "target_minutes",
        "started_at",
        "warn_at",
        "due_at",
        "paused_at",
        "paused_seconds",
        "warned_at",
        "breached_at",
        "met_at",
        "cancelled_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The orders the organisation owns or serves, like the work-order admin.
        queryset = super(TenantAdminMixin, self).get_queryset(request)  # type: ignore[misc]
        return _owned_or_served(request, queryset, prefix="work_order__")
