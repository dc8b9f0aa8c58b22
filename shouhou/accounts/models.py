"""People and organisations: the phone-first User, tenants, their outlets and memberships."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.choices import CertificationTier, OrganizationKind, Role, Weekday
from shouhou.core.models import TimeStampedModel, require_same_organization
from shouhou.core.phone import mask_phone, national_format, normalize_phone

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$",
    _("Use lower-case letters, digits, hyphens and underscores."),
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, phone: str, password: str | None, **extra: Any) -> User:
        user = self.model(phone=normalize_phone(phone), **extra)
        if extra.get("email"):
            user.email = self.normalize_email(extra["email"])
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(phone, password, **extra)

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(phone, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Accept any spelling of the number at login ("138 1234 5678", "+86...").
        with contextlib.suppress(ValidationError):  # an unparsable number finds no one
            username = normalize_phone(username or "")
        return self.get(**{self.model.USERNAME_FIELD: username})


class User(AbstractBaseUser, PermissionsMixin):
    """A person: customer, technician or staff. Identified by a unique mobile number (E.164).

    Customers are users without any membership; staff and technicians get their powers from
    ``Membership`` rows, never from Django groups.
    """

    phone = models.CharField(
        _("mobile number"),
        max_length=16,
        unique=True,
        help_text=_("Mainland China mobile numbers by default; +country code for others."),
    )
    email = models.EmailField(_("email"), blank=True)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    is_staff = models.BooleanField(
        _("can use the admin"),
        default=False,
        help_text=_("Organisation administrators and platform staff."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined at"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.masked_phone

    def clean(self) -> None:
        super().clean()
        if self.phone:
            self.phone = normalize_phone(self.phone)
        self.email = self.__class__.objects.normalize_email(self.email)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def national_phone(self) -> str:
        return national_format(self.phone)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Organization(TimeStampedModel):
    """A tenant: the platform operator, a brand, a service provider or a merchant workshop.

    All tenant data points at one organisation; members see only their organisations' data.
    """

    name = models.CharField(_("name"), max_length=128)
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=16, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
        verbose_name=_("network"),
        help_text=_(
            "The platform or brand whose network this organisation serves in (a merchant on a "
            "platform, a provider in a brand's network). Work orders of the network can be "
            "given to its partners."
        ),
    )
    contact_phone = models.CharField(_("service hotline"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Outlet(TimeStampedModel):
    """A service point of an organisation: a repair shop, service centre or workshop.

    It has a place on the map, opening hours, the product categories it serves, the brands it
    is authorised for and a certification tier. Outlet matching (issue 4) reads all of these.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="outlets",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=128)
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("street address"), max_length=255)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    categories = models.ManyToManyField(
        "catalog.ProductCategory",
        blank=True,
        related_name="outlets",
        verbose_name=_("categories served"),
    )
    authorised_brands = models.ManyToManyField(
        "catalog.Brand",
        blank=True,
        related_name="authorised_outlets",
        verbose_name=_("authorised brands"),
    )
    certification_tier = models.CharField(
        _("certification tier"),
        max_length=16,
        choices=CertificationTier.choices,
        default=CertificationTier.AUTHORISED,
    )
    service_bays = models.PositiveSmallIntegerField(
        _("service bays"),
        default=1,
        help_text=_("How many jobs the outlet can take at the same time (counters, lifts)."),
    )
    rating_total = models.DecimalField(
        _("sum of rating averages"), max_digits=12, decimal_places=2, default=0, editable=False
    )
    rating_count = models.PositiveIntegerField(_("ratings"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="accounts_outlet_unique_code"
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="accounts_outlet_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rating(self) -> Decimal | None:
        """The mean of the ratings received (1–5), or None before the first one."""
        if not self.rating_count:
            return None
        return (self.rating_total / self.rating_count).quantize(Decimal("0.01"))

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address}"

    def is_open_at(self, moment: dt.datetime) -> bool:
        """Whether the outlet is open at ``moment`` (converted to the local time zone)."""
        local = timezone.localtime(moment)
        return any(
            hours.opens_at <= local.time() < hours.closes_at
            for hours in self.opening_hours.all()
            if hours.weekday == local.weekday()
        )


class OpeningHours(models.Model):
    """One opening period of an outlet on a weekday (several per day are allowed)."""

    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.CASCADE,
        related_name="opening_hours",
        verbose_name=_("outlet"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="accounts_openinghours_closes_after_opening",
                violation_error_message=_("Closing time must be after opening time."),
            ),
            models.UniqueConstraint(
                fields=["outlet", "weekday", "opens_at"],
                name="accounts_openinghours_unique_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Membership(TimeStampedModel):
    """What a user may do for an organisation. One row per (user, organisation, role).

    Technicians and outlet managers may be tied to an outlet of the same organisation.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("outlet"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization", "role", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="accounts_membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"

    def clean(self) -> None:
        require_same_organization(
            self, {"outlet": _("The outlet must belong to the same organisation.")}
        )


class SmsCode(models.Model):
    """A one-time login code sent by SMS. Only its hash is stored.

    Valid for ``SMS_CODE_TTL_SECONDS``; locked after ``SMS_CODE_MAX_ATTEMPTS`` wrong tries;
    used at most once. Rows also serve as the send log for the per-phone rate limits.
    """

    phone = models.CharField(_("mobile number"), max_length=16, db_index=True)
    code_hash = models.CharField(max_length=128)
    purpose = models.CharField(max_length=16, default="login")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [models.Index(fields=["phone", "-created_at"], name="accounts_sms_phone_recent")]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"
