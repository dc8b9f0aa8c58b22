"""Work-order pages for the technician (see urls_technician.py): the workbench on a phone.

Every page reads through ``selectors.workorder_get_for_technician``, so another technician's
job (in this organisation or another) answers 404 on every page and every action. Each action
is one POST that calls one service; with htmx the job's fragment is re-rendered in place,
without JavaScript the browser is redirected back to the job (or shown the refusal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from shouhou.core.errors import Conflict, DomainError
from shouhou.dispatch.models import Technician
from shouhou.workorders import forms_technician as tech_forms
from shouhou.workorders import live, selectors, services
from shouhou.workorders.choices import (
    OPEN,
    PRIORITY_RANK,
    STATUS_COLOURS,
    AttachmentKind,
    EventType,
    FulfilmentMode,
    Priority,
    VisitOutcome,
    VisitStatus,
    WorkOrderStatus,
)
from shouhou.workorders.models import Attachment, Visit, WorkOrder, WorkOrderEvent
from shouhou.workorders.services import Actor

S = WorkOrderStatus
RECENTLY_DONE = dt.timedelta(days=7)
MAX_DONE_SHOWN = 20
TIMELINE_LENGTH = 15
_BEFORE_WORK = frozenset({S.ASSIGNED, S.SCHEDULED})
_OPEN_VISIT = frozenset({VisitStatus.PLANNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE})
_AT_OUTLET = frozenset({FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN})
_PRIORITY_COLOURS: dict[str, str] = {
    Priority.URGENT: "red",
    Priority.HIGH: "orange",
    Priority.NORMAL: "grey",
    Priority.LOW: "grey",
}

# --- navigation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MapLinks:
    """Deep links that open the customer's address in the map apps used in China."""

    amap: str
    baidu_app: str
    baidu_web: str
    apple: str


def _coordinate(value: Decimal | float | str) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _query(params: dict[str, str]) -> str:
    # Commas stay literal: the map apps read "lng,lat" / "lat,lng" pairs.
    return urlencode(params, quote_via=quote, safe=",")


def map_links(
    *, latitude: Decimal | None, longitude: Decimal | None, name: str, address: str = ""
) -> MapLinks | None:
    """Links to Amap, Baidu Maps (the app, with a web fallback) and Apple Maps.

    With coordinates the apps drop a pin there (read as GCJ-02, the datum Chinese maps use);
    without them they search for the address. None when there is neither.
    """
    name = name.strip() or address.strip()
    if latitude is not None and longitude is not None:
        lat, lng = _coordinate(latitude), _coordinate(longitude)
        baidu = {
            "location": f"{lat},{lng}",
            "title": name,
            "content": address or name,
            "coord_type": "gcj02",
            "src": "shouhou",
        }
        return MapLinks(
            amap="https://uri.amap.com/marker?"
            + _query(
                {
                    "position": f"{lng},{lat}",
                    "name": name,
                    "src": "shouhou",
                    "coordinate": "gaode",
                    "callnative": "1",
                }
            ),
            baidu_app="baidumap://map/marker?" + _query(baidu),
            baidu_web="https://api.map.baidu.com/marker?" + _query({**baidu, "output": "html"}),
            apple="https://maps.apple.com/?" + _query({"ll": f"{lat},{lng}", "q": name}),
        )
    if not address.strip():
        return None
    place = address.strip()
    return MapLinks(
        amap="https://uri.amap.com/search?"
        + _query({"keyword": place, "src": "shouhou", "callnative": "1"}),
        baidu_app="baidumap://map/geocoder?" + _query({"address": place, "src": "shouhou"}),
        baidu_web="https://api.map.baidu.com/geocoder?"
        + _query({"address": place, "output": "html", "src": "shouhou"}),
        apple="https://maps.apple.com/?" + _query({"q": place}),
    )


def _links_for(order: WorkOrder) -> MapLinks | None:
    address = str(order.address) if order.address else ""
    latitude, longitude = order.latitude, order.longitude
    if (latitude is None or longitude is None) and order.address is not None:
        latitude, longitude = order.address.latitude, order.address.longitude
    return map_links(latitude=latitude, longitude=longitude, name=address, address=address)


# --- the job list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One card on the job list."""

    order: WorkOrder
    status_colour: str
    priority_colour: str
    is_late: bool
    eta: dt.datetime | None = None  # expected arrival on the day's route plan, if any


