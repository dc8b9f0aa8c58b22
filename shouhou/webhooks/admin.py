"""Staff configure their organisation's webhook endpoints and look at (and replay) deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shouhou.core.admin import TenantModelAdmin
from shouhou.core.errors import DomainError
from shouhou.webhooks import services
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.tasks import send_webhook


class WebhookEndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "description", "event_types", "is_active"]

    def clean_url(self) -> str:
        try:
            return services.webhook_url_check(self.cleaned_data["url"])
        except DomainError as error:
            raise forms.ValidationError(str(error)) from error

    def clean_event_types(self) -> list[str]:
        try:
            return services.webhook_event_types_check(self.cleaned_data["event_types"] or [])
        except DomainError as error:
            raise forms.ValidationError(str(error)) from error


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "organization", "is_active", "disabled_reason", "updated_at"]
    list_filter = ["is_active", "disabled_reason"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "disabled_detail",
    ]
    actions = ["rotate_secret"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = services._new_secret()
        if change and "is_active" in form.changed_data:
            # the same bookkeeping as the console's enable/disable: enabling clears the reason
            obj.is_active = not obj.is_active
            services._set_active(obj, not obj.is_active, timezone.now())
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Rotate the signing secret (the old one works 24 more hours)"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.webhook_secret_rotate(endpoint=endpoint)
        self.message_user(request, _("New secrets are shown on each endpoint's page."))


class WebhookAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "started_at",
        "duration_ms",
        "status_code",
        "error",
        "response_excerpt",
        "request_headers",
    ]
    exclude = ["request_body"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantModelAdmin):
    tenant_field = "endpoint__organization"
    list_display = [
        "event_type",
        "event",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event_type"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "endpoint",
        "event_type",
        "event",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    ]
    exclude = ["claimed_by", "claimed_until"]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # for looking only; "Send again" is the one way to act on a delivery

    @admin.action(description=_("Send again"))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset:
            try:
                services.webhook_delivery_replay(delivery=delivery)
            except DomainError as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            send_webhook.enqueue(delivery.pk)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery is sent again.", "%(count)d deliveries are sent again.", count
            )
            % {"count": count},
        )
