"""Work-order pages of the staff console (see urls_console.py): the queue, intake from a phone
call, the order page with one POST per action, its attachments, and the follow-up list.

Every page is scoped to the active console organisation (the orders it owns or serves); any
other organisation's order answers 404 on every URL and method. Each action parses a form and
calls exactly one service; only operators (admin, agent, outlet manager) may act — finance and
auditors read. A ``DomainError`` becomes a readable message with its 4xx status, never a 500.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhou.accounts.models import Organization
from shouhou.core.console import console_view
from shouhou.core.errors import DomainError
from shouhou.core.phone import normalize_phone
from shouhou.core.tenancy import roles_in, sees_everything
from shouhou.customers.models import Address, Customer
from shouhou.dispatch.models import DispatchMode, TechnicianSkill
from shouhou.dispatch.offers import dispatch_settings_for, offers_expire_due
from shouhou.dispatch.outlets import outlet_options_for_order
from shouhou.dispatch.selectors import (
    attempts_for_order,
    explanation_for,
    first_dispatch_success_rate,
    technician_suggestions,
)
from shouhou.dispatch.slots import appointment_book, available_slots, slot_booking_for
from shouhou.feedback.models import FollowUp, FollowUpStatus
from shouhou.feedback.selectors import follow_up_list_for_user
from shouhou.feedback.services import follow_up_resolve as follow_up_resolve_service
from shouhou.workorders import hooks, live, services
from shouhou.workorders.access import OPERATOR_ROLES
from shouhou.workorders.choices import (
    STATUS_COLOURS,
    TERMINAL,
    TRANSITIONS,
    Channel,
    FulfilmentMode,
    Priority,
    VisitOutcome,
    WorkOrderStatus,
)
from shouhou.workorders.forms_console import (
    AssignOutletForm,
    AssignTechnicianForm,
    EmptyForm,
    FollowUpResolveForm,
    NoteForm,
    QueueFilterForm,
    ReadyForm,
    ReasonForm,
    ReportForm,
    ScheduleForm,
    TriageForm,
    WorkOrderCreateForm,
    fault_types_for,
    outlets_for,
    technicians_for,
)
from shouhou.workorders.models import Attachment, WorkOrder
from shouhou.workorders.selectors import events_for_staff, queue_filter, workorder_list_for_staff
from shouhou.workorders.services import Actor, IntakeResult

S = WorkOrderStatus
PAGE_SIZE = 50
SUCCESS_RATE_PERIOD = dt.timedelta(days=30)
# Staff act on orders as "agent" in the timeline, as they do through the API.
STAFF_ROLE = "agent"
PRIORITY_COLOURS: dict[str, str] = {
    Priority.LOW: "grey",
    Priority.NORMAL: "",
    Priority.HIGH: "orange",
    Priority.URGENT: "red",
}
CARRY_IN_MODES = frozenset({FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN})


# --- helpers ---------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "history_restore_request", False)


def _is_operator(request: HttpRequest, organization_id: int) -> bool:
    return sees_everything(request.user) or bool(
        roles_in(request.user, organization_id) & OPERATOR_ROLES
    )


def _require_operator(request: HttpRequest, organization_id: int) -> None:
    if not _is_operator(request, organization_id):
        raise PermissionDenied(_("Only operators can change work orders."))


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, role=STAFF_ROLE)  # type: ignore[arg-type]


def _network_ids(organization_id: int) -> set[int]:
    """The organisation and the partners of its network (their outlets and technicians)."""
    return services.serving_organization_ids(Organization(pk=organization_id))


def _orders(request: HttpRequest, organization_id: int) -> QuerySet[WorkOrder]:
    """The active organisation's orders: owned or served."""
    return workorder_list_for_staff(user=request.user).filter(
        Q(organization_id=organization_id) | Q(service_organization_id=organization_id)
    )


def _order_or_404(request: HttpRequest, organization_id: int, number: str) -> WorkOrder:
    try:
        return _orders(request, organization_id).get(number=number)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def _assignable_ids(order: WorkOrder, organization_id: int) -> set[int]:
    """Whose outlets and technicians the active organisation may give this order to: the
    owner's network when it owns the order, only its own people when it merely serves it."""
    if order.organization_id == organization_id:
        return services.serving_organization_ids(order.organization)
    return {organization_id}


