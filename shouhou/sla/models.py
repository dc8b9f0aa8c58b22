"""SLA policies (targets per organisation, narrowed by service type and/or priority) and the
per-order clocks that measure them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization
from shouhou.catalog.models import ServiceType
from shouhou.core.models import TimeStampedModel, require_same_organization
from shouhou.sla.choices import SlaTarget
from shouhou.workorders.choices import Priority
from shouhou.workorders.models import WorkOrder

# Nobody promises more than a year.
MAX_MINUTES = 60 * 24 * 365
DUPLICATE_MESSAGE = _(
    "This organisation already has an active policy for this service type and priority."
)


def _minutes_field(label: Any, help_text: Any) -> models.PositiveIntegerField:  # type: ignore[type-arg]
    return models.PositiveIntegerField(
        label,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES)],
        help_text=help_text,
    )


class SlaPolicy(TimeStampedModel):
    """The time an organisation promises for one kind of order.

    A policy with neither service type nor priority is the organisation's default; one with a
    service type and/or a priority applies only to those orders. The most specific active
    policy wins (``selectors.sla_policy_for``). At most one active policy per (organisation,
    service type, priority) — the database refuses a second.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=100)
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("service type"),
        help_text=_("Empty: every service type."),
    )
    priority = models.CharField(
        _("priority"),
        max_length=8,
        choices=Priority.choices,
        blank=True,
        help_text=_("Empty: every priority."),
    )
    response_minutes = _minutes_field(
        _("response (minutes)"), _("From submitted to accepted (受理).")
    )
    arrival_minutes = _minutes_field(
        _("arrival / start (minutes)"),
        _("From accepted to service started: technician checked in, or device received."),
    )
    resolution_minutes = _minutes_field(
        _("resolution (minutes)"), _("From submitted to completed (完工).")
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Warn the technician and staff when this share of a target has passed."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["organization", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_type", "priority"],
                condition=Q(is_active=True, service_type__isnull=False),
                name="sla_policy_unique_active_for_service_type",
                violation_error_message=DUPLICATE_MESSAGE,
            ),
            models.UniqueConstraint(
                fields=["organization", "priority"],
                condition=Q(is_active=True, service_type__isnull=True),
                name="sla_policy_unique_active_for_any_service_type",
                violation_error_message=DUPLICATE_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(response_minutes__gte=1)
                & Q(arrival_minutes__gte=1)
                & Q(resolution_minutes__gte=1),
                name="sla_policy_targets_positive",
                violation_error_message=_("Every target must be at least one minute."),
            ),
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1, warn_at_percent__lte=99),
                name="sla_policy_warn_at_percent_range",
                violation_error_message=_("Warn between 1 % and 99 % of a target."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        require_same_organization(
            self, {"service_type": _("Choose a service type of this organisation.")}
        )
        if (
            self.resolution_minutes is not None
            and self.response_minutes is not None
            and self.resolution_minutes < self.response_minutes
        ):
            raise ValidationError(
                {
                    "resolution_minutes": _(
                        "The resolution target cannot be shorter than the response target."
                    )
                }
            )


class SlaClock(models.Model):
    """One SLA target of one work order: when it started, when it is due, and what happened.

    Written only by ``sla.services`` inside the work order's own transactions (through the
    ``workorders.hooks``), and by the periodic job that claims warnings and breaches with a
    conditional UPDATE. While the order is on hold the clock is paused (``paused_at``); on
    resume ``due_at`` and ``warn_at`` move by the paused time, which adds to
    ``paused_seconds``. A clock ends met (``met_at``) or cancelled (``cancelled_at``), never
    both; ``warned_at`` and ``breached_at`` are set at most once.
    """

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="sla_clocks",
        verbose_name=_("work order"),
        db_index=False,  # sla_clock_unique leads with it
    )
    policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clocks",
        verbose_name=_("policy"),
        help_text=_("Empty: the built-in default targets (or a policy since deleted)."),
    )
    target = models.CharField(_("target"), max_length=12, choices=SlaTarget.choices)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"))
    started_at = models.DateTimeField(_("started at"))
    warn_at = models.DateTimeField(_("warn at"))
    due_at = models.DateTimeField(_("due at"))
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused (seconds)"), default=0)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["work_order", "due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "target"], name="sla_clock_unique"),
            models.CheckConstraint(
                condition=Q(met_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="sla_clock_met_or_cancelled",
            ),
        ]
        indexes = [
            # the job's two questions: who is past the warning point, who is past due
            models.Index(
                fields=["warn_at"],
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True, warned_at__isnull=True),
                name="sla_clock_to_warn",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(
                    met_at__isnull=True, cancelled_at__isnull=True, breached_at__isnull=True
                ),
                name="sla_clock_to_breach",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.target}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    def remaining(self, now: dt.datetime) -> dt.timedelta:
        """Time left before the due time (negative when overdue); frozen while paused."""
        end = self.met_at or self.cancelled_at or self.paused_at or now
        return self.due_at - end

    def state(self, now: dt.datetime) -> str:
        """running, warning, overdue, paused, met, met_late or cancelled (choices.CLOCK_STATES)."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.met_at is not None:
            return "met" if self.met_at <= self.due_at else "met_late"
        moment = self.paused_at or now
        if self.due_at <= moment:
            return "overdue"
        if self.paused_at is not None:
            return "paused"
        return "warning" if self.warn_at <= now else "running"
