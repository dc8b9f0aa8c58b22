"""Site-wide views: health check, landing/home, language and text-size switches."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shouhou.core.context_processors import LARGE_TYPE_COOKIE


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers a query, 503 otherwise (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return JsonResponse({"status": "error", "database": str(error)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors; signed-in users go straight to their workspace."""
    if request.user.is_authenticated:
        from shouhou.accounts.selectors import workspace_for_user

        return redirect(
            {
                "admin": "admin:index",
                "console": "console:dashboard",
                "technician": "technician-home",
                "customer": "customer-home",
            }[workspace_for_user(user=request.user)]
        )
    return render(request, "core/landing.html")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language (cookie), and remember it on the account when signed in."""
    language = request.POST.get("language", "")
    response = redirect(_safe_next(request))
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        from shouhou.accounts.services import user_set_language

        user_set_language(user=request.user, language=language)  # type: ignore[arg-type]
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@require_POST
def set_text_size(request: HttpRequest) -> HttpResponse:
    """Turn large type on or off for this browser (older users, small screens)."""
    response = redirect(_safe_next(request))
    if request.POST.get("large") == "1":
        response.set_cookie(
            LARGE_TYPE_COOKIE,
            "1",
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    else:
        response.delete_cookie(LARGE_TYPE_COOKIE)
    return response


@require_POST
def console_switch(request: HttpRequest) -> HttpResponse:
    """Choose which of the user's organisations the console shows."""
    from django.http import Http404

    from shouhou.core.console import SESSION_KEY, console_organization_ids

    try:
        organization_id = int(request.POST.get("organization", ""))
    except ValueError:
        raise Http404 from None
    if organization_id not in console_organization_ids(request.user):
        raise Http404
    request.session[SESSION_KEY] = organization_id
    return redirect("console:dashboard")
