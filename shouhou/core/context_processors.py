from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

LARGE_TYPE_COOKIE = "shouhou_large_type"


def ui(request: HttpRequest) -> dict[str, Any]:
    """UI preferences every template needs: large type, the language list, the version."""
    from shouhou import __version__

    return {
        "large_type": request.COOKIES.get(LARGE_TYPE_COOKIE) == "1",
        "available_languages": settings.LANGUAGES,
        "shouhou_version": __version__,
    }


def console(request: HttpRequest) -> dict[str, Any]:
    """The active console organisation and the switcher's choices (console pages only)."""
    organization_id = getattr(request, "console_organization_id", None)
    if organization_id is None:
        return {}
    from shouhou.accounts.models import Organization
    from shouhou.core.console import console_organization_ids
    from shouhou.core.tenancy import roles_in

    choices = list(
        Organization.objects.filter(pk__in=console_organization_ids(request.user)).only(
            "pk", "name"
        )
    )
    active = next((org for org in choices if org.pk == organization_id), None)
    return {
        "console_organization": active,
        "console_organizations": choices,
        "console_roles": roles_in(request.user, organization_id),
    }
