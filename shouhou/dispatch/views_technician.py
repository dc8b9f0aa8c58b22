"""The technician's dispatch pages on a phone: my offers (accept or decline before the time
runs out) and the job pool (工单池, grab a job). Mounted at /tech/ with the namespace
"dispatch_tech". Every read goes through a selector that answers 404 for anything that is not
the technician's (another technician's offer, another tenant's pool)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shouhou.core.errors import DomainError
from shouhou.dispatch import offers as services
from shouhou.dispatch import selectors
from shouhou.dispatch.models import TechnicianStatus
from shouhou.workorders.selectors import technician_profiles_of
from shouhou.workorders.services import Actor


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, role="technician")  # type: ignore[arg-type]


@login_required
@require_GET
def offer_list(request: HttpRequest) -> HttpResponse:
    """GET /tech/offers/: jobs offered to me, each with a countdown."""
    now = timezone.now()
    offers = selectors.offer_list_for_technician(user=request.user, now=now)
    rows = [
        {
            "attempt": offer,
            "order": offer.work_order,
            "seconds_left": max(0, int((offer.expires_at - now).total_seconds())),
            "distance_km": offer.explanation.get("distance_km"),
        }
        for offer in offers
    ]
    return render(request, "dispatch/technician/offers.html", {"offers": rows})


@login_required
@require_POST
def offer_answer(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    """POST /tech/offers/<id>/accept/ or /decline/."""
    attempt = selectors.offer_get_for_technician(user=request.user, pk=pk)
    assert attempt.technician is not None
    try:
        if answer == "accept":
            order = services.offer_accept(
                attempt=attempt, technician=attempt.technician, actor=_actor(request)
            )
            messages.success(request, _("The job is yours. Call the customer to agree a time."))
            return redirect("wo_tech:detail", number=order.number)
        services.offer_decline(
            attempt=attempt,
            technician=attempt.technician,
            actor=_actor(request),
            reason=request.POST.get("reason", "")[:255],
        )
        messages.success(request, _("Declined. The job goes to another technician."))
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("dispatch_tech:offers")


@login_required
@require_GET
def pool_list(request: HttpRequest) -> HttpResponse:
    """GET /tech/pool/: jobs in the pool I may grab, nearest first."""
    jobs = selectors.pool_list_for_technician(user=request.user)
    technicians = list(technician_profiles_of(user=request.user))
    off_duty = bool(technicians) and all(t.status == TechnicianStatus.OFF_DUTY for t in technicians)
    return render(request, "dispatch/technician/pool.html", {"jobs": jobs, "off_duty": off_duty})


@login_required
@require_POST
def pool_grab(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /tech/pool/<id>/grab/: the first grab wins; a late one is told plainly."""
    entry, technician = selectors.pool_entry_get_for_technician(user=request.user, pk=pk)
    try:
        order = services.pool_grab(attempt=entry, technician=technician, actor=_actor(request))
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("dispatch_tech:pool")
    messages.success(request, _("You got the job. Call the customer to agree a time."))
    return redirect("wo_tech:detail", number=order.number)
