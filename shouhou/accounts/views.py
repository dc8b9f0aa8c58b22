"""Sign-in pages, the technician workspace and the staff console pages of accounts."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouhou.accounts.forms import PasswordLoginForm, SmsCodeRequestForm, SmsLoginForm
from shouhou.accounts.models import Membership, User
from shouhou.accounts.selectors import (
    membership_list_for_user,
    outlet_get_for_user,
    outlet_list_for_user,
)
from shouhou.accounts.services import sms_code_request
from shouhou.core.console import console_view
from shouhou.core.errors import DomainError


def _after_login(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        response = redirect(target)
    else:
        response = redirect("home")
    user = request.user
    language = getattr(user, "preferred_language", "")
    if language:
        from django.conf import settings

        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Sign in with mobile number and password."""
    form = PasswordLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        return _after_login(request)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", ""), "mode": "password"},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def sms_login_view(request: HttpRequest) -> HttpResponse:
    """Sign in with an SMS code; a first sign-in creates a customer account."""
    form = SmsLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        login(request, form.user, backend="shouhou.accounts.backends.SmsCodeBackend")
        return _after_login(request)
    return render(
        request,
        "accounts/login_sms.html",
        {"form": form, "next": request.GET.get("next", ""), "mode": "sms"},
        status=400 if form.errors else 200,
    )


@require_POST
def sms_code_request_view(request: HttpRequest) -> HttpResponse:
    """Send a login code; answers with a small fragment for htmx (or the page without JS)."""
    form = SmsCodeRequestForm(request.POST)
    status, error, sent = 200, "", False
    if form.is_valid():
        try:
            sms_code_request(phone=form.cleaned_data["phone"])
            sent = True
        except DomainError as exc:
            status, error = exc.status_code, str(exc)
    else:
        status, error = 400, " ".join(str(message) for message in form.errors.get("phone", []))
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "accounts/partials/_sms_code_status.html",
            {"sent": sent, "error": error},
            status=status,
        )
    if sent:
        messages.success(request, _("The code was sent. It is valid for 5 minutes."))
    else:
        messages.error(request, error)
    login_form = SmsLoginForm(request, initial={"phone": request.POST.get("phone", "")})
    return render(
        request,
        "accounts/login_sms.html",
        {"form": login_form, "mode": "sms", "next": request.POST.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def technician_home(request: HttpRequest) -> HttpResponse:
    """The technician's workspace on a phone: today's and upcoming jobs, who they work for,
    and the on-duty switch (a POST here; dispatch only suggests technicians on duty). The
    full job list is at /tech/jobs/."""
    from shouhou.dispatch.models import Technician, TechnicianStatus
    from shouhou.dispatch.services import technician_set_status
    from shouhou.workorders.views.technician import technician_job_groups

    user = cast(User, request.user)
    technicians = Technician.objects.filter(user=user, is_active=True).select_related(
        "organization"
    )
    if request.method == "POST":
        duty = request.POST.get("duty", "")
        number = request.POST.get("technician", "")
        technician = technicians.filter(pk=int(number)).first() if number.isdigit() else None
        if technician is None or duty not in ("on", "off"):
            messages.error(request, _("That did not work. Please try again."))
            return redirect("technician-home")
        if duty == "off":
            technician_set_status(technician=technician, status=TechnicianStatus.OFF_DUTY)
            messages.success(request, _("You are off duty: no new jobs will be suggested."))
        else:
            if technician.status == TechnicianStatus.OFF_DUTY:
                technician_set_status(technician=technician, status=TechnicianStatus.AVAILABLE)
            messages.success(request, _("You are on duty: dispatch can give you jobs."))
        return redirect("technician-home")
    memberships = Membership.objects.filter(
        user=user, role="technician", is_active=True
    ).select_related("organization", "outlet")
    groups = {group.key: group for group in technician_job_groups(user=request.user)}
    return render(
        request,
        "accounts/technician_home.html",
        {
            "memberships": memberships,
            "technicians": [
                (technician, technician.status != TechnicianStatus.OFF_DUTY)
                for technician in technicians
            ],
            "home_groups": [groups["today"], groups["upcoming"]],
            "waiting": len(groups["to_accept"].jobs),
            "in_progress": len(groups["in_progress"].jobs),
        },
    )


@console_view
def outlet_list(request: HttpRequest, organization: int) -> HttpResponse:
    outlets = outlet_list_for_user(user=request.user).filter(organization_id=organization)
    query = request.GET.get("q", "").strip()
    if query:
        outlets = outlets.filter(name__icontains=query) | outlets.filter(address__icontains=query)
    return render(
        request, "accounts/console/outlet_list.html", {"outlets": outlets, "query": query}
    )


@console_view
def outlet_detail(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    outlet = outlet_get_for_user(user=request.user, pk=pk)
    return render(request, "accounts/console/outlet_detail.html", {"outlet": outlet})


@console_view
def member_list(request: HttpRequest, organization: int) -> HttpResponse:
    members = membership_list_for_user(user=request.user).filter(organization_id=organization)
    return render(request, "accounts/console/member_list.html", {"members": members})


@console_view
def console_dashboard(request: HttpRequest, organization: int) -> HttpResponse:
    """The console's front page: the organisation at a glance."""
    from shouhou.accounts.selectors import organization_get_for_user
    from shouhou.catalog.selectors import (
        fault_type_list_for_user,
        price_item_list_for_user,
        product_model_list_for_user,
    )

    org = organization_get_for_user(user=request.user, pk=organization)
    counts = {
        "outlets": outlet_list_for_user(user=request.user).filter(organization=org).count(),
        "members": Membership.objects.filter(organization=org, is_active=True).count(),
        "product_models": product_model_list_for_user(user=request.user)
        .filter(organization=org)
        .count(),
        "fault_types": fault_type_list_for_user(user=request.user).filter(organization=org).count(),
        "price_items": price_item_list_for_user(user=request.user).filter(organization=org).count(),
    }
    return render(request, "accounts/console/dashboard.html", {"org": org, "counts": counts})
