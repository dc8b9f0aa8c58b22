"""Outlet matching for carry-in and mail-in: which outlets may repair this product, ranked by
distance, with what the customer compares (price, rating, open now or when it next opens).

Hard rules exclude an outlet: inactive, outside the order's network, not serving the product's
category (an outlet serving 手机 serves 智能手机 and the other way round — the category's
ancestors and descendants count), not authorised for its brand (a product model brings its
brand and category), or with opening hours recorded but none in the coming week. An outlet
with no categories recorded serves every category, one with no brands recorded is a
multi-brand shop, one with no hours recorded is offered as "call for the hours": once any is
recorded it restricts. The rest are ordered by straight-line distance from the customer
(NumPy, one vectorised pass), then by rating; without a position, by rating then name. The
price is the network's price-list estimate for the fault (the same at every outlet of the
network, since the network owns the price list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Prefetch
from django.utils import timezone

from shouhou.accounts.models import OpeningHours, Organization, Outlet
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel
from shouhou.catalog.selectors import fault_type_estimate
from shouhou.dispatch.matching import distance_km

LOOKAHEAD_DAYS = 7


@dataclass(frozen=True)
class OutletOption:
    """One outlet the customer may choose, with the facts to compare."""

    outlet: Outlet
    distance_km: float | None
    rating: Decimal | None
    rating_count: int
    is_open_now: bool
    closes_at: dt.datetime | None  # today's closing time when open now
    next_opening: dt.datetime | None  # when closed now: the next time it opens
    price_low: Decimal | None
    price_high: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        outlet = self.outlet
        return {
            "id": outlet.pk,
            "code": outlet.code,
            "name": outlet.name,
            "organization": outlet.organization_id,
            "address": outlet.full_address,
            "phone": outlet.phone,
            "latitude": float(outlet.latitude),
            "longitude": float(outlet.longitude),
            "certification_tier": outlet.certification_tier,
            "service_bays": outlet.service_bays,
            "distance_km": self.distance_km,
            "rating": self.rating,
            "rating_count": self.rating_count,
            "is_open_now": self.is_open_now,
            "closes_at": self.closes_at,
            "next_opening": self.next_opening,
            "price_low": self.price_low,
            "price_high": self.price_high,
        }


def category_match_ids(category: ProductCategory) -> set[int]:
    """The category, its ancestors and its descendants."""
    ids = category.descendant_ids()
    node = category.parent
    while node is not None and node.pk not in ids:
        ids.add(node.pk)
        node = node.parent
    return ids


def opening_state(
    hours: Iterable[OpeningHours], moment: dt.datetime
) -> tuple[bool, dt.datetime | None, dt.datetime | None]:
    """(open now, closing time if open, next opening if closed) in the site's time zone."""
    local = timezone.localtime(moment)
    periods = list(hours)
    for period in periods:
        if period.weekday == local.weekday() and period.opens_at <= local.time() < period.closes_at:
            closes = timezone.make_aware(dt.datetime.combine(local.date(), period.closes_at))
            return True, closes, None
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        starts = sorted(
            timezone.make_aware(dt.datetime.combine(day, period.opens_at))
            for period in periods
            if period.weekday == day.weekday()
        )
        for start in starts:
            if start > local:
                return False, None, start
    return False, None, None


def _serving_ids(organization: Organization) -> set[int]:
    from shouhou.workorders.services import serving_organization_ids

    return serving_organization_ids(organization)


def outlet_options(
    *,
    organization: Organization,
    category: ProductCategory | None = None,
    brand: Brand | None = None,
    product_model: ProductModel | None = None,
    fault_type: FaultType | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    at: dt.datetime | None = None,
    open_now: bool = False,
    limit: int = 20,
) -> list[OutletOption]:
    """The outlets of ``organization``'s network that may repair this product, best first.

    Three queries: outlets, their opening hours, their categories and brands (prefetched),
    plus the price estimate when a fault type is given.
    """
    moment = at or timezone.now()
    if product_model is not None:
        category = category or product_model.category
        brand = brand or product_model.brand
    outlets = Outlet.objects.filter(
        organization_id__in=_serving_ids(organization), is_active=True
    ).prefetch_related(
        Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens_at")),
        Prefetch("categories", queryset=ProductCategory.objects.only("pk")),
        Prefetch("authorised_brands", queryset=Brand.objects.only("pk")),
    )
    wanted_categories = category_match_ids(category) if category is not None else None
    eligible: list[tuple[Outlet, bool, dt.datetime | None, dt.datetime | None]] = []
    for outlet in outlets.order_by("pk"):
        served = {c.pk for c in outlet.categories.all()}
        if wanted_categories is not None and served and not wanted_categories & served:
            continue
        authorised = {b.pk for b in outlet.authorised_brands.all()}
        if brand is not None and authorised and brand.pk not in authorised:
            continue
        hours = outlet.opening_hours.all()
        is_open, closes, next_opening = opening_state(hours, moment)
        if hours and not is_open and next_opening is None:
            continue  # hours recorded, but none in the coming week
        if open_now and not is_open:
            continue
        eligible.append((outlet, is_open, closes, next_opening))
    if not eligible:
        return []
    distances: list[float | None] = [None] * len(eligible)
    if latitude is not None and longitude is not None:
        km = distance_km(
            float(latitude),
            float(longitude),
            np.array([float(row[0].latitude) for row in eligible], dtype=np.float32),
            np.array([float(row[0].longitude) for row in eligible], dtype=np.float32),
        )
        distances = [round(float(value), 2) for value in km]
    price_low = price_high = None
    if fault_type is not None:
        estimate = fault_type_estimate(
            fault_type=fault_type,
            product_model_id=product_model.pk if product_model is not None else None,
        )
        price_low, price_high = estimate.low, estimate.high
    options = [
        OutletOption(
            outlet=outlet,
            distance_km=distances[index],
            rating=outlet.rating,
            rating_count=outlet.rating_count,
            is_open_now=is_open,
            closes_at=closes,
            next_opening=next_opening,
            price_low=price_low,
            price_high=price_high,
        )
        for index, (outlet, is_open, closes, next_opening) in enumerate(eligible)
    ]

    def key(option: OutletOption) -> tuple[float, float, str, int]:
        distance = option.distance_km if option.distance_km is not None else float("inf")
        rating = float(option.rating) if option.rating is not None else 0.0
        return (distance, -rating, option.outlet.name, option.outlet.pk)

    options.sort(key=key)
    return options[:limit]


def outlet_options_for_order(
    *,
    work_order: Any,
    latitude: float | None = None,
    longitude: float | None = None,
    at: dt.datetime | None = None,
    limit: int = 20,
) -> list[OutletOption]:
    """``outlet_options`` for an existing order (its product, fault, and position if known)."""
    if latitude is None and work_order.latitude is not None:
        latitude, longitude = float(work_order.latitude), float(work_order.longitude)
    return outlet_options(
        organization=work_order.organization,
        category=work_order.category,
        brand=work_order.brand,
        product_model=work_order.product_model,
        fault_type=work_order.fault_type,
        latitude=latitude,
        longitude=longitude,
        at=at,
        limit=limit,
    )
