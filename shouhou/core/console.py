"""The staff console: which organisation a staff member is working in right now.

A person can be staff of several organisations (a provider serving two brands); the console
shows one at a time, chosen with the switcher and kept in the session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.apps import apps
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from shouhou.core.tenancy import organization_ids_for, sees_everything

SESSION_KEY = "console_organization_id"
CONSOLE_ROLES = ("admin", "agent", "outlet_manager", "finance", "auditor")


def console_organization_ids(user: Any) -> list[int]:
    if sees_everything(user):
        organization = apps.get_model("accounts", "Organization")
        return list(organization.objects.order_by("pk").values_list("pk", flat=True))
    return sorted(organization_ids_for(user, roles=CONSOLE_ROLES))


def active_organization_id(request: HttpRequest) -> int | None:
    ids = console_organization_ids(request.user)
    if not ids:
        return None
    chosen = request.session.get(SESSION_KEY)
    return chosen if chosen in ids else ids[0]


def console_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a console role; pass the active organisation id as ``organization``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        organization_id = active_organization_id(request)
        if organization_id is None:
            raise Http404
        request.console_organization_id = organization_id  # type: ignore[attr-defined]
        return view(request, *args, organization=organization_id, **kwargs)

    return wrapper
