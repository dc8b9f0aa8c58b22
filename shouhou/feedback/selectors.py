"""Reads for ratings and follow-ups, scoped to the staff member's organisations."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shouhou.accounts.choices import CONSOLE_ROLES
from shouhou.core.tenancy import get_scoped_or_404, scope_queryset
from shouhou.feedback.models import FollowUp, Rating


def follow_up_list_for_user(*, user: Any) -> QuerySet[FollowUp]:
    return scope_queryset(
        FollowUp.objects.select_related("work_order__customer", "rating", "assignee"),
        user,
        roles=None if getattr(user, "is_superuser", False) else CONSOLE_ROLES,
    )


def follow_up_get_for_user(*, user: Any, pk: Any) -> FollowUp:
    return get_scoped_or_404(follow_up_list_for_user(user=user), user, pk=pk)


def rating_list_for_user(*, user: Any) -> QuerySet[Rating]:
    return scope_queryset(
        Rating.objects.select_related("work_order", "technician__user", "outlet"),
        user,
        roles=None if getattr(user, "is_superuser", False) else CONSOLE_ROLES,
    )
