"""Operators' view of the outbox: every delivery, its attempts and errors, and replay.

Deliveries belong to the platform's plumbing, not to one organisation's configuration, so this
admin is for platform operators (superusers) only; organisations will see their own webhook
deliveries on their webhook pages.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shouhou.core.admin import TenantModelAdmin, admin_organization_ids
from shouhou.core.errors import DomainError
from shouhou.notifications.choices import MessageState
from shouhou.notifications.messaging import message_resend
from shouhou.notifications.models import (
    EventDelivery,
    Message,
    NotificationTemplate,
    PushSubscription,
)
from shouhou.notifications.services import delivery_replay
from shouhou.notifications.tasks import enqueue_event_delivery, enqueue_message_send


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


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(TenantModelAdmin):
    """An organisation admin writes their own wording; built-in defaults are shown read-only."""

    list_display = ["kind", "audience", "channel", "language", "organization", "subject"]
    list_filter = ["kind", "audience", "channel", "language"]
    search_fields = ["subject", "body"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationTemplate]:
        queryset = NotificationTemplate.objects.select_related("organization")
        if request.user.is_superuser:
            return queryset
        ids = admin_organization_ids(request)
        return queryset.filter(Q(organization__in=ids) | Q(organization__isnull=True))

    def _own(self, request: HttpRequest, obj: NotificationTemplate | None) -> bool:
        if request.user.is_superuser:
            return True
        ids = admin_organization_ids(request)
        if obj is None:
            return bool(ids)
        return obj.organization_id in ids

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._own(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser and "organization" in form.base_fields:
            form.base_fields["organization"].required = True
        return form


@admin.register(Message)
class MessageAdmin(TenantModelAdmin):
    """Every message with its state and attempts; failed ones can be sent again."""

    list_display = [
        "created_at",
        "work_order",
        "kind",
        "audience",
        "channel",
        "address",
        "state",
        "attempts",
        "sent_at",
    ]
    list_filter = ["state", "channel", "kind", "audience"]
    list_select_related = ["work_order"]
    search_fields = ["work_order__number", "address"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send again"), permissions=["view"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        queued = 0
        for message in queryset.filter(state=MessageState.FAILED):
            message_resend(message=message)
            transaction.on_commit(partial(enqueue_message_send, message.pk))
            queued += 1
        self.message_user(
            request,
            ngettext("%(n)d message queued again.", "%(n)d messages queued again.", queued)
            % {"n": queued},
            messages.SUCCESS,
        )


@admin.register(PushSubscription)
class PushSubscriptionAdmin(TenantModelAdmin):
    """Which browsers of the organisation's members receive push; read-only (people subscribe
    and stop on their own settings page). The auth secret is never shown."""

    tenant_field = "user__memberships__organization"
    list_display = ["user", "endpoint_host", "user_agent", "created_at", "last_success_at"]
    list_select_related = ["user"]
    search_fields = ["user__phone", "user__display_name", "user_agent"]
    date_hierarchy = "created_at"
    fields = ["user", "endpoint", "user_agent", "created_at", "last_success_at"]
    readonly_fields = ["user", "endpoint", "user_agent", "created_at", "last_success_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PushSubscription]:
        # A member of two of the admin's organisations would otherwise be listed twice.
        return super().get_queryset(request).distinct()

    @admin.display(description=_("push service"))
    def endpoint_host(self, obj: PushSubscription) -> str:
        return obj.endpoint_host

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
