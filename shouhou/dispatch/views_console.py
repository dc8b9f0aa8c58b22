"""The dispatch board of the staff console (/console/dispatch/): the orders waiting for a
technician and the orders at risk, the network's technicians with live status and load, a map
drawn from ``/api/v1/dispatch/board/``, an order's ranked suggestions with one-click assignment,
and the peak-batch button.

Scoped like every console page: the active organisation's orders (owned or served) and its
network's technicians; another organisation's order answers 404. Only operators assign.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhou.accounts.models import Organization
from shouhou.core.console import console_view
from shouhou.core.errors import DomainError
from shouhou.dispatch import offers
from shouhou.dispatch.selectors import RISK_HORIZON, dispatch_board
from shouhou.dispatch.services import batch_dispatch
from shouhou.workorders.choices import STATUS_COLOURS
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.views.console import (
    ACTIONS,
    PRIORITY_COLOURS,
    _actor,
    _assignable_ids,
    _form_problems,
    _is_htmx,
    _is_operator,
    _order_or_404,
    _require_operator,
    _suggestions,
    available_actions,
)

LEFT_REASONS = {
    "no_eligible_technician": gettext_lazy("no technician meets every requirement"),
    "capacity_taken": gettext_lazy("its technicians' capacity went to other orders"),
    "changed": gettext_lazy("someone else changed the order meanwhile"),
    "refused": gettext_lazy("the assignment was refused"),
}
RISK_LABELS = {"late": gettext_lazy("Late"), "soon": gettext_lazy("Soon")}
STATUS_COLOURS_TECHNICIAN = {
    "available": "green",
    "en_route": "orange",
    "on_site": "purple",
    "off_duty": "grey",
}


def _row(order: WorkOrder, risks: dict[int, str]) -> dict[str, Any]:
    risk = risks.get(order.pk, "")
    return {
        "order": order,
        "status_colour": STATUS_COLOURS[order.status],
        "priority_colour": PRIORITY_COLOURS.get(order.priority, ""),
        "risk": risk,
        "risk_label": RISK_LABELS.get(risk, ""),
        "window_start": order.appointment_start or order.preferred_start,
    }


def _board_context(request: HttpRequest, organization_id: int) -> dict[str, Any]:
    board = dispatch_board(organization_id=organization_id)
    technicians = [
        {**row, "colour": STATUS_COLOURS_TECHNICIAN.get(row["status"], "")}
        for row in board["technicians"]
    ]
    return {
        "waiting": [_row(order, board["risks"]) for order in board["waiting"]],
        "at_risk": [_row(order, board["risks"]) for order in board["at_risk"]],
        "technicians": technicians,
        "risk_hours": int(RISK_HORIZON.total_seconds() // 3600),
        "is_operator": _is_operator(request, organization_id),
        "board_data_url": reverse("api:dispatch-board") + f"?organization={organization_id}",
    }


def _panel_context(request: HttpRequest, order: WorkOrder, organization_id: int) -> dict[str, Any]:
    can_assign = _is_operator(request, organization_id) and (
        "assign-technician" in available_actions(order)
    )
    return {
        "order": order,
        "status_colour": STATUS_COLOURS[order.status],
        "can_assign": can_assign,
        "suggestions": _suggestions(order, _assignable_ids(order, organization_id))
        if can_assign
        else None,
        "action_url": reverse("dispatch_console:assign", args=[order.number]),
    }


@console_view
def board(request: HttpRequest, organization: int) -> HttpResponse:
    """The board; htmx (the 30-second refresh) gets only the lists. ``?order=`` opens an order's
    suggestions in the side panel without JavaScript."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = _board_context(request, organization)
    if _is_htmx(request):
        return render(request, "dispatch/partials/_board_lists.html", context)
    number = request.GET.get("order", "")
    if number:
        context["panel"] = _panel_context(
            request, _order_or_404(request, organization, number), organization
        )
    return render(request, "dispatch/console/board.html", context)


@console_view
def board_order(request: HttpRequest, organization: int, number: str) -> HttpResponse:
    """One order in the side panel: its ranked technicians, each with an assign button."""
    order = _order_or_404(request, organization, number)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not _is_htmx(request):
        return redirect(reverse("dispatch_console:board") + f"?order={order.number}")
    return render(
        request,
        "dispatch/partials/_board_panel.html",
        _panel_context(request, order, organization),
    )


@console_view
def board_assign(request: HttpRequest, organization: int, number: str) -> HttpResponse:
    """Assign the order to the technician clicked in the panel (the same service and
    explanation as the order page); htmx gets the panel back and fresh lists."""
    order = _order_or_404(request, organization, number)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_operator(request, organization)
    spec = ACTIONS["assign-technician"]
    form = spec.build_form(order, organization, request.POST)
    error, notice, status = "", "", 200
    if form.is_valid():
        try:
            spec.run(order, _actor(request), form.cleaned_data)
        except DomainError as exc:
            error, status = str(exc), exc.status_code
        else:
            notice = str(spec.done)
    else:
        error, status = _form_problems(form), 400
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect(reverse("dispatch_console:board") + f"?order={order.number}")
    fresh = _order_or_404(request, organization, number)
    context = {
        **_panel_context(request, fresh, organization),
        **_board_context(request, organization),
        "notice": notice,
        "error": error,
        "refresh_lists": True,
    }
    return render(request, "dispatch/partials/_board_panel.html", context, status=status)


@console_view
def pool_publish(request: HttpRequest, organization: int, number: str) -> HttpResponse:
    """Put an accepted order in the job pool by hand (any dispatch mode), back to its page."""
    order = _order_or_404(request, organization, number)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_operator(request, organization)
    try:
        offers.pool_publish(work_order=order, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The order is in the job pool."))
    return redirect("wo_console:detail", number=order.number)


@console_view
def batch(request: HttpRequest, organization: int) -> HttpResponse:
    """Run the peak batch for the active organisation; htmx gets the summary and fresh lists."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_operator(request, organization)
    result = batch_dispatch(
        organization=Organization.objects.get(pk=organization), actor=_actor(request)
    )
    summary = _(
        "Batch: %(assigned)d assigned, %(left)d left waiting (%(technicians)d technicians)."
    ) % {
        "assigned": len(result.assigned),
        "left": len(result.unassigned),
        "technicians": result.technicians,
    }
    if not _is_htmx(request):
        messages.success(request, summary)
        return redirect("dispatch_console:board")
    context = {
        **_board_context(request, organization),
        "result": result,
        "summary": summary,
        "left": [(row, LEFT_REASONS.get(row.reason, row.reason)) for row in result.unassigned],
        "refresh_lists": True,
    }
    return render(request, "dispatch/partials/_batch_summary.html", context)
