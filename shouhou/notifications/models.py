"""Delivery of work-order events to their consumers (the outbox's bookkeeping)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.notifications.choices import DeliveryState
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
