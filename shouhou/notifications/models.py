"""Delivery of work-order events to their consumers (the outbox's bookkeeping)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.notifications.choices import (
    Audience,
    DeliveryState,
    MessageState,
    NotificationChannel,
    NotificationKind,
)
from shouhou.workorders.models import WorkOrderEvent


class EventDelivery(models.Model):
    """One event handed to one consumer: at most one row per (event, consumer).

    The row is the claim (a worker moves it to ``running`` with a conditional UPDATE and owns it
    until ``claimed_until``), the retry schedule (``next_attempt_at``, ``attempts``) and the
    receipt (``delivered_at``). A retry after a crash skips consumers whose row is delivered.
    """

    event = models.ForeignKey(
        WorkOrderEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    consumer = models.CharField(_("consumer"), max_length=40)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "consumer"], name="notifications_delivery_once"
            ),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.DELIVERED) | Q(delivered_at__isnull=False),
                name="notifications_delivery_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=[DeliveryState.PENDING, DeliveryState.RETRYING]),
                name="notifications_delivery_due",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(state=DeliveryState.RUNNING),
                name="notifications_delivery_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.consumer}: {self.state}"


class NotificationTemplate(models.Model):
    """The words of one message: kind × audience × channel × language.

    A row without an organisation is a built-in default (it overrides the code constants in
    ``notifications.defaults``); an organisation's own row overrides both. ``subject`` and
    ``body`` use Django template syntax over the context documented in docs/notifications.md.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_templates",
        verbose_name=_("organisation"),
        help_text=_("Empty: the built-in default for every organisation."),
    )
    kind = models.CharField(_("event"), max_length=24, choices=NotificationKind.choices)
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=NotificationChannel.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["organization", "kind", "audience", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "audience", "channel", "language"],
                name="notifications_template_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.audience} · {self.channel} · {self.language}"

    def clean(self) -> None:
        from django.template import Engine, TemplateSyntaxError

        engine = Engine(debug=False, autoescape=False)
        for name in ("subject", "body"):
            try:
                engine.from_string(getattr(self, name))
            except TemplateSyntaxError as exc:
                raise ValidationError({name: str(exc)}) from exc


class Message(models.Model):
    """One message to one recipient on one channel: the record, the queue and the inbox row.

    At most one row per (event, kind, recipient, channel), so running the consumer twice never
    makes a second message; a worker sends only after moving the row to ``sending`` with a
    conditional UPDATE, so a message is never sent twice.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("work order"),
    )
    event = models.ForeignKey(
        WorkOrderEvent,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("event"),
    )
    kind = models.CharField(_("event"), max_length=24, choices=NotificationKind.choices)
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=NotificationChannel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("recipient"),
    )
    # phone number, email address, WeChat openid or push endpoint; "user:<id>" for in-app
    address = models.CharField(_("address"), max_length=255)
    language = models.CharField(_("language"), max_length=8)
    urgent = models.BooleanField(_("urgent"), default=False)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider id"), max_length=128, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "kind", "address", "channel"], name="notifications_message_once"
            ),
            models.CheckConstraint(
                condition=~Q(state=MessageState.SENT) | Q(sent_at__isnull=False),
                name="notifications_message_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=[MessageState.QUEUED, MessageState.DEFERRED]),
                name="notifications_message_due",
            ),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(channel=NotificationChannel.INAPP),
                name="notifications_message_inbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.address} ({self.channel})"


DEFAULT_QUIET_START = dt.time(22, 0)
DEFAULT_QUIET_END = dt.time(8, 0)


class NotificationPreference(models.Model):
    """A user's channels and quiet hours (local time, Asia/Shanghai). No row: the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    sms = models.BooleanField(_("SMS"), default=True)
    wechat = models.BooleanField(_("WeChat"), default=True)
    email = models.BooleanField(_("email"), default=True)
    webpush = models.BooleanField(_("browser push"), default=True)
    quiet_hours = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=DEFAULT_QUIET_START)
    quiet_end = models.TimeField(_("quiet until"), default=DEFAULT_QUIET_END)
    # The WeChat Official Account openid of this user (set when they follow the account).
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    def allows(self, channel: str) -> bool:
        """In-app is always on (it is the record); the others follow the user's switches."""
        if channel == NotificationChannel.INAPP:
            return True
        return bool(getattr(self, channel))


class PushSubscription(models.Model):
    """One browser that agreed to receive Web Push for a user (RFC 8030 / 8291).

    ``endpoint`` is the push service URL the browser handed out; it is unique: the same browser
    subscribing again (or for another user after a new sign-in) updates the one row. ``p256dh``
    (the browser's P-256 public key) and ``auth`` (its 16-byte secret) encrypt the payload so
    only that browser can read it. A push service answering 404/410 deletes the row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("user"),
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("browser public key (p256dh)"), max_length=100)
    auth = models.CharField(_("browser auth secret"), max_length=32)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("browser push subscription")
        verbose_name_plural = _("browser push subscriptions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} · {self.endpoint_host}"

    @property
    def endpoint_host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.endpoint).hostname or ""
