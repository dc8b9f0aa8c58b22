"""Work orders in the configuration admin: for looking, never for changing.

Every change of a work order is a service call that records an event in the same transaction;
the admin's ``save()`` of a whole row would bypass that (and could write back a stale status).
So orders, their visits and attachments are shown read-only, events are append-only, and
changes are made in the console. An organisation's admin sees the orders it owns or serves.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shouhou.core.admin import (
    TenantAdminMixin,
    TenantInline,
    TenantModelAdmin,
    admin_organization_ids,
)
from shouhou.workorders.models import Attachment, Visit, WorkOrder, WorkOrderEvent


def _sees_everything(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def _owned_or_served(request: HttpRequest, queryset: QuerySet[Any], prefix: str = "") -> Any:
    if _sees_everything(request):
        return queryset
    ids = admin_organization_ids(request)
    return queryset.filter(
        Q(**{f"{prefix}organization_id__in": ids})
        | Q(**{f"{prefix}service_organization_id__in": ids})
    )


VISIT_FIELDS: tuple[str, ...] = (
    "technician",
    "status",
    "planned_start",
    "checked_in_at",
    "check_in_latitude",
    "check_in_longitude",
    "checked_out_at",
    "outcome",
)
ATTACHMENT_FIELDS: tuple[str, ...] = ("kind", "content_type", "size", "created_at", "open_link")


class ReadOnlyMixin:
    """Viewable by the tenant's admins; nobody adds, changes or deletes here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VisitInline(ReadOnlyMixin, TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = Visit
    extra = 0
    can_delete = False
    fields = VISIT_FIELDS
    readonly_fields = VISIT_FIELDS


class AttachmentInline(ReadOnlyMixin, TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = Attachment
    extra = 0
    can_delete = False
    fields = ATTACHMENT_FIELDS
    readonly_fields = ATTACHMENT_FIELDS

    @admin.display(description=_("file"))
    def open_link(self, obj: Attachment) -> str:
        # Files are served only through the console's access-checked view.
        url = reverse("wo_console:attachment", args=[obj.work_order.number, obj.token])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("open"))


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyMixin, TenantModelAdmin):
    list_display = [
        "number",
        "status",
        "priority",
        "customer",
        "organization",
        "service_organization",
        "outlet",
        "technician",
        "submitted_at",
    ]
    list_filter = ["status", "priority", "channel", "fulfilment_mode"]
    search_fields = ["number", "customer__name", "device_identifier"]
    list_select_related = [
        "customer",
        "organization",
        "service_organization",
        "outlet",
        "technician__user",
    ]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-pk"]
    inlines = [VisitInline, AttachmentInline]
    readonly_fields = [
        "status",
        "held_from_status",
        "submitted_at",
        "accepted_at",
        "assigned_at",
        "scheduled_at",
        "started_at",
        "completed_at",
        "closed_at",
        "cancelled_at",
        "assignment_accepted_at",
        "last_urged_at",
        "urge_count",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkOrder]:
        # Owned or served, not only owned: TenantModelAdmin scopes by one field.
        queryset = super(TenantAdminMixin, self).get_queryset(request)  # type: ignore[misc]
        return _owned_or_served(request, queryset)


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(ReadOnlyMixin, TenantModelAdmin):
    """The append-only timeline and audit trail."""

    tenant_field = "work_order__organization"
    list_display = [
        "created_at",
        "work_order",
        "type",
        "from_status",
        "to_status",
        "actor",
        "actor_role",
        "is_internal",
    ]
    list_filter = ["type", "is_internal"]
    search_fields = ["work_order__number", "reason"]
    list_select_related = ["work_order", "actor"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkOrderEvent]:
        queryset = super(TenantAdminMixin, self).get_queryset(request)  # type: ignore[misc]
        return _owned_or_served(request, queryset, prefix="work_order__")
