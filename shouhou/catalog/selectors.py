"""Reads for the catalog, all scoped to the caller's organisations, and price estimates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from shouhou.catalog.models import (
    Brand,
    FaultType,
    PriceListItem,
    ProductCategory,
    ProductModel,
    ServiceType,
    SkillTag,
)
from shouhou.core.cache import TtlCache
from shouhou.core.money import quantize
from shouhou.core.tenancy import scope_queryset

M = TypeVar("M", bound=Model)


def category_list_for_user(*, user: Any) -> QuerySet[ProductCategory]:
    return scope_queryset(ProductCategory.objects.select_related("parent__parent"), user)


def brand_list_for_user(*, user: Any) -> QuerySet[Brand]:
    return scope_queryset(Brand.objects.all(), user)


def product_model_list_for_user(*, user: Any) -> QuerySet[ProductModel]:
    return scope_queryset(ProductModel.objects.select_related("brand", "category"), user)


def service_type_list_for_user(*, user: Any) -> QuerySet[ServiceType]:
    return scope_queryset(ServiceType.objects.all(), user)


def skill_list_for_user(*, user: Any) -> QuerySet[SkillTag]:
    return scope_queryset(SkillTag.objects.all(), user)


def fault_type_list_for_user(*, user: Any) -> QuerySet[FaultType]:
    return scope_queryset(
        FaultType.objects.select_related("category").prefetch_related(
            "required_skills", "typical_lines"
        ),
        user,
    )


def price_item_list_for_user(*, user: Any) -> QuerySet[PriceListItem]:
    return scope_queryset(
        PriceListItem.objects.select_related("category", "product_model__brand"), user
    )


def price_items_in_force(
    *, organization_id: int, on: dt.date, product_model_id: int | None = None
) -> QuerySet[PriceListItem]:
    """Price rows of an organisation valid on ``on``: generic ones and, if given, the model's."""
    model_filter = Q(product_model__isnull=True)
    if product_model_id is not None:
        model_filter |= Q(product_model_id=product_model_id)
    return PriceListItem.objects.filter(
        model_filter,
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        organization_id=organization_id,
        valid_from__lte=on,
    )


@dataclass(frozen=True)
class EstimateLine:
    code: str
    name: str
    kind: str
    quantity: Decimal
    unit_price: Decimal
    is_optional: bool

    @property
    def amount(self) -> Decimal:
        return quantize(self.quantity * self.unit_price)


@dataclass(frozen=True)
class PriceEstimate:
    """The expected price of a fault: ``low`` counts the required lines, ``high`` all lines."""

    lines: tuple[EstimateLine, ...]
    missing_codes: tuple[str, ...]
    low: Decimal
    high: Decimal


def fault_type_estimate(
    *,
    fault_type: FaultType,
    on: dt.date | None = None,
    product_model_id: int | None = None,
    prices: list[PriceListItem] | None = None,
) -> PriceEstimate:
    """Price the typical lines of ``fault_type`` with the price list in force on ``on``.

    For each code, a price specific to ``product_model_id`` wins over the generic price, and a
    later ``valid_from`` wins over an earlier one. Codes without a price in force are reported
    in ``missing_codes`` rather than silently counted as free. A page pricing many faults of
    one organisation passes ``prices`` (``price_items_in_force`` for that day and model, fetched
    once) instead of one query per fault.
    """
    day = on or timezone.localdate()
    lines = list(fault_type.typical_lines.all())
    codes = [line.item_code for line in lines]
    if prices is None:
        prices = list(
            price_items_in_force(
                organization_id=fault_type.organization_id,
                on=day,
                product_model_id=product_model_id,
            ).filter(code__in=codes)
        )
    best: dict[str, PriceListItem] = {}
    for item in prices:
        if item.code not in codes or item.organization_id != fault_type.organization_id:
            continue
        current = best.get(item.code)
        rank = (item.product_model_id is not None, item.valid_from)
        if current is None or rank > (current.product_model_id is not None, current.valid_from):
            best[item.code] = item
    priced: list[EstimateLine] = []
    missing: list[str] = []
    for line in lines:
        found = best.get(line.item_code)
        if found is None:
            missing.append(line.item_code)
            continue
        item = found
        priced.append(
            EstimateLine(
                code=item.code,
                name=item.name,
                kind=item.kind,
                quantity=line.quantity,
                unit_price=item.unit_price,
                is_optional=line.is_optional,
            )
        )
    low = sum((line.amount for line in priced if not line.is_optional), Decimal("0"))
    high = sum((line.amount for line in priced), Decimal("0"))
    return PriceEstimate(
        lines=tuple(priced), missing_codes=tuple(missing), low=quantize(low), high=quantize(high)
    )


# --- hot reads on the intake path, remembered for CATALOG_CACHE_SECONDS --------------------

catalog_cache: TtlCache[Any] = TtlCache("CATALOG_CACHE_SECONDS")


def catalog_row(model: type[M], *, pk: int, organization_ids: Iterable[int]) -> M | None:
    """The catalog row ``pk`` of ``model`` if it belongs to one of ``organization_ids``.

    Remembered for a short time per process (catalog rows change rarely and intake reads them
    on every order); ``None`` when it does not exist or belongs to someone else.
    """
    allowed = frozenset(organization_ids)
    row = catalog_cache.get_or_compute(
        (model._meta.label, pk), lambda: model._default_manager.filter(pk=pk).first()
    )
    if row is None or row.organization_id not in allowed:  # type: ignore[attr-defined]
        return None
    return row


def fault_type_estimate_range(
    *, fault_type: FaultType, on: dt.date, product_model_id: int | None
) -> tuple[Decimal, Decimal]:
    """(low, high) of ``fault_type_estimate``, remembered per fault, model and day."""

    def compute() -> tuple[Decimal, Decimal]:
        estimate = fault_type_estimate(
            fault_type=fault_type, on=on, product_model_id=product_model_id
        )
        return estimate.low, estimate.high

    return catalog_cache.get_or_compute(("estimate", fault_type.pk, product_model_id, on), compute)


def fault_type_skill_codes(fault_type_id: int) -> tuple[str | None, tuple[str, ...]]:
    """The fault's code and the codes of the skills it requires (one query, remembered like
    the other catalog rows; a change of the required skills clears it in this process)."""

    def compute() -> tuple[str | None, tuple[str, ...]]:
        rows = list(
            FaultType.objects.filter(pk=fault_type_id).values_list("code", "required_skills__code")
        )
        if not rows:
            return None, ()
        return rows[0][0], tuple(sorted(code for _fault, code in rows if code is not None))

    return catalog_cache.get_or_compute(("fault-skills", fault_type_id), compute)
