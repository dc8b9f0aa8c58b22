"""Webhooks: an organisation's HTTPS endpoints, each delivery to them and each attempt."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization
from shouhou.core.models import TimeStampedModel
from shouhou.webhooks.choices import WebhookDeliveryState, WebhookDisabledReason
from shouhou.workorders.models import WorkOrderEvent


class WebhookEndpoint(TimeStampedModel):
    """An HTTPS URL of an organisation that receives its work-order events, signed.

    ``secret`` signs every delivery (HMAC-SHA256 over ``"<timestamp>.<body>"``). After a
    rotation the previous secret still signs, beside the new one, until
    ``previous_secret_expires_at``, so the receiver can switch without losing a delivery.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("organisation"),
    )
    url = models.URLField(_("URL"), max_length=500, help_text=_("Must start with https://."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_('Event types to send, e.g. ["status_changed"]; empty sends every type.'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("signing secret"), max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the first failed attempt after a success, cleared by the next success: the
    # ``webhooks.disable_failing`` job deactivates an endpoint failing for too long.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(
        _("why it is disabled"),
        max_length=20,
        choices=WebhookDisabledReason.choices,
        blank=True,
        editable=False,
    )
    disabled_detail = models.CharField(
        _("last error before it was disabled"), max_length=500, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["organization", "url"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event sent to one endpoint, retried with back-off for up to 24 hours.

    A test delivery (``event_type == "ping"``, sent from the console or the API) has no
    work-order event and is tried once.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        WorkOrderEvent,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("event"),
        null=True,
        blank=True,
    )
    event_type = models.CharField(_("event type"), max_length=40)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=WebhookDeliveryState.choices,
        default=WebhookDeliveryState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhooks_delivery_once"),
            models.CheckConstraint(
                condition=Q(event__isnull=False) | Q(event_type="ping"),
                name="webhooks_delivery_event_or_ping",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_log"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(
                    state__in=[WebhookDeliveryState.PENDING, WebhookDeliveryState.RETRYING]
                ),
                name="webhooks_delivery_due",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(state=WebhookDeliveryState.RUNNING),
                name="webhooks_delivery_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}: {self.state}"

    @property
    def key(self) -> str:
        """The idempotency key the receiver sees on every attempt of this delivery."""
        return f"whd_{self.pk}"


class WebhookAttempt(models.Model):
    """The log of one HTTP attempt: when, how long, the response code or the error."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    request_headers = models.JSONField(_("headers sent"), default=dict, blank=True)
    request_body = models.TextField(_("body sent"), blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"