def haversine_km(
    lat1: Decimal | float | None,
    lon1: Decimal | float | None,
    lat2: Decimal | float | None,
    lon2: Decimal | float | None,
) -> float | None:
    """Great-circle distance in kilometres, or None when a coordinate is missing."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lon2) - float(lon1))
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _by_distance(row: tuple[Any, float | None]) -> tuple[bool, float]:
    return (row[1] is None, row[1] or 0.0)


SUGGESTIONS_SHOWN = 5
# Why a hard constraint left technicians out of the suggestions, in the ranking's order.
EXCLUSION_LABELS = {
    "off_duty": gettext_lazy("not on duty"),
    "not_on_shift": gettext_lazy("not on shift now"),
    "at_capacity": gettext_lazy("fully booked today"),
    "missing_skill": gettext_lazy("missing a required skill"),
    "outside_service_area": gettext_lazy("outside their service area"),
}
TERM_LABELS = {
    "travel": gettext_lazy("Travel time"),
    "load": gettext_lazy("Today's load"),
    "rating": gettext_lazy("Rating"),
    "first_time_fix": gettext_lazy("First-time fix"),
    "skill_level": gettext_lazy("Skill level"),
}


def _suggestions(order: WorkOrder, assignable_ids: set[int]) -> dict[str, Any]:
    """The dispatch engine's best technicians for the order (a fixed number of queries, however
    many technicians there are), each with its per-term breakdown, and who was left out why."""
    ranking = technician_suggestions(
        work_order=order, limit=SUGGESTIONS_SHOWN, organization_ids=assignable_ids
    )
    located = order.latitude is not None and order.longitude is not None
    rows = [
        {
            "candidate": candidate,
            "located": located,
            "first_time_fix_percent": round(candidate.breakdown["first_time_fix"] * 100),
            "terms": [
                (TERM_LABELS.get(name, name), value)
                for name, value in candidate.breakdown["terms"].items()
            ],
        }
        for candidate in ranking.candidates
    ]
    excluded = [
        (EXCLUSION_LABELS.get(reason, reason), count) for reason, count in ranking.excluded.items()
    ]
    return {"rows": rows, "considered": ranking.considered, "excluded": excluded}


# --- the queue -------------------------------------------------------------------------------


@console_view
def queue(request: HttpRequest, organization: int) -> HttpResponse:
    """The active organisation's orders with filters, 50 a page; htmx gets only the table."""
    form = QueueFilterForm(
        request.GET or None, organization_id=organization, network_ids=_network_ids(organization)
    )
    orders = queue_filter(_orders(request, organization), **form.filters()).order_by(
        "-submitted_at", "-pk"
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (order, STATUS_COLOURS[order.status], PRIORITY_COLOURS.get(order.priority, ""))
        for order in page
    ]
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "is_operator": _is_operator(request, organization),
    }
    if _is_htmx(request):
        return render(request, "workorders/partials/_console_queue_results.html", context)
    now = timezone.now()
    context["success_rate"] = first_dispatch_success_rate(
        organization_ids={organization}, since=now - SUCCESS_RATE_PERIOD, until=now
    )
    context["live"] = live.page_context(
        last=live.latest_event_id(),
        stream=reverse("wo_console:stream"),
        refresh=reverse("wo_console:queue"),
        target="#queue-results",
        keep_query=True,
    )
    return render(request, "workorders/console/queue.html", context)


# --- intake from a phone call ----------------------------------------------------------------


def _caller(organization_id: int, phone: str) -> Customer | None:
    """The organisation's customer with this number, with their addresses and devices."""
    try:
        normalized = normalize_phone(phone)
    except ValidationError:
        return None
    return (
        Customer.objects.filter(organization_id=organization_id, phone=normalized)
        .prefetch_related("addresses", "assets__product_model__brand", "assets__category")
        .first()
    )


def _caller_context(organization_id: int, data: Any) -> dict[str, Any]:
    phone = str(data.get("phone", "") or "")
    return {
        "caller": _caller(organization_id, phone) if phone else None,
        "phone_given": bool(phone),
        "selected_address": str(data.get("existing_address", "") or ""),
        "selected_asset": str(data.get("asset", "") or ""),
    }


