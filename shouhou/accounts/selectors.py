"""Reads for accounts. Every tenant read goes through ``shouhou.core.tenancy``."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from shouhou.accounts.choices import CONSOLE_ROLES, Role
from shouhou.accounts.models import Membership, OpeningHours, Organization, Outlet
from shouhou.core.tenancy import (
    get_scoped_or_404,
    memberships_of,
    organization_ids_for,
    scope_queryset,
    sees_everything,
)


def organization_list_for_user(*, user: Any) -> QuerySet[Organization]:
    return scope_queryset(Organization.objects.filter(is_active=True), user, field="pk")


def organization_get_for_user(*, user: Any, pk: Any) -> Organization:
    return get_scoped_or_404(Organization.objects.all(), user, field="pk", pk=pk)


def outlet_list_for_user(*, user: Any) -> QuerySet[Outlet]:
    return scope_queryset(
        Outlet.objects.select_related("organization").prefetch_related(
            "categories",
            "authorised_brands",
            Prefetch(
                "opening_hours",
                queryset=OpeningHours.objects.order_by("weekday", "opens_at"),
            ),
        ),
        user,
    )


def outlet_get_for_user(*, user: Any, pk: Any) -> Outlet:
    return get_scoped_or_404(outlet_list_for_user(user=user), user, pk=pk)


def membership_list_for_user(*, user: Any) -> QuerySet[Membership]:
    """Members of the user's organisations, visible to admins and auditors only."""
    return scope_queryset(
        Membership.objects.select_related("user", "organization", "outlet"),
        user,
        roles=None if sees_everything(user) else {Role.ADMIN, Role.AUDITOR, Role.OUTLET_MANAGER},
    )


def workspace_for_user(*, user: Any) -> str:
    """Which workspace the home page sends ``user`` to: admin, console, technician, customer."""
    if user.is_superuser:
        return "admin"
    roles = {role for _org, role in memberships_of(user)}
    if Role.ADMIN in roles:
        return "console"
    if roles & CONSOLE_ROLES:
        return "console"
    if Role.TECHNICIAN in roles:
        return "technician"
    return "customer"


def staff_organization_ids(*, user: Any) -> set[int]:
    return organization_ids_for(user, roles=CONSOLE_ROLES)
