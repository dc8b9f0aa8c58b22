"""Customers of an organisation, where they are, and what they own (the asset archive)."""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization
from shouhou.catalog.models import Brand, ProductCategory, ProductModel
from shouhou.core.models import TimeStampedModel
from shouhou.core.phone import mask_phone, validate_phone


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Customer(TimeStampedModel):
    """A person or company an organisation serves. A login (``user``) is optional: an agent
    may create a customer from a phone call. One customer per phone number per organisation."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="customers",
        verbose_name=_("organisation"),
        db_index=False,  # customers_customer_unique_phone leads with it
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_profiles",
        verbose_name=_("login"),
    )
    name = models.CharField(_("name"), max_length=64)
    phone = models.CharField(_("mobile number"), max_length=16, validators=[validate_phone])
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "phone"], name="customers_customer_unique_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Address(TimeStampedModel):
    """A service address of a customer, with coordinates for dispatch."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("customer")
    )
    label = models.CharField(_("label"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("street address"), max_length=255)
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
    is_default = models.BooleanField(_("default address"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["customer", "-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True),
                name="customers_address_one_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address}"


class Asset(TimeStampedModel):
    """Something a customer owns and has serviced: a phone, an appliance, a car.

    Identified by serial number, IMEI or VIN where known. The warranty end date defaults to the
    purchase date plus the model's warranty months.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="assets", verbose_name=_("customer")
    )
    category = models.ForeignKey(
        ProductCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("category")
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
        related_name="assets",
        verbose_name=_("model"),
    )
    nickname = models.CharField(_("nickname"), max_length=64, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True)
    imei = models.CharField(
        _("IMEI"),
        max_length=15,
        blank=True,
        validators=[RegexValidator(r"^\d{15}$", _("An IMEI has 15 digits."))],
    )
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate_number = models.CharField(_("licence plate"), max_length=16, blank=True)
    purchased_on = models.DateField(_("purchased on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["customer", "pk"]

    def __str__(self) -> str:
        if self.nickname:
            return self.nickname
        if self.product_model_id:
            return str(self.product_model)
        return str(self.category.name)

    def clean(self) -> None:
        if self.vin and len(self.vin) != 17:
            raise ValidationError({"vin": _("A VIN has 17 characters.")})
        if self.purchased_on and not self.warranty_until and self.product_model is not None:
            self.warranty_until = add_months(self.purchased_on, self.product_model.warranty_months)

    def is_under_warranty(self, on: dt.date) -> bool:
        return self.warranty_until is not None and on <= self.warranty_until
