"""Reads for customers: staff see their organisation's customers, a person sees their own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shouhou.core.tenancy import scope_queryset
from shouhou.customers.models import Asset, Customer


def customer_list_for_user(*, user: Any) -> QuerySet[Customer]:
    return scope_queryset(Customer.objects.select_related("organization"), user)


def asset_list_of_person(*, user: Any) -> QuerySet[Asset]:
    """The assets of every customer record linked to ``user`` (any organisation)."""
    return Asset.objects.filter(customer__user_id=user.pk).select_related(
        "customer__organization", "category", "brand", "product_model__brand"
    )