@dataclass(frozen=True)
class JobGroup:
    key: str
    title: Promise
    jobs: list[Job]


GROUPS: tuple[tuple[str, Promise], ...] = (
    ("today", gettext_lazy("Today")),
    ("upcoming", gettext_lazy("Upcoming")),
    ("to_accept", gettext_lazy("To accept")),
    ("in_progress", gettext_lazy("In progress")),
    ("done", gettext_lazy("Done")),
)


def _group_of(order: WorkOrder, today: dt.date) -> str:
    if order.status in (S.IN_SERVICE, S.ON_HOLD):
        return "in_progress"
    if order.status not in OPEN:
        return "done"
    if order.status in _BEFORE_WORK and order.assignment_accepted_at is None:
        return "to_accept"
    if order.appointment_start and timezone.localdate(order.appointment_start) <= today:
        return "today"
    return "upcoming"


def _far_future() -> dt.datetime:
    return dt.datetime.max.replace(tzinfo=dt.UTC)


def technician_job_groups(*, user: Any, now: dt.datetime | None = None) -> list[JobGroup]:
    """The technician's jobs in the order a working day needs them: today, upcoming, to
    accept, in progress, and what was finished in the last week. One query."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    orders = selectors.workorder_list_for_technician(user=user).filter(
        Q(status__in=OPEN) | Q(updated_at__gte=now - RECENTLY_DONE)
    )
    # Imported here: dispatch.routes reads work orders; the apps must not import each other at
    # module level.
    from shouhou.dispatch.routes import route_etas_for

    orders_list = list(orders)
    etas = route_etas_for(work_orders=orders_list)
    buckets: dict[str, list[Job]] = {key: [] for key, _title in GROUPS}
    for order in orders_list:
        late = (
            order.status in _BEFORE_WORK
            and order.appointment_end is not None
            and order.appointment_end < now
        )
        buckets[_group_of(order, today)].append(
            Job(
                order=order,
                status_colour=STATUS_COLOURS.get(order.status, "grey"),
                priority_colour=_PRIORITY_COLOURS.get(order.priority, "grey"),
                is_late=late,
                eta=etas.get(order.pk),
            )
        )

    def by_time(job: Job) -> tuple[dt.datetime, int, int]:
        order = job.order
        # The route's order of the day when there is a plan, else the appointment.
        moment = job.eta or order.appointment_start or order.preferred_start or _far_future()
        return (moment, -PRIORITY_RANK.get(order.priority, 0), order.pk)

    for key in ("today", "upcoming", "in_progress"):
        buckets[key].sort(key=by_time)
    buckets["to_accept"].sort(
        key=lambda job: (-PRIORITY_RANK.get(job.order.priority, 0), job.order.submitted_at)
    )
    buckets["done"].sort(key=lambda job: job.order.updated_at, reverse=True)
    del buckets["done"][MAX_DONE_SHOWN:]
    return [JobGroup(key, title, buckets[key]) for key, title in GROUPS]


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """/tech/jobs/: the signed-in technician's jobs, grouped for the working day.

    htmx (the live page refreshing itself) gets only the list.
    """
    context: dict[str, Any] = {"groups": technician_job_groups(user=request.user)}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "workorders/partials/_tech_job_list.html", context)
    context["live"] = live.page_context(
        last=live.latest_event_id(),
        stream=reverse("wo_tech:stream"),
        refresh=reverse("wo_tech:list"),
        target="#tech-jobs",
    )
    return render(request, "workorders/technician/job_list.html", context)


# --- one job --------------------------------------------------------------------------------


def available_actions(
    order: WorkOrder, *, open_visit: Visit | None, now: dt.datetime | None = None
) -> frozenset[str]:
    """The steps the technician's page offers for the order as it is now.

    The services still decide (a refusal is shown as it is); this only keeps the page to the
    steps that make sense: on-site visits go on the way → check in → report, photos, signature
    → finish; carry-in goes receive → diagnose → repair → ready → handed over.
    """
    now = now or timezone.now()
    status = order.status
    actions = {"note"}
    before_work = status in _BEFORE_WORK
    if before_work:
        actions.add("decline")
        if order.assignment_accepted_at is None:
            actions.add("accept")
    if order.fulfilment_mode in _AT_OUTLET:
        if before_work:
            actions |= {"schedule", "receive"}
        if status == S.IN_SERVICE:
            actions |= {"report", "photo", "ready"}
        if status == S.COMPLETED:
            actions.add("hand-over")
    else:
        visit_status = open_visit.status if open_visit is not None else None
        if before_work:
            if visit_status in (None, VisitStatus.PLANNED):
                actions.add("schedule")
            # on the way and on site once the job is taken (taking it is one tap)
            if order.assignment_accepted_at is not None:
                actions.add("check-in")
                if visit_status in (None, VisitStatus.PLANNED):
                    actions.add("en-route")
            if visit_status == VisitStatus.EN_ROUTE:
                # there, but nobody opens the door (or it needs another day)
                actions.add("complete")
        if status == S.IN_SERVICE:
            if visit_status == VisitStatus.ON_SITE:
                actions |= {"report", "photo", "sign", "complete"}
            else:
                # back after a hold or a rejected completion: a new visit starts here
                actions.add("check-in")
    preferred = order.preferred_start, order.preferred_end
    if (
        "schedule" in actions
        and preferred[0] is not None
        and preferred[1] is not None
        and preferred[0] > now
        and preferred != (order.appointment_start, order.appointment_end)
    ):
        actions.add("confirm-time")
    return frozenset(actions)


def _initial_schedule(order: WorkOrder) -> dict[str, Any]:
    start = order.appointment_start or order.preferred_start
    end = order.appointment_end or order.preferred_end
    if start is None:
        return {"date": timezone.localdate()}
    local_start = timezone.localtime(start)
    initial: dict[str, Any] = {"date": local_start.date(), "start_time": local_start.time()}
    if end is not None:
        initial["end_time"] = timezone.localtime(end).time()
    return initial


def _form_key(action: str) -> str:
    return action.replace("-", "_")


def _make_form(form_class: type[forms.Form], action: str, *args: Any, **kwargs: Any) -> forms.Form:
    # Several forms share field names (latitude, longitude): give each its own element ids.
    kwargs["auto_id"] = f"tech-{action}-%s"
    return form_class(*args, **kwargs)


def _blank_forms(order: WorkOrder) -> dict[str, forms.Form]:
    forms_by_action = {
        _form_key(action): _make_form(spec.form, action)
        for action, spec in ACTIONS.items()
        if spec.form is not None
    }
    forms_by_action["schedule"] = _make_form(
        tech_forms.ScheduleForm, "schedule", initial=_initial_schedule(order)
    )
    return forms_by_action


def _outcomes(order: WorkOrder) -> list[tuple[str, str]]:
    if order.status == S.IN_SERVICE:
        allowed: Iterable[str] = VisitOutcome.values
    else:
        # not checked in: nothing was repaired or found missing
        allowed = (VisitOutcome.CUSTOMER_ABSENT, VisitOutcome.NEEDS_REVISIT)
    return [(value, str(VisitOutcome(value).label)) for value in allowed]


def _carry_in_steps(order: WorkOrder, event_types: set[str]) -> list[tuple[str, bool]]:
    return [
        (_("Device received"), order.started_at is not None),
        (_("Diagnosed"), EventType.DIAGNOSED in event_types),
        (_("Repaired"), EventType.WORK_REPORTED in event_types),
        (_("Ready for pickup"), order.completed_at is not None),
        (_("Handed over"), order.status == S.CLOSED),
    ]


def _job_context(
    order: WorkOrder,
    *,
    error: str = "",
    notice: str = "",
    bound: tuple[str, forms.Form] | None = None,
) -> dict[str, Any]:
    visits = list(order.visits.all())
    open_visit = next((visit for visit in reversed(visits) if visit.status in _OPEN_VISIT), None)
    attachments: list[Attachment] = list(order.attachments.all())
    events: list[WorkOrderEvent] = list(selectors.events_for_staff(order))
    at_outlet = order.fulfilment_mode in _AT_OUTLET
    forms_by_action = _blank_forms(order)
    if bound is not None:
        forms_by_action[_form_key(bound[0])] = bound[1]
    photos = {kind: [a for a in attachments if a.kind == kind] for kind in AttachmentKind.values}
    last_visit = open_visit or (visits[-1] if visits else None)
    if last_visit is not None and not (
        last_visit.diagnosis or last_visit.work_done or last_visit.outcome
    ):
        last_visit = None
    return {
        "order": order,
        "masked_phone": order.customer.masked_phone,
        "status_colour": STATUS_COLOURS.get(order.status, "grey"),
        "priority_colour": _PRIORITY_COLOURS.get(order.priority, "grey"),
        "at_outlet": at_outlet,
        "actions": available_actions(order, open_visit=open_visit),
        "forms": forms_by_action,
        "outcomes": _outcomes(order),
        "open_visit": open_visit,
        "last_visit": last_visit,
        "links": None if at_outlet or order.status not in OPEN else _links_for(order),
        "photo_kinds": [
            (kind, AttachmentKind(kind).label)
            for kind in (AttachmentKind.BEFORE_PHOTO, AttachmentKind.AFTER_PHOTO)
        ],
        "photo_sections": [
            (AttachmentKind(kind).label, photos[kind])
            for kind in (
                AttachmentKind.FAULT_PHOTO,
                AttachmentKind.FAULT_VIDEO,
                AttachmentKind.BEFORE_PHOTO,
                AttachmentKind.AFTER_PHOTO,
                AttachmentKind.SIGNATURE,
            )
        ],
        "has_photos": bool(attachments),
        "signatures": photos[AttachmentKind.SIGNATURE],
        "steps": _carry_in_steps(order, {event.type for event in events}) if at_outlet else [],
        "timeline": list(reversed(events[-TIMELINE_LENGTH:])),
        "error": error,
        "notice": notice,
    }


def _render_job(
    request: HttpRequest, order: WorkOrder, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    template = (
        "workorders/partials/_tech_job.html"
        if request.htmx  # type: ignore[attr-defined]
        else "workorders/technician/job_detail.html"
    )
    return render(request, template, _job_context(order, **kwargs), status=status)


@login_required
@require_GET
def job_detail(request: HttpRequest, number: str) -> HttpResponse:
    """/tech/jobs/<number>/: the job with the steps its status allows."""
    order = selectors.workorder_get_for_technician(user=request.user, number=number)
    return _render_job(request, order)


# --- actions: one POST, one service ---------------------------------------------------------


def _technician(order: WorkOrder) -> Technician:
    # The selector only returns orders assigned to one of the user's technician profiles.
    assert order.technician is not None
    return order.technician


def _confirm_preferred_time(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> object:
    if order.preferred_start is None or order.preferred_end is None:
        raise Conflict(_("The customer did not give a preferred time."))
    return services.workorder_schedule(
        work_order=order, actor=actor, start=order.preferred_start, end=order.preferred_end
    )


Run = Callable[[WorkOrder, Actor, dict[str, Any]], object]


@dataclass(frozen=True)
class _Action:
    run: Run
    done: Promise
    form: type[forms.Form] | None = None
    # after this the job is no longer the technician's: go back to the list
    leaves: bool = False


ACTIONS: dict[str, _Action] = {
    "accept": _Action(
        lambda o, a, v: services.workorder_accept_assignment(
            work_order=o, technician=_technician(o), actor=a
        ),
        gettext_lazy("You took the job."),
    ),
    "decline": _Action(
        lambda o, a, v: services.workorder_decline_assignment(
            work_order=o, technician=_technician(o), actor=a, reason=v["reason"]
        ),
        gettext_lazy("The job went back to dispatch."),
        tech_forms.ReasonForm,
        leaves=True,
    ),
    "schedule": _Action(
        lambda o, a, v: services.workorder_schedule(
            work_order=o, actor=a, start=v["start"], end=v["end"]
        ),
        gettext_lazy("The appointment is set."),
        tech_forms.ScheduleForm,
    ),
    "confirm-time": _Action(
        _confirm_preferred_time, gettext_lazy("The customer's time is confirmed.")
    ),
    "en-route": _Action(
        lambda o, a, v: services.visit_set_en_route(
            work_order=o,
            technician=_technician(o),
            actor=a,
            latitude=v["latitude"],
            longitude=v["longitude"],
        ),
        gettext_lazy("The customer sees that you are on the way."),
        tech_forms.LocationForm,
    ),
    "check-in": _Action(
        lambda o, a, v: services.visit_check_in(
            work_order=o,
            technician=_technician(o),
            actor=a,
            latitude=v["latitude"],
            longitude=v["longitude"],
        ),
        gettext_lazy("Checked in. The service has started."),
        tech_forms.LocationForm,
    ),
    "report": _Action(
        lambda o, a, v: services.workorder_report(
            work_order=o, actor=a, diagnosis=v["diagnosis"], work_done=v["work_done"]
        ),
        gettext_lazy("Saved."),
        tech_forms.ReportForm,
    ),
    "photo": _Action(
        lambda o, a, v: services.attachment_add(
            work_order=o, actor=a, kind=v["kind"], upload=v["file"]
        ),
        gettext_lazy("The photo was added."),
        tech_forms.PhotoForm,
    ),
    "sign": _Action(
        lambda o, a, v: services.workorder_sign(work_order=o, actor=a, signature=v["signature"]),
        gettext_lazy("The customer's signature is saved."),
        tech_forms.SignatureForm,
    ),
    "complete": _Action(
        lambda o, a, v: services.visit_finish(
            work_order=o,
            technician=_technician(o),
            actor=a,
            outcome=v["outcome"],
            latitude=v["latitude"],
            longitude=v["longitude"],
            note=v["note"],
        ),
        gettext_lazy("The visit is finished."),
        tech_forms.CompleteForm,
    ),
    "note": _Action(
        lambda o, a, v: services.workorder_add_note(work_order=o, actor=a, text=v["text"]),
        gettext_lazy("The note was added."),
        tech_forms.NoteForm,
    ),
    "receive": _Action(
        lambda o, a, v: services.workorder_receive_device(work_order=o, actor=a),
        gettext_lazy("The device is received. The repair has started."),
    ),
    "ready": _Action(
        lambda o, a, v: services.workorder_ready_for_pickup(work_order=o, actor=a, note=v["note"]),
        gettext_lazy("The customer is told the device is ready."),
        tech_forms.ReadyForm,
    ),
    "hand-over": _Action(
        lambda o, a, v: services.workorder_hand_over(work_order=o, actor=a),
        gettext_lazy("Handed over. The job is closed."),
    ),
}


def _form_errors(form: forms.Form) -> str:
    texts: list[str] = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = f"{field.label}: " if field is not None and field.label else ""
        texts.extend(f"{label}{error}" for error in errors)
    return " ".join(texts)


@login_required
@require_POST
def job_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """POST /tech/jobs/<number>/<action>/: run one step on the technician's own job."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    order = selectors.workorder_get_for_technician(user=request.user, number=number)
    open_visit = (
        order.visits.filter(status__in=_OPEN_VISIT).order_by("-pk").first()
        if order.fulfilment_mode not in _AT_OUTLET
        else None
    )
    form = (
        _make_form(spec.form, action, request.POST, request.FILES)
        if spec.form is not None
        else None
    )
    error, status = "", 200
    if action not in available_actions(order, open_visit=open_visit):
        error, status = _("This step is not available for this job right now."), 409
    elif form is not None and not form.is_valid():
        error, status = _form_errors(form), 400
    else:
        values = form.cleaned_data if form is not None else {}
        try:
            spec.run(order, Actor(user=request.user, role="technician"), values)  # type: ignore[arg-type]
        except DomainError as exc:
            error, status = str(exc), exc.status_code
    is_htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if not error and spec.leaves:
        messages.success(request, str(spec.done))
        target = reverse("wo_tech:list")
        return HttpResponseClientRedirect(target) if is_htmx else redirect(target)
    if not error and not is_htmx:
        # Post/redirect/get: a reload does not post the step again.
        messages.success(request, str(spec.done))
        return redirect("wo_tech:detail", number=order.number)
    fresh = selectors.workorder_get_for_technician(user=request.user, number=number)
    bound = (action, form) if error and form is not None else None
    # htmx only swaps 2xx answers; the refusal is in the fragment it swaps in.
    return _render_job(
        request,
        fresh,
        status=200 if is_htmx else status,
        error=error,
        notice="" if error else str(spec.done),
        bound=bound,
    )


# --- files ----------------------------------------------------------------------------------


@login_required
@require_GET
def job_attachment(
    request: HttpRequest, number: str, token: str, thumbnail: bool = False
) -> FileResponse:
    """A photo, video or signature of the technician's own job (404 for anyone else's)."""
    order = selectors.workorder_get_for_technician(user=request.user, number=number)
    attachment = Attachment.objects.filter(work_order=order, token=token).first()
    if attachment is None:
        raise Http404
    stored: FieldFile = attachment.file
    content_type = attachment.content_type
    if thumbnail and attachment.thumbnail:
        stored, content_type = attachment.thumbnail, "image/jpeg"
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
