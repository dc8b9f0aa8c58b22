"""Technicians as dispatch sees them: skills with levels, home base, service area, shifts,
live status and location, daily capacity; and each organisation's dispatch weights."""

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


class TechnicianStatus(models.TextChoices):
    OFF_DUTY = "off_duty", _("Off duty")
    AVAILABLE = "available", _("Available")
    EN_ROUTE = "en_route", _("On the way")
    ON_SITE = "on_site", _("On site")


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
    status = models.CharField(
        _("live status"),
        max_length=10,
        choices=TechnicianStatus.choices,
        default=TechnicianStatus.OFF_DUTY,
    )
    last_latitude = models.DecimalField(
        _("last known latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    last_longitude = models.DecimalField(
        _("last known longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    last_seen_at = models.DateTimeField(_("location updated at"), null=True, blank=True)
    service_radius_km = models.PositiveSmallIntegerField(
        _("service radius (km)"),
        default=25,
        help_text=_("Jobs farther than this from the home base are not offered."),
    )
    daily_capacity = models.PositiveSmallIntegerField(
        _("jobs per day"), default=6, validators=[MinValueValidator(1)]
    )
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


class Shift(models.Model):
    """A technician's working hours on a weekday (several per day allowed)."""

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("technician")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text=_("0 is Monday."),
    )
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["technician", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="dispatch_shift_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class DayOff(models.Model):
    """A day a technician does not work (leave, training, public holiday)."""

    technician = models.ForeignKey(
        Technician,
        on_delete=models.CASCADE,
        related_name="days_off",
        verbose_name=_("technician"),
    )
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        constraints = [
            models.UniqueConstraint(fields=["technician", "day"], name="dispatch_dayoff_unique")
        ]

    def __str__(self) -> str:
        return str(self.day)


class DispatchPolicy(TimeStampedModel):
    """An organisation's weights for ranking technicians (each term is scaled to 0–1)."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="dispatch_policy",
        verbose_name=_("organisation"),
    )
    weight_travel = models.FloatField(_("weight of travel time"), default=0.45)
    weight_load = models.FloatField(_("weight of today's load"), default=0.2)
    weight_rating = models.FloatField(_("weight of rating"), default=0.15)
    weight_first_time_fix = models.FloatField(_("weight of first-time-fix rate"), default=0.1)
    weight_skill_level = models.FloatField(_("weight of skill level"), default=0.1)
    road_factor = models.FloatField(
        _("road factor"),
        default=1.35,
        help_text=_("Road distance ÷ straight-line distance for the default travel estimate."),
    )
    speed_kmh = models.FloatField(_("average speed (km/h)"), default=25)

    class Meta:
        verbose_name = _("dispatch policy")
        verbose_name_plural = _("dispatch policies")

    def __str__(self) -> str:
        return str(self.organization)


class OutletSlot(models.Model):
    """The bay counter of one appointment slot at an outlet (carry-in 到店 appointments).

    Created on first booking with the outlet's service bays as its ``capacity``; ``booked`` is
    changed only by a conditional ``UPDATE ... SET booked = booked + 1 WHERE booked <
    capacity`` (``dispatch.slots``), so concurrent bookings can never overbook, and the check
    constraint holds even if someone tries.
    """

    outlet = models.ForeignKey(
        Outlet, on_delete=models.CASCADE, related_name="slots", verbose_name=_("outlet")
    )
    start = models.DateTimeField(_("starts at"))
    end = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("bays"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    class Meta:
        verbose_name = _("outlet slot")
        verbose_name_plural = _("outlet slots")
        ordering = ["outlet", "start"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "start"], name="dispatch_outletslot_unique"),
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("capacity")),
                name="dispatch_outletslot_not_overbooked",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="dispatch_outletslot_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outlet} {self.start:%Y-%m-%d %H:%M} {self.booked}/{self.capacity}"


class SlotBooking(models.Model):
    """One work order holding one bay of an outlet slot. At most one booking per order:
    rescheduling moves it (``slot_book`` frees the old slot and takes the new one in one
    transaction); cancelling the order deletes it and frees the bay."""

    slot = models.ForeignKey(
        OutletSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.CASCADE, related_name="slot_bookings", verbose_name=_("outlet")
    )
    work_order = models.OneToOneField(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="slot_booking",
        verbose_name=_("work order"),
    )
    start = models.DateTimeField(_("starts at"))
    end = models.DateTimeField(_("ends at"))
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("slot booking")
        verbose_name_plural = _("slot bookings")
        ordering = ["start", "pk"]

    def __str__(self) -> str:
        return f"{self.outlet} {self.start:%Y-%m-%d %H:%M}"