@transaction.atomic
def _create_from_call(
    request: HttpRequest, organization_id: int, data: dict[str, Any]
) -> IntakeResult:
    """Customer, address and order in one transaction: a refusal leaves nothing behind."""
    organization = Organization.objects.get(pk=organization_id)
    customer = services.customer_get_or_create(
        organization=organization, phone=data["phone"], name=data["customer_name"]
    )
    address = data["address_row"]
    if address is None and data.get("street"):
        address = Address.objects.create(
            customer=customer,
            province=data.get("province", ""),
            city=data.get("city", ""),
            district=data.get("district", ""),
            address=data["street"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )
    result = services.workorder_create(
        organization=organization,
        customer=customer,
        asset=data["asset_row"],
        category=data.get("category"),
        brand=data.get("brand"),
        product_model=data.get("product_model"),
        device_identifier=data.get("device_identifier", ""),
        service_type=data["service_type"],
        fault_type=data.get("fault_type"),
        description=data["description"],
        channel=Channel.PHONE,
        fulfilment_mode=data["fulfilment_mode"],
        priority=data["priority"],
        address=address,
        outlet=data.get("outlet"),
        preferred_start=data.get("preferred_start"),
        preferred_end=data.get("preferred_end"),
        actor=_actor(request),
        idempotency_key=data.get("idempotency_key") or None,
    )
    if not result.created:
        # A double submit: the first order stands and this request leaves no second address.
        transaction.set_rollback(True)
    return result


@console_view
def workorder_new(request: HttpRequest, organization: int) -> HttpResponse:
    """Create an order from a phone call; errors are shown in place and nothing is written."""
    _require_operator(request, organization)
    kwargs = {"organization_id": organization, "network_ids": _network_ids(organization)}
    status = 200
    if request.method == "POST" and not request.POST.get("lookup"):
        form = WorkOrderCreateForm(request.POST, **kwargs)  # type: ignore[arg-type]
        if form.is_valid():
            try:
                result = _create_from_call(request, organization, form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if result.created:
                    messages.success(
                        request,
                        _("Work order %(number)s was created.")
                        % {"number": result.work_order.number},
                    )
                return redirect("wo_console:detail", number=result.work_order.number)
        status = 400
        data: Any = request.POST
    elif request.method == "POST":
        # "Look up" without JavaScript: show the caller's addresses and devices, keep the input.
        form = WorkOrderCreateForm(initial=request.POST.dict(), **kwargs)  # type: ignore[arg-type]
        data = request.POST
    elif request.method == "GET":
        form = WorkOrderCreateForm(
            initial={"idempotency_key": secrets.token_urlsafe(24)},
            **kwargs,  # type: ignore[arg-type]
        )
        data = {}
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    context = {"form": form, **_caller_context(organization, data)}
    return render(request, "workorders/console/create.html", context, status=status)


@console_view
def caller_lookup(request: HttpRequest, organization: int) -> HttpResponse:
    """The htmx fragment under the phone field: a known caller's addresses and devices."""
    _require_operator(request, organization)
    return render(
        request,
        "workorders/partials/_console_caller.html",
        _caller_context(organization, request.GET),
    )


# --- the order page --------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    """One POST on an order: its form and the one service it calls."""

    name: str
    done: Any  # the message after success (lazy)
    build_form: Callable[[WorkOrder, int, Any], forms.Form]
    run: Callable[[WorkOrder, Actor, dict[str, Any]], Any]

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


def _triage_form(order: WorkOrder, organization_id: int, data: Any, prefix: str) -> forms.Form:
    return TriageForm(
        data,
        fault_types=fault_types_for(order.organization_id),
        auto_id=f"id_{prefix}_%s",
    )


def _simple(form_class: type[forms.Form], key: str) -> Callable[[WorkOrder, int, Any], forms.Form]:
    def build(order: WorkOrder, organization_id: int, data: Any) -> forms.Form:
        return form_class(data, auto_id=f"id_{key}_%s")

    return build


def _schedule(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> WorkOrder:
    """A free slot is booked (an outlet bay, or an engineer's free window checked again); a
    typed-in time is the dispatcher's override, except that an order holding an outlet bay
    must move it to another slot."""
    if values.get("slot_start"):
        return appointment_book(work_order=order, start=values["slot_start"], actor=actor)
    if slot_booking_for(work_order=order) is not None:
        return appointment_book(work_order=order, start=values["start"], actor=actor)
    return services.workorder_schedule(
        work_order=order, actor=actor, start=values["start"], end=values["end"]
    )


def _outlet_rows(order: WorkOrder, assignable: set[int]) -> list[tuple[Any, float | None, Any]]:
    """Outlets the order may go to: those authorised for its product first, ranked by
    distance (with rating, open now, price), then the rest of the network's outlets."""
    matches = (
        []
        if order.fulfilment_mode == FulfilmentMode.ON_SITE
        else [
            option
            for option in outlet_options_for_order(work_order=order, limit=200)
            if option.outlet.organization_id in assignable
        ]
    )
    matched = {option.outlet.pk for option in matches}
    rest = sorted(
        (
            (
                outlet,
                haversine_km(order.latitude, order.longitude, outlet.latitude, outlet.longitude),
            )
            for outlet in outlets_for(assignable)
            if outlet.pk not in matched
        ),
        key=_by_distance,
    )
    return [(option.outlet, option.distance_km, option) for option in matches] + [
        (outlet, distance, None) for outlet, distance in rest
    ]


def _outlet_form(order: WorkOrder, organization_id: int, data: Any) -> forms.Form:
    return AssignOutletForm(
        data,
        outlets=outlets_for(_assignable_ids(order, organization_id)),
        auto_id="id_assign_outlet_%s",
    )


def _technician_form(order: WorkOrder, organization_id: int, data: Any) -> forms.Form:
    return AssignTechnicianForm(
        data,
        technicians=technicians_for(_assignable_ids(order, organization_id)),
        auto_id="id_assign_technician_%s",
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in [
        ActionSpec(
            "accept",
            gettext_lazy("The work order was accepted."),
            lambda o, org, d: _triage_form(o, org, d, "accept"),
            lambda o, a, v: services.workorder_accept(
                work_order=o,
                actor=a,
                fault_type=v.get("fault_type"),
                priority=v.get("priority") or None,
            ),
        ),
        ActionSpec(
            "triage",
            gettext_lazy("Fault type and priority were saved."),
            lambda o, org, d: _triage_form(o, org, d, "triage"),
            lambda o, a, v: services.workorder_triage(
                work_order=o,
                actor=a,
                fault_type=v.get("fault_type"),
                priority=v.get("priority") or None,
            ),
        ),
        ActionSpec(
            "assign-outlet",
            gettext_lazy("The work order was given to the outlet."),
            _outlet_form,
            lambda o, a, v: services.workorder_assign_outlet(
                work_order=o, outlet=v["outlet"], actor=a
            ),
        ),
        ActionSpec(
            "assign-technician",
            gettext_lazy("The work order was given to the technician."),
            _technician_form,
            lambda o, a, v: services.workorder_assign_technician(
                work_order=o,
                technician=v["technician"],
                actor=a,
                explanation=explanation_for(work_order=o, technician_id=v["technician"].pk),
            ),
        ),
        ActionSpec(
            "hold",
            gettext_lazy("The work order is on hold."),
            _simple(ReasonForm, "hold"),
            lambda o, a, v: services.workorder_hold(work_order=o, actor=a, reason=v["reason"]),
        ),
        ActionSpec(
            "resume",
            gettext_lazy("The work order was resumed."),
            _simple(EmptyForm, "resume"),
            lambda o, a, v: services.workorder_resume(work_order=o, actor=a),
        ),
        ActionSpec(
            "cancel",
            gettext_lazy("The work order was cancelled."),
            _simple(ReasonForm, "cancel"),
            lambda o, a, v: services.workorder_cancel(work_order=o, actor=a, reason=v["reason"]),
        ),
        ActionSpec(
            "note",
            gettext_lazy("The note was added."),
            _simple(NoteForm, "note"),
            lambda o, a, v: services.workorder_add_note(work_order=o, actor=a, text=v["text"]),
        ),
        ActionSpec(
            "schedule",
            gettext_lazy("The appointment was saved."),
            _simple(ScheduleForm, "schedule"),
            _schedule,
        ),
        ActionSpec(
            "receive",
            gettext_lazy("The device was received; the repair has started."),
            _simple(EmptyForm, "receive"),
            lambda o, a, v: services.workorder_receive_device(work_order=o, actor=a),
        ),
        ActionSpec(
            "report",
            gettext_lazy("Saved."),
            _simple(ReportForm, "report"),
            lambda o, a, v: services.workorder_report(
                work_order=o, actor=a, diagnosis=v["diagnosis"], work_done=v["work_done"]
            ),
        ),
        ActionSpec(
            "ready",
            gettext_lazy("The device is ready for pickup."),
            _simple(ReadyForm, "ready"),
            lambda o, a, v: services.workorder_ready_for_pickup(
                work_order=o, actor=a, note=v.get("note", "")
            ),
        ),
        ActionSpec(
            "hand-over",
            gettext_lazy("The device was handed over to the customer."),
            _simple(EmptyForm, "hand_over"),
            lambda o, a, v: services.workorder_hand_over(work_order=o, actor=a),
        ),
    ]
}


def available_actions(order: WorkOrder) -> set[str]:
    """The actions the order's status allows (from ``TRANSITIONS``); the service decides."""
    status = order.status
    allowed = TRANSITIONS[status]
    carry_in = order.fulfilment_mode in CARRY_IN_MODES
    names = {"note"}
    if status == S.SUBMITTED and S.ACCEPTED in allowed:
        names.add("accept")
    if status not in TERMINAL:
        names.add("triage")
    # Reassigning keeps the status; from in service or on hold the order first goes back.
    if (S.ASSIGNED in allowed or status == S.ASSIGNED) and status not in (
        S.IN_SERVICE,
        S.ON_HOLD,
    ):
        names |= {"assign-outlet", "assign-technician"}
    if status in (S.ASSIGNED, S.SCHEDULED) and (S.SCHEDULED in allowed or status == S.SCHEDULED):
        names.add("schedule")
    if S.ON_HOLD in allowed:
        names.add("hold")
    if status == S.ON_HOLD:
        names.add("resume")
    if S.CANCELLED in allowed:
        names.add("cancel")
    if carry_in:
        if status in (S.ASSIGNED, S.SCHEDULED) and S.IN_SERVICE in allowed:
            names.add("receive")
        if status == S.IN_SERVICE:
            names.add("report")
        if status == S.IN_SERVICE and S.COMPLETED in allowed:
            names.add("ready")
        if status == S.COMPLETED and S.CLOSED in allowed:
            names.add("hand-over")
    return names


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _event_detail(data: dict[str, Any]) -> str:
    """A short line from an event's data (who, where, when), for the timeline."""
    parts: list[str] = []
    for key in ("technician", "outlet", "fault_type"):
        if data.get(key):
            parts.append(str(data[key]))
    if isinstance(data.get("priority"), dict):
        priority = data["priority"]
        parts.append(
            f"{_label(Priority, priority.get('from'))} → {_label(Priority, priority.get('to'))}"
        )
    for start_key, end_key in (("start", "end"), ("preferred_start", "preferred_end")):
        if data.get(start_key):
            parts.append(f"{_when(data[start_key])} – {_when(data.get(end_key))}")
    if data.get("outcome"):
        parts.append(_label(VisitOutcome, data["outcome"]))
    if data.get("channel"):
        parts.append(_label(Channel, data["channel"]))
    return " · ".join(parts)


ROLE_LABELS = {
    "agent": gettext_lazy("staff"),
    "customer": gettext_lazy("customer"),
    "technician": gettext_lazy("technician"),
    "system": gettext_lazy("system"),
    "dispatch": gettext_lazy("automatic dispatch"),
}


def _extra_detail(event: Any) -> list[str]:
    """Words other apps add for their own events (sla: which target, due when)."""
    return [part for parts in hooks.collect(hooks.EVENT_DETAIL, event=event) for part in parts]


def _timeline(order: WorkOrder) -> list[dict[str, Any]]:
    return [
        {
            "event": event,
            "role": ROLE_LABELS.get(event.actor_role, event.actor_role),
            "from_label": _label(S, event.from_status) if event.from_status else "",
            "to_label": _label(S, event.to_status) if event.to_status else "",
            "detail": " · ".join(
                part for part in [_event_detail(event.data or {}), *_extra_detail(event)] if part
            ),
        }
        for event in events_for_staff(order)
    ]


def _slots_by_day(slots: list[Any]) -> list[tuple[dt.date, list[Any]]]:
    days: dict[dt.date, list[Any]] = {}
    for slot in slots:
        days.setdefault(timezone.localtime(slot.start).date(), []).append(slot)
    return list(days.items())


def _detail_context(
    request: HttpRequest,
    order: WorkOrder,
    organization_id: int,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    notice: str = "",
) -> dict[str, Any]:
    is_operator = _is_operator(request, organization_id)
    actions = available_actions(order) if is_operator else set()
    bound = bound or {}
    action_forms = {
        spec.key: bound[name] if name in bound else spec.build_form(order, organization_id, None)
        for name, spec in ACTIONS.items()
        if name in actions or name in bound
    }
    outlet_rows: list[tuple[Any, float | None, Any]] = []
    technician_rows: list[tuple[Any, float | None]] = []
    suggestions: dict[str, Any] | None = None
    assignable: set[int] = set()
    if {"assign-outlet", "assign-technician"} & actions:
        assignable = _assignable_ids(order, organization_id)
    if "assign-outlet" in actions:
        outlet_rows = _outlet_rows(order, assignable)
    if "assign-technician" in actions:
        technicians = technicians_for(assignable).prefetch_related(
            Prefetch(
                "skill_levels",
                queryset=TechnicianSkill.objects.select_related("skill").order_by("-level"),
            )
        )
        technician_rows = sorted(
            (
                (
                    technician,
                    haversine_km(
                        order.latitude,
                        order.longitude,
                        technician.home_latitude,
                        technician.home_longitude,
                    ),
                )
                for technician in technicians
            ),
            key=_by_distance,
        )
        suggestions = _suggestions(order, assignable)
    # Offers and pool entries past their time move on when somebody looks (no worker needed).
    offers_expire_due()
    attempts = attempts_for_order(work_order=order)
    mode = dispatch_settings_for(order).mode
    return {
        "order": order,
        "dispatch": {
            "mode": mode,
            "mode_label": DispatchMode(mode).label,
            "attempts": attempts,
            "pending": next((a for a in attempts if a.outcome == "pending"), None),
            # A dispatcher may put an accepted order in the job pool whatever the mode.
            "can_pool": is_operator
            and order.status == "accepted"
            and order.fulfilment_mode == "on_site"
            and not any(a.outcome == "pending" for a in attempts),
            "pool_url": reverse("dispatch_console:pool", args=[order.number]),
        },
        "status_colour": STATUS_COLOURS[order.status],
        "priority_colour": PRIORITY_COLOURS.get(order.priority, ""),
        "is_operator": is_operator,
        "actions": actions,
        "forms": action_forms,
        "outlet_rows": outlet_rows,
        "schedule_slots": _slots_by_day(available_slots(work_order=order))
        if "schedule" in actions
        else [],
        "technician_rows": technician_rows,
        "suggestions": suggestions,
        "selected_outlet": str(bound["assign-outlet"].data.get("outlet", ""))
        if "assign-outlet" in bound
        else "",
        "selected_technician": str(bound["assign-technician"].data.get("technician", ""))
        if "assign-technician" in bound
        else "",
        "visits": order.visits.select_related("technician__user"),
        "attachments": order.attachments.all(),
        "timeline": _timeline(order),
        # Sections other apps add to the page (sla: the clocks), without workorders knowing them.
        "panels": hooks.collect(hooks.CONSOLE_PANELS, work_order=order, now=timezone.now()),
        "error": error,
        "notice": notice,
        "failed_action": next(iter(bound), ""),
    }


@console_view
def workorder_detail(request: HttpRequest, organization: int, number: str) -> HttpResponse:
    """Everything about one order, and the actions its status allows (operators only)."""
    order = _order_or_404(request, organization, number)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = _detail_context(request, order, organization)
    if _is_htmx(request):
        return render(request, "workorders/partials/_console_detail_body.html", context)
    context["live"] = live.page_context(
        last=live.latest_event_id(),
        stream=reverse("wo_console:stream"),
        refresh=reverse("wo_console:detail", args=[order.number]),
        target="#wo-body",
        order=order.number,
    )
    return render(request, "workorders/console/detail.html", context)


def _form_problems(form: forms.Form) -> str:
    """The form's errors in one line ("Reason: This field is required.")."""
    problems = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        problems.append(f"{label}: {text}" if label else text)
    return " ".join(problems)


@console_view
def workorder_action(
    request: HttpRequest, organization: int, number: str, action: str
) -> HttpResponse:
    """POST one action; htmx gets the re-rendered order body, a plain form a redirect."""
    order = _order_or_404(request, organization, number)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_operator(request, organization)
    spec = ACTIONS[action]
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
    if not error and not _is_htmx(request):
        messages.success(request, notice)
        return redirect("wo_console:detail", number=order.number)
    fresh = _order_or_404(request, organization, number)
    context = _detail_context(
        request,
        fresh,
        organization,
        bound={action: form} if error else None,
        error=error,
        notice=notice,
    )
    template = (
        "workorders/partials/_console_detail_body.html"
        if _is_htmx(request)
        else "workorders/console/detail.html"
    )
    return render(request, template, context, status=status)


# console_view only passes the response through; a FileResponse streams (not an HttpResponse).
@console_view  # type: ignore[arg-type]
def attachment_file(
    request: HttpRequest, organization: int, number: str, token: str
) -> HttpResponseBase:
    """An order's photo, video or signature (``?thumb=1`` for the thumbnail), access-checked:
    files are never served from a public media URL."""
    order = _order_or_404(request, organization, number)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    attachment = Attachment.objects.filter(work_order=order, token=token).first()
    if attachment is None:
        raise Http404
    thumbnail = bool(request.GET.get("thumb")) and bool(attachment.thumbnail)
    field = attachment.thumbnail if thumbnail else attachment.file
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    content_type = "image/jpeg" if thumbnail else attachment.content_type
    inline = content_type.startswith(("image/", "video/"))
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=f"{attachment.token}.{'jpg' if thumbnail else attachment.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- follow-ups ------------------------------------------------------------------------------


def _follow_ups(request: HttpRequest, organization_id: int) -> QuerySet[FollowUp]:
    return follow_up_list_for_user(user=request.user).filter(organization_id=organization_id)


@console_view
def follow_up_list(request: HttpRequest, organization: int) -> HttpResponse:
    """回访: follow-ups of the organisation, open ones first."""
    follow_ups = _follow_ups(request, organization).annotate(
        open_first=Case(
            When(status=FollowUpStatus.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    shown = request.GET.get("status", "")
    if shown in FollowUpStatus.values:
        follow_ups = follow_ups.filter(status=shown)
    page = Paginator(follow_ups.order_by("open_first", "-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "shown": shown,
        "statuses": FollowUpStatus.choices,
        "is_operator": _is_operator(request, organization),
    }
    return render(request, "workorders/console/follow_up_list.html", context)


@console_view
def follow_up_resolve(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    """Close a follow-up with what was done; htmx gets the row back."""
    try:
        follow_up = _follow_ups(request, organization).get(pk=pk)
    except FollowUp.DoesNotExist:
        raise Http404 from None
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_operator(request, organization)
    form = FollowUpResolveForm(request.POST, auto_id=False)
    error, status = "", 200
    if form.is_valid():
        try:
            follow_up = follow_up_resolve_service(
                follow_up=follow_up,
                actor=_actor(request),
                resolution=form.cleaned_data["resolution"],
            )
        except DomainError as exc:
            error, status = str(exc), exc.status_code
    else:
        error, status = _form_problems(form), 400
    if _is_htmx(request):
        fresh = _follow_ups(request, organization).get(pk=follow_up.pk)
        return render(
            request,
            "workorders/partials/_console_follow_up_row.html",
            {"follow_up": fresh, "is_operator": True, "form": form, "row_error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The follow-up was closed."))
    return redirect(reverse("wo_console:follow-up-list"))
