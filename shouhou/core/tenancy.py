"""The one scoping helper every selector uses.

A tenant is an ``accounts.Organization``. A user sees tenant data of the organisations they
are a member of (optionally only in some roles); a platform superuser sees everything. A
lookup outside that scope raises ``Http404`` — never 403 — so another organisation's data is
indistinguishable from data that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)

_CACHE_ATTRIBUTE = "_shouhou_memberships"


def memberships_of(user: Any) -> list[tuple[int, str]]:
    """(organization_id, role) pairs of the user's active memberships, cached on the user."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        membership_model = apps.get_model("accounts", "Membership")
        cached = list(
            membership_model.objects.filter(
                user_id=user.pk, is_active=True, organization__is_active=True
            ).values_list("organization_id", "role")
        )
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def forget_memberships(user: Any) -> None:
    """Drop the cached memberships (after a membership of this user changed)."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def sees_everything(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_superuser)


def organization_ids_for(user: Any, *, roles: Iterable[str] | None = None) -> set[int]:
    """Ids of the organisations whose data ``user`` may see (in one of ``roles`` if given)."""
    wanted = set(roles) if roles is not None else None
    return {
        organization_id
        for organization_id, role in memberships_of(user)
        if wanted is None or role in wanted
    }


def roles_in(user: Any, organization_id: int) -> set[str]:
    return {role for org_id, role in memberships_of(user) if org_id == organization_id}


def scope_queryset(
    queryset: QuerySet[M],
    user: Any,
    *,
    field: str = "organization",
    roles: Iterable[str] | None = None,
) -> QuerySet[M]:
    """Restrict ``queryset`` to rows whose ``field`` is one of the user's organisations."""
    if sees_everything(user) and roles is None:
        return queryset
    ids = organization_ids_for(user, roles=roles)
    if not ids:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": ids})


def get_scoped_or_404(
    queryset: QuerySet[M],
    user: Any,
    *,
    field: str = "organization",
    roles: Iterable[str] | None = None,
    **lookup: Any,
) -> M:
    """One row inside the user's scope, or ``Http404`` (also for other tenants' rows)."""
    try:
        return scope_queryset(queryset, user, field=field, roles=roles).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
