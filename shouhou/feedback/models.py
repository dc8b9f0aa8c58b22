"""服务评价: the customer's rating of a finished order, and the follow-ups bad ratings open."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization, Outlet
from shouhou.core.models import TimeStampedModel
from shouhou.dispatch.models import Technician
from shouhou.workorders.models import WorkOrder

_SCORE = [MinValueValidator(1), MaxValueValidator(5)]


def _score_field(label: object) -> models.PositiveSmallIntegerField[int, int]:
    return models.PositiveSmallIntegerField(label, validators=_SCORE)  # type: ignore[arg-type]


class Rating(models.Model):
    """One rating per work order, on four dimensions from 1 to 5 (Midea's 服务评价):
    服务态度 attitude, 专业水平 professionalism, 响应速度 responsiveness, 服务流程与价格透明
    transparency of process and price."""

    work_order = models.OneToOneField(
        WorkOrder, on_delete=models.CASCADE, related_name="rating", verbose_name=_("work order")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ratings",
        verbose_name=_("technician"),
    )
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ratings",
        verbose_name=_("outlet"),
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    attitude = _score_field(_("service attitude"))
    professionalism = _score_field(_("professional skill"))
    responsiveness = _score_field(_("response speed"))
    transparency = _score_field(_("clear process and prices"))
    average = models.DecimalField(_("average"), max_digits=3, decimal_places=2)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attitude__gte=1, attitude__lte=5)
                & Q(professionalism__gte=1, professionalism__lte=5)
                & Q(responsiveness__gte=1, responsiveness__lte=5)
                & Q(transparency__gte=1, transparency__lte=5),
                name="feedback_rating_scores_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order} {self.average}"

    @staticmethod
    def average_of(*scores: int) -> Decimal:
        return (Decimal(sum(scores)) / Decimal(len(scores))).quantize(Decimal("0.01"))


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class FollowUp(TimeStampedModel):
    """A task for staff to call a customer back (opened by a rating averaging 2 or less)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("organisation"),
    )
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("work order"),
    )
    rating = models.ForeignKey(
        Rating, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    resolution = models.TextField(_("what was done"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["status", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "rating"], name="feedback_followup_one_per_rating"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order} {self.reason}"
