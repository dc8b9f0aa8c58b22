"""The work order: the core aggregate of Shouhou, with its visits, events and attachments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization, Outlet
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.core.models import TimeStampedModel
from shouhou.customers.models import Address, Asset, Customer
from shouhou.dispatch.models import Technician
from shouhou.workorders.choices import (
    AttachmentKind,
    Channel,
    EventType,
    FulfilmentMode,
    Priority,
    VisitOutcome,
    VisitStatus,
    WorkOrderStatus,
)


class WorkOrderNumberSequence(models.Model):
    """Per day: on SQLite the last work-order number handed out (an atomic upsert bumps it);
    on PostgreSQL a mark that the day's sequence was restarted ahead of time (``last`` 0), the
    count itself living in a sequence (``services.workorder_number_next``)."""

    day = models.CharField(max_length=6, primary_key=True)  # YYMMDD in Asia/Shanghai
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("work-order number sequence")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class WorkOrder(TimeStampedModel):
    """A request for service, from report to closing.

    ``status`` is written only by ``services._workorder_transition`` (lock, compare, validate,
    save, event — one transaction); every other change goes through a service that records an
    event. ``organization`` owns the order (the brand, provider or platform that received it);
    ``service_organization`` is the organisation doing the work when it is not the owner (a
    provider serving a brand, a merchant on a platform). Both see the order; nobody else does.
    """

    # Unique through Meta.constraints, not unique=True: on PostgreSQL a unique CharField also
    # gets a varchar_pattern_ops index for LIKE 'x%', which no query here uses and every
    # intake paid for. Likewise the three foreign keys below that lead a composite index
    # (Meta.indexes) have no index of their own (db_index=False).
    number = models.CharField(_("number"), max_length=16)
    tracking_token = models.CharField(max_length=32, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("organisation"),
        db_index=False,  # workorders_queue
    )
    service_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="served_work_orders",
        verbose_name=_("serving organisation"),
        db_index=False,  # workorders_served_queue
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("customer")
    )
    asset = models.ForeignKey(
        Asset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("device"),
    )
    # What the customer told us, kept even when no asset record matches.
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    product_model = models.ForeignKey(
        ProductModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("model"),
    )
    device_identifier = models.CharField(
        _("serial / IMEI / VIN"),
        max_length=64,
        blank=True,
        help_text=_("Serial number, IMEI or VIN as the customer typed it."),
    )
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("service type"),
    )
    fault_type = models.ForeignKey(
        FaultType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("fault type"),
    )
    description = models.TextField(_("fault description"), max_length=2000)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    fulfilment_mode = models.CharField(
        _("fulfilment"), max_length=8, choices=FulfilmentMode.choices
    )
    address = models.ForeignKey(
        Address,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("service address"),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    preferred_start = models.DateTimeField(_("preferred from"), null=True, blank=True)
    preferred_end = models.DateTimeField(_("preferred until"), null=True, blank=True)
    appointment_start = models.DateTimeField(_("appointment from"), null=True, blank=True)
    appointment_end = models.DateTimeField(_("appointment until"), null=True, blank=True)
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("outlet"),
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("technician"),
        db_index=False,  # workorders_technician
    )
    assignment_accepted_at = models.DateTimeField(
        _("assignment accepted at"), null=True, blank=True
    )
    is_under_warranty = models.BooleanField(_("under warranty"), default=False)
    estimate_low = models.DecimalField(
        _("estimate from"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    estimate_high = models.DecimalField(
        _("estimate up to"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.SUBMITTED,
        editable=False,
    )
    held_from_status = models.CharField(max_length=12, blank=True, editable=False)
    hold_reason = models.CharField(_("hold reason"), max_length=255, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=255, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    started_at = models.DateTimeField(_("service started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    urge_count = models.PositiveSmallIntegerField(_("times urged"), default=0)
    last_urged_at = models.DateTimeField(_("last urged at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="workorders_workorder_unique_number"),
            models.UniqueConstraint(
                fields=["tracking_token"], name="workorders_workorder_unique_tracking_token"
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="workorders_workorder_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(preferred_end__isnull=True)
                | Q(preferred_start__isnull=True)
                | Q(preferred_end__gt=models.F("preferred_start")),
                name="workorders_workorder_preferred_window",
            ),
            models.CheckConstraint(
                condition=Q(appointment_end__isnull=True)
                | Q(appointment_start__isnull=True)
                | Q(appointment_end__gt=models.F("appointment_start")),
                name="workorders_workorder_appointment_window",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""),
                name="workorders_workorder_cancel_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "-submitted_at"], name="workorders_queue"
            ),
            models.Index(fields=["service_organization", "status"], name="workorders_served_queue"),
            models.Index(fields=["technician", "status"], name="workorders_technician"),
        ]

    def __str__(self) -> str:
        return self.number


class Visit(TimeStampedModel):
    """One trip of a technician to the customer (or one session at the bench) for an order.

    Outcomes make first-time-fix and repeat-visit rates fall out of the data.
    """

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="visits", verbose_name=_("work order")
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("technician"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    planned_start = models.DateTimeField(_("planned from"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned until"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("on the way at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_out_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=VisitOutcome.choices, blank=True
    )

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["work_order", "pk"]
        constraints = [
            # at most one visit in progress per order
            models.UniqueConstraint(
                fields=["work_order"],
                condition=Q(status__in=["planned", "en_route", "on_site"]),
                name="workorders_visit_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(outcome=""),
                name="workorders_visit_done_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number} #{self.pk}"


class WorkOrderEvent(models.Model):
    """Append-only: the timeline, the audit trail, the analytics feed and the outbox at once.

    Written in the same transaction as the change it records; ``delivered_at`` is set once
    every event consumer is done with it (``notifications.services``; docs/tasks.md).
    """

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("work order"),
        db_index=False,  # workorders_event_by_type leads with it
    )
    type = models.CharField(_("type"), max_length=24, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("acting as"), max_length=16, blank=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    is_internal = models.BooleanField(
        _("staff only"), default=False, help_text=_("Hidden from the customer's timeline.")
    )
    created_at = models.DateTimeField(_("time"), db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("work-order event")
        verbose_name_plural = _("work-order events")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(delivered_at__isnull=True),
                name="workorders_event_undelivered",
            ),
            models.Index(fields=["work_order", "type"], name="workorders_event_by_type"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.type}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the customer's file name: it can carry personal data and odd characters.
    return (
        f"workorders/{instance.work_order_id}/{instance.kind}/{instance.token}.{instance.extension}"
    )


def thumbnail_path(instance: Attachment, filename: str) -> str:
    return f"workorders/{instance.work_order_id}/{instance.kind}/{instance.token}-thumb.jpg"


class Attachment(models.Model):
    """A file on a work order: fault photos/videos, before/after photos, the signature.

    Checked by content (not by name), size-limited, images re-encoded without EXIF/GPS, with a
    thumbnail. See ``workorders.attachments``.
    """

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("work order"),
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices)
    token = models.CharField(max_length=32, unique=True, editable=False)
    extension = models.CharField(max_length=8, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    thumbnail = models.ImageField(upload_to=thumbnail_path, max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["work_order", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.token[:8]}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
