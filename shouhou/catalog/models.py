"""The catalog: what an organisation services, how faults are classified, what things cost.

Every row belongs to one organisation (a brand's model list, a provider's fault types, a
workshop's price list) and is only visible to that organisation's members.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Organization, code_validator
from shouhou.catalog.choices import PriceItemKind, ServiceKind, Unit
from shouhou.core.models import TimeStampedModel, require_same_organization
from shouhou.core.money import MoneyField


class OrganizationOwned(TimeStampedModel):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )

    class Meta:
        abstract = True


def _unique_code(model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["organization", "code"], name=f"catalog_{model}_unique_code"
    )


class ProductCategory(OrganizationOwned):
    """A node in the product tree (家电 → 空调 → 挂式空调), parent in the same organisation."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=48, validators=[code_validator])
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["organization", "sort_order", "name"]
        constraints = [_unique_code("productcategory")]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names: list[str] = []
        node: ProductCategory | None = self
        seen: set[int] = set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def clean(self) -> None:
        require_same_organization(
            self, {"parent": _("The parent must be in the same organisation.")}
        )
        node: ProductCategory | None = self.parent
        while node is not None:
            if node.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own ancestor.")})
            node = node.parent

    def descendant_ids(self) -> set[int]:
        """Ids of this category and every category under it."""
        found = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                ProductCategory.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            found.update(frontier)
        return found


class Brand(OrganizationOwned):
    """A product brand the organisation services (its own, or brands it is authorised for)."""

    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=48, validators=[code_validator])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["organization", "name"]
        constraints = [_unique_code("brand")]

    def __str__(self) -> str:
        return self.name


class ProductModel(OrganizationOwned):
    """A sellable model (iPhone 15, KFR-35GW, 帕萨特 2019) with its warranty period."""

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="product_models", verbose_name=_("brand")
    )
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        related_name="product_models",
        verbose_name=_("category"),
    )
    name = models.CharField(_("name"), max_length=128)
    code = models.CharField(_("model code"), max_length=64, validators=[code_validator])
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=12)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        ordering = ["organization", "brand__name", "name"]
        constraints = [_unique_code("productmodel")]

    def __str__(self) -> str:
        return f"{self.brand.name} {self.name}"

    def clean(self) -> None:
        require_same_organization(
            self,
            {
                "brand": _("The brand must be in the same organisation."),
                "category": _("The category must be in the same organisation."),
            },
        )


class ServiceType(OrganizationOwned):
    """A kind of service the organisation offers (repair, install, clean, ...)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ServiceKind.choices)
    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=48, validators=[code_validator])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["organization", "kind", "name"]
        constraints = [_unique_code("servicetype")]

    def __str__(self) -> str:
        return self.name


class SkillTag(OrganizationOwned):
    """A skill a technician can have and a fault can require (空调制冷, 德系车专修)."""

    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=48, validators=[code_validator])

    class Meta:
        verbose_name = _("skill tag")
        verbose_name_plural = _("skill tags")
        ordering = ["organization", "name"]
        constraints = [_unique_code("skilltag")]

    def __str__(self) -> str:
        return self.name


class FaultType(OrganizationOwned):
    """A classified fault of a category (屏幕碎裂, 不制冷), with what it takes to fix it.

    ``required_skills`` are hard constraints for dispatch; the typical duration and the typical
    lines (labour, parts) give the price range shown to the customer before they commit.
    """

    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        related_name="fault_types",
        verbose_name=_("category"),
    )
    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=48, validators=[code_validator])
    description = models.TextField(_("description"), blank=True)
    required_skills = models.ManyToManyField(
        SkillTag, blank=True, related_name="fault_types", verbose_name=_("required skills")
    )
    typical_duration_minutes = models.PositiveIntegerField(
        _("typical duration (minutes)"), default=60, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("fault type")
        verbose_name_plural = _("fault types")
        ordering = ["organization", "category", "name"]
        constraints = [_unique_code("faulttype")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        require_same_organization(
            self, {"category": _("The category must be in the same organisation.")}
        )


class FaultTypeLine(models.Model):
    """A typical labour/part/material line of a fault type, referring to a price-list code.

    The price comes from the price list in force on the day, so a price change needs no edit
    here; ``quantity`` says how many units a typical repair uses.
    """

    fault_type = models.ForeignKey(
        FaultType,
        on_delete=models.CASCADE,
        related_name="typical_lines",
        verbose_name=_("fault type"),
    )
    item_code = models.CharField(_("price-list code"), max_length=64)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    is_optional = models.BooleanField(
        _("only sometimes needed"),
        default=False,
        help_text=_("Counted in the upper end of the price range only."),
    )

    class Meta:
        verbose_name = _("typical line")
        verbose_name_plural = _("typical lines")
        constraints = [
            models.UniqueConstraint(
                fields=["fault_type", "item_code"], name="catalog_faulttypeline_unique_item"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="catalog_faulttypeline_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} × {self.quantity}"


class PriceListItem(OrganizationOwned):
    """One price of an organisation's price list, in force from ``valid_from`` until ``valid_to``.

    A code can have several rows over time (and per product model); at most one generic row
    per code may start on the same day. Prices are in CNY, tax included.
    """

    code = models.CharField(_("code"), max_length=64, validators=[code_validator])
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=PriceItemKind.choices)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.JOB)
    unit_price = MoneyField(_("unit price (CNY)"), validators=[MinValueValidator(Decimal("0"))])
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_items",
        verbose_name=_("category"),
    )
    product_model = models.ForeignKey(
        ProductModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_items",
        verbose_name=_("only for model"),
        help_text=_("Leave empty for a price that applies to every model."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("price-list item")
        verbose_name_plural = _("price-list items")
        ordering = ["organization", "code", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="catalog_pricelistitem_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="catalog_pricelistitem_valid_range",
                violation_error_message=_("The end date must not be before the start date."),
            ),
            models.UniqueConstraint(
                fields=["organization", "code", "valid_from"],
                condition=Q(product_model__isnull=True),
                name="catalog_pricelistitem_unique_generic_start",
            ),
            models.UniqueConstraint(
                fields=["organization", "code", "product_model", "valid_from"],
                condition=Q(product_model__isnull=False),
                name="catalog_pricelistitem_unique_model_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "code", "valid_from"], name="catalog_price_lookup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ¥{self.unit_price}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self) -> None:
        require_same_organization(
            self,
            {
                "product_model": _("The model must be in the same organisation."),
                "category": _("The category must be in the same organisation."),
            },
        )
