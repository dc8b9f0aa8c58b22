"""Operators' view of the outbox: every delivery, its attempts and errors, and replay.

Deliveries belong to the platform's plumbing, not to one organisation's configuration, so this
admin is for platform operators (superusers) only; organisations will see their own webhook
deliveries on their webhook pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shouhou.core.errors import DomainError
from shouhou.notifications.models import EventDelivery
from shouhou.notifications.services import delivery_replay
from shouhou.notifications.tasks import enqueue_event_delivery


class PlatformOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(PlatformOnlyAdmin):
    list_display = [
        "event",
        "consumer",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["state", "consumer"]
    list_select_related = ["event"]
    search_fields = ["event__work_order__number", "consumer"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EventDelivery._meta.fields]
    actions = ["replay"]

    @admin.action(description=_("Deliver again"))
    def replay(self, request: HttpRequest, queryset: QuerySet[EventDelivery]) -> None:
        replayed = 0
        for delivery in queryset:
            try:
                delivery_replay(delivery=delivery)
            except DomainError as error:
                self.message_user(request, f"{delivery}: {error}", messages.WARNING)
                continue
            enqueue_event_delivery(delivery.event_id)
            replayed += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will run again.",
                "%(count)d deliveries will run again.",
                replayed,
            )
            % {"count": replayed},
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Actions need the change permission; the form itself has only read-only fields.
        return self.has_module_permission(request)
