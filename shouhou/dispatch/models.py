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
from shouhou.catalog.models import ServiceType, SkillTag
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


class DispatchMode(models.TextChoices):
    """How an accepted order finds its technician."""

    MANUAL = "manual", _("Manual: a dispatcher assigns")
    AUTO = "auto", _("Automatic: the best-ranked technician is assigned")
    OFFER = "offer", _("Offer: the best-ranked technician accepts or declines in time")
    POOL = "pool", _("Job pool: qualified technicians nearby grab it")


class DispatchPolicy(TimeStampedModel):
    """An organisation's weights for ranking technicians (each term is scaled to 0–1), its
    dispatch mode and the offer and pool times."""

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
    mode = models.CharField(
        _("dispatch mode"),
        max_length=8,
        choices=DispatchMode.choices,
        default=DispatchMode.MANUAL,
        help_text=_("How accepted orders find a technician; a service type may differ."),
    )
    offer_timeout_seconds = models.PositiveIntegerField(
        _("offer time (seconds)"),
        default=180,
        validators=[MinValueValidator(15)],
        help_text=_("How long a technician has to answer an offer before the next one gets it."),
    )
    pool_timeout_seconds = models.PositiveIntegerField(
        _("pool time (seconds)"),
        default=1800,
        validators=[MinValueValidator(60)],
        help_text=_("How long a job stays in the pool before it returns to the dispatcher."),
    )

    class Meta:
        verbose_name = _("dispatch policy")
        verbose_name_plural = _("dispatch policies")

    def __str__(self) -> str:
        return str(self.organization)


class DispatchModeOverride(TimeStampedModel):
    """A different dispatch mode for one service type (installations to the pool, repairs by
    offer). Without a row the organisation's policy mode applies."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="dispatch_mode_overrides",
        verbose_name=_("organisation"),
    )
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        related_name="dispatch_mode_overrides",
        verbose_name=_("service type"),
    )
    mode = models.CharField(_("dispatch mode"), max_length=8, choices=DispatchMode.choices)

    class Meta:
        verbose_name = _("dispatch mode for a service type")
        verbose_name_plural = _("dispatch modes for service types")
        ordering = ["organization", "service_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_type"], name="dispatch_modeoverride_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type}: {self.get_mode_display()}"


class AttemptOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ATTEMPT_OUTCOME_COLOURS: dict[str, str] = {
    AttemptOutcome.PENDING: "orange",
    AttemptOutcome.ACCEPTED: "green",
    AttemptOutcome.DECLINED: "red",
    AttemptOutcome.EXPIRED: "grey",
    AttemptOutcome.WITHDRAWN: "grey",
}


class DispatchAttempt(TimeStampedModel):
    """One try at giving an order to somebody, and how it ended.

    ``offer``: one technician may take it until ``expires_at``. ``pool``: no technician
    until one grabs it (the row is the pool entry; ``expires_at`` ends the pool time).
    ``auto`` and ``manual``: the order was assigned to the technician, who accepts or
    declines on the workbench. At most one attempt per order is pending at a time (a
    database constraint), so an order is never offered twice at once. The first attempt of
    each order gives the first-dispatch success rate.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="dispatch_attempts",
        verbose_name=_("organisation"),
        help_text=_("The organisation that owns the work order."),
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="dispatch_attempts",
        verbose_name=_("work order"),
    )
    mode = models.CharField(_("dispatch mode"), max_length=8, choices=DispatchMode.choices)
    technician = models.ForeignKey(
        Technician,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispatch_attempts",
        verbose_name=_("technician"),
        help_text=_("Empty while a pooled job waits to be grabbed."),
    )
    sequence = models.PositiveSmallIntegerField(
        _("attempt"), default=1, help_text=_("1 for the order's first dispatch.")
    )
    offered_at = models.DateTimeField(_("offered at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=AttemptOutcome.choices,
        default=AttemptOutcome.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    explanation = models.JSONField(_("ranking explanation"), default=dict, blank=True)

    class Meta:
        verbose_name = _("dispatch attempt")
        verbose_name_plural = _("dispatch attempts")
        ordering = ["work_order", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order"],
                condition=Q(outcome="pending"),
                name="dispatch_attempt_one_pending_per_order",
            ),
            models.UniqueConstraint(
                fields=["work_order", "sequence"], name="dispatch_attempt_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(mode="pool") | Q(technician__isnull=False),
                name="dispatch_attempt_technician_unless_pool",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(outcome="pending"),
                name="dispatch_attempt_due",
            ),
            models.Index(fields=["technician", "outcome"], name="dispatch_attempt_technician"),
            models.Index(fields=["organization", "offered_at"], name="dispatch_attempt_org_time"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} #{self.sequence} {self.mode} {self.outcome}"

    @property
    def outcome_colour(self) -> str:
        return ATTEMPT_OUTCOME_COLOURS.get(self.outcome, "grey")


class RoutePlan(models.Model):
    """A technician's route for one day: the on-site visits in order, with ETAs.

    Built by ``dispatch.routes.route_plan_build`` (one row per technician and day, replaced
    on every re-plan). ``unassigned`` lists the day's jobs that could not be fitted — outside
    the shift, a window that cannot be met, a missing skill — so that nothing is silently
    dropped: each entry is ``{"work_order": number, "reason": code}``.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="route_plans",
        verbose_name=_("organisation"),
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.CASCADE,
        related_name="route_plans",
        verbose_name=_("technician"),
    )
    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"))
    starts_at = models.DateTimeField(_("leaves at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("back at"), null=True, blank=True)
    total_travel_seconds = models.PositiveIntegerField(_("total travel (seconds)"), default=0)
    total_distance_m = models.PositiveIntegerField(_("total distance (metres)"), default=0)
    unassigned = models.JSONField(_("jobs that do not fit"), default=list, blank=True)
    solver = models.CharField(_("solver"), max_length=16, blank=True)
    solve_seconds = models.FloatField(_("solve time (seconds)"), default=0)

    class Meta:
        verbose_name = _("route plan")
        verbose_name_plural = _("route plans")
        ordering = ["-day", "technician"]
        constraints = [
            models.UniqueConstraint(fields=["technician", "day"], name="dispatch_routeplan_unique")
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.day}"

    @property
    def total_travel_minutes(self) -> int:
        return round(self.total_travel_seconds / 60)


class RouteStop(models.Model):
    """One visit on a route plan: its place in the day, the ETA and the planned work time."""

    plan = models.ForeignKey(
        RoutePlan, on_delete=models.CASCADE, related_name="stops", verbose_name=_("route plan")
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="route_stops",
        verbose_name=_("work order"),
    )
    visit = models.ForeignKey(
        "workorders.Visit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="route_stops",
        verbose_name=_("visit"),
    )
    sequence = models.PositiveSmallIntegerField(_("order in the day"))
    eta = models.DateTimeField(_("expected arrival"))
    planned_start = models.DateTimeField(_("work starts"))
    planned_end = models.DateTimeField(_("work ends"))
    travel_seconds = models.PositiveIntegerField(_("travel from the previous stop (seconds)"))
    distance_m = models.PositiveIntegerField(_("distance from the previous stop (metres)"))

    class Meta:
        verbose_name = _("route stop")
        verbose_name_plural = _("route stops")
        ordering = ["plan", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="dispatch_routestop_seq"),
            models.UniqueConstraint(
                fields=["plan", "work_order"], name="dispatch_routestop_one_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.sequence}"


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
