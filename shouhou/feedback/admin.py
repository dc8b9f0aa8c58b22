from __future__ import annotations

from django.contrib import admin

from shouhou.core.admin import TenantModelAdmin
from shouhou.feedback.models import FollowUp, Rating


@admin.register(Rating)
class RatingAdmin(TenantModelAdmin):
    list_display = [
        "work_order",
        "average",
        "attitude",
        "professionalism",
        "responsiveness",
        "transparency",
        "technician",
        "outlet",
        "created_at",
    ]
    list_select_related = ["work_order", "technician__user", "outlet"]
    readonly_fields = [
        "work_order",
        "organization",
        "technician",
        "outlet",
        "rated_by",
        "attitude",
        "professionalism",
        "responsiveness",
        "transparency",
        "average",
        "comment",
    ]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(FollowUp)
class FollowUpAdmin(TenantModelAdmin):
    list_display = ["work_order", "reason", "status", "assignee", "created_at"]
    list_filter = ["status"]
    list_select_related = ["work_order", "assignee"]
    raw_id_fields = ["work_order", "rating"]
