"""Console pages for the catalog: categories, models, fault types with price ranges, prices."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from shouhou.catalog.choices import PriceItemKind
from shouhou.catalog.models import ProductCategory
from shouhou.catalog.selectors import (
    brand_list_for_user,
    category_list_for_user,
    fault_type_estimate,
    fault_type_list_for_user,
    price_item_list_for_user,
    price_items_in_force,
    product_model_list_for_user,
    service_type_list_for_user,
    skill_list_for_user,
)
from shouhou.core.console import console_view
from shouhou.core.tenancy import get_scoped_or_404


def _tree(categories: list[ProductCategory]) -> list[tuple[int, ProductCategory]]:
    """Categories in tree order with their depth, for an indented list."""
    children: dict[int | None, list[ProductCategory]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[tuple[int, ProductCategory]] = []

    def walk(parent: int | None, depth: int) -> None:
        for category in children.get(parent, []):
            ordered.append((depth, category))
            walk(category.pk, depth + 1)

    walk(None, 0)
    return ordered


@console_view
def catalog_overview(request: HttpRequest, organization: int) -> HttpResponse:
    user = request.user
    context = {
        "tree": _tree(list(category_list_for_user(user=user).filter(organization_id=organization))),
        "brands": brand_list_for_user(user=user).filter(organization_id=organization),
        "service_types": service_type_list_for_user(user=user).filter(organization_id=organization),
        "skills": skill_list_for_user(user=user).filter(organization_id=organization),
        "product_models": product_model_list_for_user(user=user).filter(
            organization_id=organization
        ),
    }
    return render(request, "catalog/console/overview.html", context)


@console_view
def fault_type_list(request: HttpRequest, organization: int) -> HttpResponse:
    fault_types = list(
        fault_type_list_for_user(user=request.user).filter(organization_id=organization)
    )
    today = timezone.localdate()
    codes = {line.item_code for fault in fault_types for line in fault.typical_lines.all()}
    prices = list(
        price_items_in_force(organization_id=organization, on=today).filter(code__in=codes)
    )
    rows = [
        (fault, fault_type_estimate(fault_type=fault, on=today, prices=prices))
        for fault in fault_types
    ]
    return render(request, "catalog/console/fault_type_list.html", {"rows": rows})


@console_view
def fault_type_detail(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    fault = get_scoped_or_404(fault_type_list_for_user(user=request.user), request.user, pk=pk)
    return render(
        request,
        "catalog/console/fault_type_detail.html",
        {"fault": fault, "estimate": fault_type_estimate(fault_type=fault)},
    )


@console_view
def price_list(request: HttpRequest, organization: int) -> HttpResponse:
    """The price list in force on a day (today by default), or every row with ?all=1."""
    day: dt.date = parse_date(request.GET.get("on", "") or "") or timezone.localdate()
    show_all = request.GET.get("all") == "1"
    items = price_item_list_for_user(user=request.user).filter(organization_id=organization)
    if not show_all:
        items = items.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)
    kind = request.GET.get("kind", "")
    if kind:
        items = items.filter(kind=kind)
    return render(
        request,
        "catalog/console/price_list.html",
        {
            "items": items.order_by("kind", "code", "-valid_from"),
            "day": day,
            "show_all": show_all,
            "kind": kind,
            "kinds": PriceItemKind.choices,
        },
    )
