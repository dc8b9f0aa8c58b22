"""Technicians as dispatch sees them: skills with levels and a home base.

Live status, shifts, service areas and capacity arrive with the dispatch engine (issue 4).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization, Outlet
from shouhou.catalog.models import SkillTag
from shouhou.core.models import TimeStampedModel


class Technician(TimeStampedModel):
    """A person who does service work for one organisation (an engineer, a mechanic).

    The login is the user; the membership with role ``technician`` gives the access. One
    technician row per (organisation, user).
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="technicians",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="technician_profiles",
        verbose_name=_("user"),
    )
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="technicians",
        verbose_name=_("outlet"),
    )
    skills = models.ManyToManyField(
        SkillTag,
        through="TechnicianSkill",
        blank=True,
        related_name="technicians",
        verbose_name=_("skills"),
    )
    home_latitude = models.DecimalField(
        _("home base latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    home_longitude = models.DecimalField(
        _("home base longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    rating_total = models.DecimalField(
        _("sum of rating averages"), max_digits=12, decimal_places=2, default=0, editable=False
    )
    rating_count = models.PositiveIntegerField(_("ratings"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["organization", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="dispatch_technician_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def rating(self) -> Decimal | None:
        """The mean of the ratings received (1–5), or None before the first one."""
        if not self.rating_count:
            return None
        return (self.rating_total / self.rating_count).quantize(Decimal("0.01"))


class TechnicianSkill(models.Model):
    """A skill of a technician with a level from 1 (learning) to 5 (expert)."""

    technician = models.ForeignKey(
        Technician,
        on_delete=models.CASCADE,
        related_name="skill_levels",
        verbose_name=_("technician"),
    )
    skill = models.ForeignKey(
        SkillTag, on_delete=models.CASCADE, related_name="+", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("level"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("technician skill")
        verbose_name_plural = _("technician skills")
        constraints = [
            models.UniqueConstraint(
                fields=["technician", "skill"], name="dispatch_technicianskill_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="dispatch_technicianskill_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} L{self.level}"
