"""Work-order pages for the customer (see urls_customer.py).

报修 on a phone without an account (verified by an SMS code), the expected price before
committing, tracking by link (/t/<token>/) or in 我的服务 (/my/orders/<number>/), the
customer's actions (cancel, change the time, 催单, confirm or reject the completion, rate) and
the photos, served only to people who may see the order.

Every write goes through a service; views parse input, map ``DomainError`` to a message next to
the form, and answer htmx requests with the fragment they changed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhou.accounts.forms import SmsCodeRequestForm
from shouhou.accounts.models import Organization, Outlet, User
from shouhou.accounts.services import (
    sms_code_request,
    sms_code_verify,
    user_get_or_create_by_phone,
)
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.catalog.selectors import fault_type_estimate
from shouhou.core.errors import DomainError
from shouhou.core.money import quantize
from shouhou.core.phone import mask_phone, normalize_phone
from shouhou.customers.models import Address, Asset
from shouhou.dispatch.outlets import OutletOption, outlet_options
from shouhou.dispatch.slots import (
    Slot,
    SlotFull,
    SlotUnavailable,
    appointment_reschedule,
    available_slots,
    outlet_slots,
    slot_book,
    visit_windows,
)
from shouhou.feedback.models import Rating
from shouhou.feedback.services import rating_submit
from shouhou.workorders import live, services
from shouhou.workorders.access import CUSTOMER, relations
from shouhou.workorders.attachments import AttachmentRejected
from shouhou.workorders.choices import (
    CUSTOMER_CANCELLABLE,
    CUSTOMER_LABELS,
    OPEN,
    STATUS_COLOURS,
    AttachmentKind,
    EventType,
    FulfilmentMode,
    VisitOutcome,
    WorkOrderStatus,
)
from shouhou.workorders.forms_customer import (
    RATING_DIMENSIONS,
    CancelForm,
    CodeForm,
    IntakeForm,
    RatingForm,
    RejectCompletionForm,
    RescheduleForm,
    parse_slot_start,
)
from shouhou.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from shouhou.workorders.selectors import (
    events_for_customer,
    workorder_get_by_token,
    workorder_get_for_customer,
    workorder_list_for_customer,
)
from shouhou.workorders.services import Actor

S = WorkOrderStatus
SMS_BACKEND = "shouhou.accounts.backends.SmsCodeBackend"
MY_ORDERS_LIMIT = 200


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    return cast(User, user) if user.is_authenticated else None


# --- prices ----------------------------------------------------------------------------------


def yuan(amount: Decimal) -> str:
    """``80`` → ``¥80``, ``80.5`` → ``¥80.50``, ``1200`` → ``¥1,200``."""
    value = quantize(amount)
    if value == value.to_integral_value():
        return f"¥{int(value):,}"
    return f"¥{value:,.2f}"


@dataclass(frozen=True)
class Price:
    """What the customer is told about the price: a headline and a short note."""

    kind: str  # warranty | range | inspection | choose
    headline: str
    note: str = ""


def price_range(low: Decimal | None, high: Decimal | None) -> Price:
    if low is None or high is None or high <= 0:
        return Price(
            "inspection",
            _("Price after inspection"),
            _("The engineer tells you the price before starting any work."),
        )
    text = yuan(low) if low == high else f"{yuan(low)} – {yuan(high)}"
    return Price(
        "range", text, _("From the price list. The engineer confirms it before starting work.")
    )


WARRANTY = "warranty"


def _warranty_price() -> Price:
    return Price(
        WARRANTY,
        _("Free of charge: under warranty"),
        _("Your device is under warranty; covered faults are repaired for free."),
    )


def known_asset(
    *,
    organization: Organization,
    phone: str,
    product_model: ProductModel | None,
    identifier: str,
    phone_verified: bool,
) -> Asset | None:
    """A device of this phone's customer record: by its serial/IMEI/VIN, or (only when the
    phone is proven) by its model. Knowing the number alone never reveals someone's devices."""
    assets = Asset.objects.filter(
        customer__organization=organization, customer__phone=phone
    ).order_by("-warranty_until", "pk")
    identifier = identifier.strip()
    if identifier:
        match = assets.filter(
            Q(serial_number__iexact=identifier) | Q(imei=identifier) | Q(vin__iexact=identifier)
        ).first()
        if match is not None:
            return match
    if phone_verified and product_model is not None:
        return assets.filter(product_model=product_model).first()
    return None


def intake_price(
    *,
    organization: Organization,
    user: User | None,
    fault_type_id: Any,
    product_model_id: Any,
    phone: str,
    identifier: str,
) -> Price:
    """The price shown while reporting: free under warranty, else the fault's range."""
    fault_type = _pick(FaultType, organization, fault_type_id)
    product_model = _pick(ProductModel, organization, product_model_id)
    try:
        phone = normalize_phone(phone) if phone else ""
    except ValidationError:
        phone = ""
    if not phone and user is not None:
        phone = user.phone
    if phone:
        asset = known_asset(
            organization=organization,
            phone=phone,
            product_model=product_model,
            identifier=identifier,
            phone_verified=user is not None and user.phone == phone,
        )
        if asset is not None and asset.is_under_warranty(timezone.localdate()):
            return _warranty_price()
    if fault_type is None:
        return Price("choose", "", _("Choose the type of fault to see the expected price."))
    estimate = fault_type_estimate(
        fault_type=fault_type, product_model_id=product_model.pk if product_model else None
    )
    return price_range(estimate.low, estimate.high)


def order_price(order: WorkOrder) -> Price:
    if order.is_under_warranty:
        return _warranty_price()
    return price_range(order.estimate_low, order.estimate_high)


def _pick(model: Any, organization: Organization, pk: Any) -> Any:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    return model.objects.filter(organization=organization, pk=key, is_active=True).first()


# --- report (报修) ----------------------------------------------------------------------------


def organizations_accepting_reports() -> QuerySet[Organization]:
    """Active organisations that offer at least one active service type."""
    offering = ServiceType.objects.filter(is_active=True).values("organization_id")
    return Organization.objects.filter(is_active=True, pk__in=offering).order_by("name", "pk")


def _reporting_organization(org_code: str) -> Organization:
    return get_object_or_404(Organization, code=org_code, is_active=True)


@require_GET
def report_index(request: HttpRequest) -> HttpResponse:
    """Where to report: one entry per organisation taking reports (a fragment for htmx)."""
    context = {"organizations": organizations_accepting_reports()}
    if _is_htmx(request):
        return render(request, "workorders/partials/_customer_report_links.html", context)
    return render(request, "workorders/customer/report_index.html", context)


def _wire_intake(form: IntakeForm, organization: Organization) -> IntakeForm:
    """htmx wiring of the product selects (the page works without it)."""
    choices = reverse("wo_customer:report-choices", args=[organization.code])
    include = (
        "#intake-form [name=category], #intake-form [name=brand], "
        "#intake-form [name=product_model], #intake-form [name=fault_type]"
    )
    for name in ("category", "brand"):
        form.fields[name].widget.attrs.update(
            {
                "hx-get": f"{choices}?part=models",
                "hx-target": "#product-model-field",
                "hx-swap": "outerHTML",
                "hx-include": include,
            }
        )
    form.fields["product_model"].widget.attrs.update(
        {
            "hx-get": f"{choices}?part=faults",
            "hx-target": "#fault-type-field",
            "hx-swap": "outerHTML",
            "hx-include": include,
        }
    )
    return form


def _intake_initial(request: HttpRequest, data: dict[str, Any] | None = None) -> dict[str, Any]:
    initial: dict[str, Any] = {"fulfilment_mode": FulfilmentMode.ON_SITE}
    user = _signed_in(request)
    if user is not None:
        initial.update(name=user.display_name, phone=user.national_phone)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    initial["date"] = tomorrow
    initial.update(data or {})
    if not initial.get("idempotency_key"):
        initial["idempotency_key"] = uuid.uuid4().hex
    return initial


def slots_by_day(slots: list[Slot]) -> list[tuple[dt.date, list[Slot]]]:
    days: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(timezone.localtime(slot.start).date(), []).append(slot)
    return list(days.items())


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180 <= number <= 180 else None


INTAKE_SLOT_DAYS = 4  # a phone screen of choices; the order page offers the whole week later


def outlet_picker_context(organization: Organization, raw: Any) -> dict[str, Any]:
    """The ranked outlets for the product chosen so far (nearest first when the browser gave
    a position), and the free slots of the chosen outlet, for the carry-in part of 报修."""
    latitude, longitude = _float(raw.get("latitude")), _float(raw.get("longitude"))
    if latitude is None or longitude is None:
        latitude = longitude = None
    options: list[OutletOption] = outlet_options(
        organization=organization,
        category=_pick(ProductCategory, organization, raw.get("category")),
        brand=_pick(Brand, organization, raw.get("brand")),
        product_model=_pick(ProductModel, organization, raw.get("product_model")),
        fault_type=_pick(FaultType, organization, raw.get("fault_type")),
        latitude=latitude,
        longitude=longitude,
    )
    selected = str(raw.get("outlet") or "")
    outlet = next((o.outlet for o in options if str(o.outlet.pk) == selected), None)
    if outlet is None and selected.isdigit():
        # Chosen before the product changed: still offer its slots; the form validates it.
        outlet = (
            Outlet.objects.filter(
                pk=int(selected),
                organization_id__in=services.serving_organization_ids(organization),
                is_active=True,
            )
            .prefetch_related("opening_hours")
            .first()
        )
    return {
        "organization": organization,
        "outlet_options": options,
        "selected_outlet": selected,
        "selected_slot": str(raw.get("slot_start") or ""),
        "slot_days": (
            slots_by_day(outlet_slots(outlet=outlet, days=INTAKE_SLOT_DAYS))
            if outlet is not None
            else []
        ),
        "has_position": latitude is not None,
    }


FREE_WINDOWS_SHOWN = 12


def _free_windows(organization: Organization, raw: Any) -> list[Slot]:
    """选择时间: the next two-hour windows in which an engineer who could do the job is free
    (a hint for on-site service; the time stays a preference until dispatch confirms it)."""
    latitude, longitude = _float(raw.get("latitude")), _float(raw.get("longitude"))
    if latitude is None or longitude is None:
        latitude = longitude = None
    windows = visit_windows(
        organization_ids=services.serving_organization_ids(organization),
        latitude=latitude,
        longitude=longitude,
        fault_type=_pick(FaultType, organization, raw.get("fault_type")),
        days=5,
    )
    return windows[:FREE_WINDOWS_SHOWN]


@require_GET
def report_outlets(request: HttpRequest, org_code: str) -> HttpResponse:
    """htmx: the outlet comparison (distance, price, rating, open now) and the free slots."""
    organization = _reporting_organization(org_code)
    context = outlet_picker_context(organization, request.GET)
    return render(request, "workorders/partials/_customer_outlets.html", context)


def _render_intake(
    request: HttpRequest,
    organization: Organization,
    form: IntakeForm,
    *,
    status: int = 200,
    sms_sent: bool = False,
    sms_error: str = "",
) -> HttpResponse:
    raw = form.data if form.is_bound else form.initial
    user = _signed_in(request)
    price = intake_price(
        organization=organization,
        user=user,
        fault_type_id=raw.get("fault_type"),
        product_model_id=raw.get("product_model"),
        phone=str(raw.get("phone") or ""),
        identifier=str(raw.get("device_identifier") or ""),
    )
    context = {
        "organization": organization,
        "form": _wire_intake(form, organization),
        "price": price,
        "sms_sent": sms_sent,
        "sms_error": sms_error,
        "signed_in_phone": user.masked_phone if user is not None else "",
        **outlet_picker_context(organization, raw),
        "free_windows": _free_windows(organization, raw),
    }
    return render(request, "workorders/customer/report.html", context, status=status)


@dataclass
class _IntakeOutcome:
    work_order: WorkOrder
    user: User
    created: bool


def _intake_create(
    request: HttpRequest, organization: Organization, data: dict[str, Any]
) -> _IntakeOutcome:
    """The writes of one report; runs inside the caller's transaction."""
    phone: str = data["phone"]
    signed_in = _signed_in(request)
    if signed_in is not None and signed_in.phone == phone:
        user = signed_in
    else:
        user = user_get_or_create_by_phone(phone=phone, display_name=data["name"])
        if not user.is_active:
            raise DomainError(_("This account is disabled."))
    customer = services.customer_get_or_create(
        organization=organization, phone=phone, name=data["name"], user=user
    )
    address = None
    if data["fulfilment_mode"] == FulfilmentMode.ON_SITE:
        values = {
            "province": data["province"].strip(),
            "city": data["city"].strip(),
            "district": data["district"].strip(),
            "address": data["street"].strip(),
        }
        address = Address.objects.filter(customer=customer, **values).first()
        if address is None:
            address = Address.objects.create(
                customer=customer,
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                **values,
            )
        elif data.get("latitude") is not None:
            address.latitude, address.longitude = data["latitude"], data["longitude"]
            address.save(update_fields=["latitude", "longitude", "updated_at"])
    product_model = data.get("product_model")
    asset = known_asset(
        organization=organization,
        phone=phone,
        product_model=product_model,
        identifier=data.get("device_identifier") or "",
        phone_verified=True,
    )
    result = services.workorder_create(
        organization=organization,
        customer=customer,
        service_type=data["service_type"],
        description=data["description"],
        channel="web",
        fulfilment_mode=data["fulfilment_mode"],
        actor=Actor(user=user, role="customer"),
        asset=asset,
        category=data.get("category"),
        brand=data.get("brand"),
        product_model=product_model,
        device_identifier=data.get("device_identifier") or "",
        fault_type=data.get("fault_type"),
        address=address,
        outlet=data.get("outlet") if data["fulfilment_mode"] == FulfilmentMode.CARRY_IN else None,
        preferred_start=data.get("start"),
        preferred_end=data.get("end"),
        idempotency_key=data["idempotency_key"],
        uploads=data.get("photos") or [],
    )
    carry_in = data["fulfilment_mode"] == FulfilmentMode.CARRY_IN
    if result.created and carry_in and data.get("slot_start"):
        # Hold the bay in the same transaction: a full slot creates no order at all.
        slot_book(work_order=result.work_order, start=data["start"])
    return _IntakeOutcome(result.work_order, user, result.created)


def _already_reported(organization: Organization, key: str, phone: str) -> WorkOrder | None:
    """The order a double tap or a browser retry of the same form already created."""
    return WorkOrder.objects.filter(
        organization=organization, idempotency_key=key, customer__phone=phone
    ).first()


def _done_url(order: WorkOrder) -> str:
    return reverse("wo_customer:report-done", args=[order.organization.code, order.tracking_token])


def _intake_error_field(error: DomainError) -> str | None:
    if isinstance(error, AttachmentRejected):
        return "photos"
    if isinstance(error, SlotFull | SlotUnavailable):
        return "slot_start"
    if str(error) == _("Up to 9 photos or one short video."):
        return "photos"
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, org_code: str) -> HttpResponse:
    """报修: the form, and its submission (POST → redirect → the success page)."""
    organization = _reporting_organization(org_code)
    if request.method == "GET":
        form = IntakeForm(organization=organization, initial=_intake_initial(request))
        return _render_intake(request, organization, form)
    if request.POST.get("preview"):
        # Without JavaScript, "see the price" re-renders the form with the estimate.
        form = IntakeForm(
            organization=organization, initial=_intake_initial(request, request.POST.dict())
        )
        return _render_intake(request, organization, form)
    form = IntakeForm(organization=organization, data=request.POST, files=request.FILES)
    if not form.is_valid():
        return _render_intake(request, organization, form, status=400)
    data = form.cleaned_data
    phone, key = data["phone"], data["idempotency_key"]
    existing = _already_reported(organization, key, phone)
    if existing is not None:
        return redirect(_done_url(existing))
    signed_in = _signed_in(request)
    needs_code = signed_in is None or signed_in.phone != phone
    if needs_code and not data["code"]:
        form.add_error("code", _("Enter the 6-digit code we sent to your phone."))
        return _render_intake(request, organization, form, status=400)

    code_error: DomainError | None = None
    error: DomainError | None = None
    outcome: _IntakeOutcome | None = None
    with transaction.atomic():
        if needs_code:
            # Checked inside the transaction: the code row stays locked until the order is
            # written, so a double tap waits and then finds the order by its key. A wrong code
            # is caught here, so the transaction commits and the wrong try is counted.
            try:
                sms_code_verify(phone=phone, code=data["code"])
            except DomainError as exc:
                code_error = exc
        if code_error is None:
            try:
                outcome = _intake_create(request, organization, data)
            except DomainError as exc:
                error = exc
            if error is not None or (outcome is not None and not outcome.created):
                # Bad input creates nothing (no user, customer, address or file), and the
                # code stays usable for the corrected form.
                transaction.set_rollback(True)
    if code_error is not None:
        existing = _already_reported(organization, key, phone)
        if existing is not None:
            return redirect(_done_url(existing))
        form.add_error("code", str(code_error))
        return _render_intake(request, organization, form, status=400)
    if error is not None:
        form.add_error(_intake_error_field(error), str(error))
        return _render_intake(request, organization, form, status=error.status_code)
    assert outcome is not None
    if not outcome.created:
        # A concurrent submission of the same form won; this one wrote nothing.
        return redirect(_done_url(outcome.work_order))
    if signed_in is None:
        login(request, outcome.user, backend=SMS_BACKEND)
    return redirect(_done_url(outcome.work_order))


@require_GET
def report_choices(request: HttpRequest, org_code: str) -> HttpResponse:
    """htmx: the model select narrowed by category and brand, and the fault types that fit."""
    organization = _reporting_organization(org_code)
    initial = {
        name: request.GET.get(name, "")
        for name in ("category", "brand", "product_model", "fault_type")
    }
    form = _wire_intake(IntakeForm(organization=organization, initial=initial), organization)
    part = "faults" if request.GET.get("part") == "faults" else "models"
    response = render(
        request,
        "workorders/partials/_customer_choices.html",
        {"form": form, "part": part, "oob": True},
    )
    response["HX-Trigger-After-Settle"] = "estimate-refresh"
    return response


@require_GET
def report_estimate(request: HttpRequest, org_code: str) -> HttpResponse:
    """The expected price (or 保修期内免费) for the fault and model chosen so far."""
    organization = _reporting_organization(org_code)
    price = intake_price(
        organization=organization,
        user=_signed_in(request),
        fault_type_id=request.GET.get("fault_type"),
        product_model_id=request.GET.get("product_model"),
        phone=request.GET.get("phone", ""),
        identifier=request.GET.get("device_identifier", ""),
    )
    return render(request, "workorders/partials/_customer_estimate.html", {"price": price})


def _send_code(phone_form: SmsCodeRequestForm) -> tuple[bool, str, int]:
    if not phone_form.is_valid():
        return False, " ".join(str(m) for m in phone_form.errors.get("phone", [])), 400
    try:
        sms_code_request(phone=phone_form.cleaned_data["phone"])
    except DomainError as exc:
        return False, str(exc), exc.status_code
    return True, "", 200


@require_POST
def report_code(request: HttpRequest, org_code: str) -> HttpResponse:
    """发送验证码 for the report form (a fragment for htmx, the whole form without JS)."""
    organization = _reporting_organization(org_code)
    sent, error, status = _send_code(SmsCodeRequestForm(request.POST))
    if _is_htmx(request):
        return render(
            request,
            "accounts/partials/_sms_code_status.html",
            {"sent": sent, "error": error},
            status=status,
        )
    form = IntakeForm(
        organization=organization, initial=_intake_initial(request, request.POST.dict())
    )
    return _render_intake(
        request, organization, form, status=status, sms_sent=sent, sms_error=error
    )


@never_cache
@require_GET
def report_done(request: HttpRequest, org_code: str, token: str) -> HttpResponse:
    """报修成功: the number at once, the tracking link, and the SMS note."""
    order = workorder_get_by_token(token=token)
    if order.organization.code != org_code:
        raise Http404
    context = {
        "order": order,
        "tracking_url": request.build_absolute_uri(
            reverse("wo_customer:track", args=[order.tracking_token])
        ),
        "masked_phone": mask_phone(order.customer.phone),
        "price": order_price(order),
        "status_label": CUSTOMER_LABELS[order.status],
    }
    return render(request, "workorders/customer/report_done.html", context)


# --- the timeline in the customer's words ----------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    text: str
    is_current: bool = False


def format_window(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """``11月23日 14:00–16:00`` (``November 23 14:00–16:00`` in English)."""
    if start is None:
        return ""
    start = timezone.localtime(start)
    text = f"{date_format(start, 'MONTH_DAY_FORMAT')} {start:%H:%M}"
    if end is None:
        return text
    end = timezone.localtime(end)
    if end.date() != start.date():
        return f"{text} – {date_format(end, 'MONTH_DAY_FORMAT')} {end:%H:%M}"
    return f"{text}–{end:%H:%M}"


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _window_of(data: dict[str, Any]) -> str:
    start = _parse(data.get("start")) or _parse(data.get("preferred_start"))
    end = _parse(data.get("end")) or _parse(data.get("preferred_end"))
    return format_window(start, end)


def _status_sentence(event: WorkOrderEvent, order: WorkOrder) -> str | None:
    outcome = (event.data or {}).get("outcome")
    if outcome == VisitOutcome.CUSTOMER_ABSENT:
        return _("The engineer could not reach you; we will book a new time.")
    if outcome == VisitOutcome.NEEDS_REVISIT:
        return _("Another visit is needed; we will book a new time.")
    if event.to_status == S.ACCEPTED:
        return _("Your request was accepted.")
    if event.to_status:
        return _("Status: %(status)s") % {"status": CUSTOMER_LABELS[event.to_status]}
    return None


def _sentence(event: WorkOrderEvent, order: WorkOrder) -> str | None:
    """One event in plain words, or None for what the customer need not see."""
    data = event.data or {}
    on_site = order.fulfilment_mode == FulfilmentMode.ON_SITE
    by_customer = event.actor_role == "customer"
    kind = event.type
    if kind == EventType.CREATED:
        return _("We received your request.")
    if kind == EventType.STATUS_CHANGED:
        return _status_sentence(event, order)
    if kind == EventType.OUTLET_ASSIGNED:
        return _("Service outlet: %(outlet)s") % {"outlet": data.get("outlet", "")}
    if kind == EventType.TECHNICIAN_ASSIGNED:
        return _("Engineer %(name)s has been assigned to you.") % {
            "name": data.get("technician", "")
        }
    if kind == EventType.ASSIGNMENT_ACCEPTED:
        return _("Engineer %(name)s took your order.") % {"name": data.get("technician", "")}
    if kind == EventType.ASSIGNMENT_DECLINED:
        return _("We are finding another engineer for you.")
    if kind in (EventType.APPOINTMENT_CONFIRMED, EventType.APPOINTMENT_PROPOSED):
        window = _window_of(data)
        if on_site:
            return _("Engineer visit booked: %(window)s") % {"window": window}
        return _("Drop-off time booked: %(window)s") % {"window": window}
    if kind == EventType.APPOINTMENT_CHANGED:
        return _("Time changed to %(window)s") % {"window": _window_of(data)}
    if kind == EventType.EN_ROUTE:
        return _("The engineer is on the way.")
    if kind == EventType.CHECKED_IN:
        return _("The engineer has arrived and started the repair.")
    if kind == EventType.DEVICE_RECEIVED:
        return _("The outlet received your device; the repair has started.")
    if kind == EventType.DIAGNOSED:
        return _("Diagnosis: %(text)s") % {"text": event.reason}
    if kind == EventType.WORK_REPORTED:
        return _("Work done: %(text)s") % {"text": event.reason}
    if kind == EventType.READY_FOR_PICKUP:
        return _("Repaired: ready to collect.")
    if kind == EventType.HANDED_OVER:
        return _("You collected your device.")
    if kind == EventType.ATTACHMENT_ADDED:
        if data.get("kind") == AttachmentKind.RATING_PHOTO:
            return None
        return _("Photos were added.")
    if kind == EventType.SIGNED:
        return _("You signed to confirm the work.")
    if kind == EventType.HELD:
        return _("Waiting: %(reason)s") % {"reason": event.reason}
    if kind == EventType.RESUMED:
        return _("The work goes on.")
    if kind == EventType.CANCELLED:
        if by_customer:
            return _("You cancelled the order: %(reason)s") % {"reason": event.reason}
        return _("The order was cancelled: %(reason)s") % {"reason": event.reason}
    if kind == EventType.COMPLETED:
        return _("Repair completed.")
    if kind == EventType.COMPLETION_CONFIRMED:
        return _("You confirmed the service is complete.")
    if kind == EventType.COMPLETION_REJECTED:
        return _("You told us it is not fixed yet: %(reason)s") % {"reason": event.reason}
    if kind == EventType.URGED:
        return _("You sent a reminder.")
    if kind == EventType.RATED:
        return _("You rated the service %(average)s of 5.") % {"average": data.get("average")}
    return None  # internal notes, triage and anything new stay with staff


def customer_timeline(order: WorkOrder, events: list[WorkOrderEvent]) -> list[TimelineEntry]:
    """Non-internal events as sentences, newest first; repeated photo uploads shown once."""
    entries: list[TimelineEntry] = []
    previous = ""
    for event in events:
        if event.is_internal:
            continue
        text = _sentence(event, order)
        if not text or (text == previous and event.type == EventType.ATTACHMENT_ADDED):
            continue
        previous = text
        entries.append(TimelineEntry(at=event.created_at, text=text))
    entries.reverse()
    if entries:
        entries[0] = TimelineEntry(at=entries[0].at, text=entries[0].text, is_current=True)
    return entries


# --- the order page --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentView:
    url: str
    thumb_url: str
    is_image: bool
    label: str


@dataclass
class ActionResult:
    """What an action did: a message, and the bound form to show again when it failed."""

    ok: bool
    message: str = ""
    status: int = 200
    forms: dict[str, forms.Form] = field(default_factory=dict)


def _attachment_views(
    order: WorkOrder, attachments: list[Attachment], query: str
) -> dict[str, list[AttachmentView]]:
    groups: dict[str, list[AttachmentView]] = {"fault": [], "before": [], "after": [], "rating": []}
    group_of = {
        AttachmentKind.FAULT_PHOTO: "fault",
        AttachmentKind.FAULT_VIDEO: "fault",
        AttachmentKind.BEFORE_PHOTO: "before",
        AttachmentKind.AFTER_PHOTO: "after",
        AttachmentKind.RATING_PHOTO: "rating",
    }
    for attachment in attachments:
        group = group_of.get(attachment.kind)  # type: ignore[call-overload]
        if group is None:
            continue
        url = reverse("wo_customer:attachment", args=[attachment.token]) + query
        thumb = (
            reverse("wo_customer:attachment-thumb", args=[attachment.token]) + query
            if attachment.thumbnail
            else ""
        )
        groups[group].append(
            AttachmentView(
                url=url,
                thumb_url=thumb,
                is_image=attachment.is_image,
                label=str(attachment.get_kind_display()),
            )
        )
    return groups


def _rating_rows(rating: Rating | None) -> list[tuple[Any, int]]:
    if rating is None:
        return []
    return [(label, int(getattr(rating, name))) for name, label in RATING_DIMENSIONS]


def _order_urls(order: WorkOrder, *, via_token: bool) -> dict[str, str]:
    if via_token:
        base = reverse("wo_customer:track", args=[order.tracking_token])
    else:
        base = reverse("wo_customer:my-order", args=[order.number])
    urls = {name: f"{base}{name}/" for name in _ACTIONS}
    urls.update(page=base, code=f"{base}code/", verify=f"{base}verify/")
    return urls


def order_context(
    request: HttpRequest,
    order: WorkOrder,
    *,
    via_token: bool,
    result: ActionResult | None = None,
) -> dict[str, Any]:
    """Everything the order page shows; the same for /t/<token>/ and /my/orders/<number>/."""
    is_customer = CUSTOMER in relations(request.user, order)
    events = list(events_for_customer(order))
    attachments = list(order.attachments.all())
    rating = Rating.objects.filter(work_order=order).first()
    bound = result.forms if result is not None else {}
    status = order.status
    can_change = is_customer
    technician = order.technician
    query = f"?t={order.tracking_token}" if via_token else ""
    # The time matters until the work starts (or while the order waits on hold).
    upcoming = status in CUSTOMER_CANCELLABLE or status == S.ON_HOLD
    window = format_window(order.appointment_start, order.appointment_end) if upcoming else ""
    # Imported here: dispatch.routes reads work orders (no module-level cycle between the apps).
    from shouhou.dispatch.routes import route_etas_for

    eta = route_etas_for(work_orders=[order]).get(order.pk) if upcoming else None
    preferred = format_window(order.preferred_start, order.preferred_end) if upcoming else ""
    return {
        "order": order,
        "via_token": via_token,
        "is_customer": is_customer,
        "status_label": CUSTOMER_LABELS[status],
        "status_colour": STATUS_COLOURS[status],
        "timeline": customer_timeline(order, events),
        "technician_name": str(technician) if technician is not None else "",
        "technician_phone": mask_phone(technician.user.phone) if technician is not None else "",
        "appointment": window,
        "eta": eta,
        "preferred": preferred,
        "on_site": order.fulfilment_mode == FulfilmentMode.ON_SITE,
        "price": order_price(order),
        "photos": _attachment_views(order, attachments, query),
        "rating": rating,
        "rating_rows": _rating_rows(rating),
        "masked_phone": mask_phone(order.customer.phone),
        "urls": _order_urls(order, via_token=via_token),
        "can_cancel": can_change and status in CUSTOMER_CANCELLABLE,
        "can_reschedule": can_change and status in CUSTOMER_CANCELLABLE,
        "can_urge": can_change and status in OPEN,
        "can_confirm": can_change and status == S.COMPLETED,
        "can_rate": can_change and status in (S.COMPLETED, S.CLOSED) and rating is None,
        "needs_identity": not is_customer
        and (status in OPEN or status == S.COMPLETED or (status == S.CLOSED and rating is None)),
        "cancel_form": bound.get("cancel") or CancelForm(),
        "reschedule_form": bound.get("reschedule") or RescheduleForm(),
        "reschedule_slots": (
            slots_by_day(available_slots(work_order=order))
            if can_change and status in CUSTOMER_CANCELLABLE
            else []
        ),
        "reject_form": bound.get("reject") or RejectCompletionForm(),
        "rating_form": bound.get("rate") or RatingForm(),
        "code_form": bound.get("verify") or CodeForm(),
        "notice": result.message if result is not None and result.ok else "",
        "error": result.message if result is not None and not result.ok else "",
    }


def _render_order(
    request: HttpRequest,
    order: WorkOrder,
    *,
    via_token: bool,
    result: ActionResult | None = None,
) -> HttpResponse:
    context = order_context(request, order, via_token=via_token, result=result)
    if _is_htmx(request):
        template = "workorders/partials/_customer_order.html"
    else:
        template = "workorders/customer/order_detail.html"
        stream = (
            reverse("wo_customer:track-stream", args=[order.tracking_token])
            if via_token
            else reverse("wo_customer:my-order-stream", args=[order.number])
        )
        context["live"] = live.page_context(
            last=live.customer_scope(order).latest_id(),
            stream=stream,
            refresh=context["urls"]["page"],
            target="#order",
        )
    return render(request, template, context, status=result.status if result else 200)


@never_cache
@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    """/t/<token>/: anyone with the link reads; changing needs the customer's identity."""
    order = workorder_get_by_token(token=token)
    return _render_order(request, order, via_token=True)


@never_cache
@login_required
@require_GET
def my_order(request: HttpRequest, number: str) -> HttpResponse:
    order = workorder_get_for_customer(user=request.user, number=number)
    return _render_order(request, order, via_token=False)


@never_cache
@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    """All the signed-in person's orders (any organisation), newest first."""
    orders = workorder_list_for_customer(user=request.user).order_by("-submitted_at", "-pk")
    rows = [
        (order, CUSTOMER_LABELS[order.status], STATUS_COLOURS[order.status])
        for order in orders[:MY_ORDERS_LIMIT]
    ]
    return render(request, "workorders/customer/order_list.html", {"rows": rows})


# --- actions ---------------------------------------------------------------------------------


def _cancel(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    form = CancelForm(request.POST)
    if not form.is_valid():
        return ActionResult(False, status=400, forms={"cancel": form})
    services.workorder_cancel(work_order=order, actor=actor, reason=form.reason_text())
    return ActionResult(True, _("Your order was cancelled."))


def _reschedule(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    """A free slot from the list (the outlet's bays, or an engineer's free window), or a
    date and two-hour window. An order holding an outlet bay always moves its booking."""
    raw_slot = request.POST.get("slot_start", "")
    if raw_slot:
        start = parse_slot_start(raw_slot)
        if start is None:
            return ActionResult(False, _("Choose one of the offered times."), status=400)
        updated = appointment_reschedule(work_order=order, start=start, actor=actor)
    else:
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            return ActionResult(False, status=400, forms={"reschedule": form})
        data = form.cleaned_data
        if order.fulfilment_mode != FulfilmentMode.ON_SITE and order.outlet_id is not None:
            updated = appointment_reschedule(work_order=order, start=data["start"], actor=actor)
        else:
            updated = services.workorder_reschedule(
                work_order=order, actor=actor, start=data["start"], end=data["end"]
            )
    if updated.status == S.SCHEDULED:
        start, end = updated.appointment_start, updated.appointment_end
    else:
        start, end = updated.preferred_start, updated.preferred_end
    return ActionResult(
        True,
        _("We asked for the new time: %(window)s.") % {"window": format_window(start, end)},
    )


def _urge(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    services.workorder_urge(work_order=order, actor=actor)
    return ActionResult(True, _("We have your reminder and will hurry up."))


def _confirm(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    services.workorder_confirm_completion(work_order=order, actor=actor)
    return ActionResult(True, _("Thank you for confirming. Your order is closed."))


def _reject(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    form = RejectCompletionForm(request.POST)
    if not form.is_valid():
        return ActionResult(False, status=400, forms={"reject": form})
    services.workorder_reject_completion(
        work_order=order, actor=actor, reason=form.cleaned_data["reason"]
    )
    return ActionResult(True, _("Sorry it is not fixed yet. The engineer will continue."))


def _rate(request: HttpRequest, order: WorkOrder, actor: Actor) -> ActionResult:
    form = RatingForm(request.POST, request.FILES)
    if not form.is_valid():
        return ActionResult(False, status=400, forms={"rate": form})
    data = form.cleaned_data
    try:
        rating_submit(
            work_order=order,
            actor=actor,
            attitude=data["attitude"],
            professionalism=data["professionalism"],
            responsiveness=data["responsiveness"],
            transparency=data["transparency"],
            comment=data["comment"],
            photos=data["photos"],
        )
    except AttachmentRejected as exc:
        form.add_error("photos", str(exc))
        return ActionResult(False, status=400, forms={"rate": form})
    return ActionResult(True, _("Thank you for your rating!"))


_ACTIONS: dict[str, Callable[[HttpRequest, WorkOrder, Actor], ActionResult]] = {
    "cancel": _cancel,
    "reschedule": _reschedule,
    "urge": _urge,
    "confirm": _confirm,
    "reject": _reject,
    "rate": _rate,
}


def _run_action(
    request: HttpRequest, order: WorkOrder, action: str, *, via_token: bool
) -> HttpResponse:
    handler = _ACTIONS.get(action)
    if handler is None:
        raise Http404
    if CUSTOMER not in relations(request.user, order):
        result = ActionResult(
            False, _("Confirm it is you first: we send a code to the order's phone."), status=403
        )
        return _render_order(request, order, via_token=via_token, result=result)
    actor = Actor(user=_signed_in(request), role="customer")
    try:
        result = handler(request, order, actor)
    except DomainError as exc:
        result = ActionResult(False, str(exc), status=exc.status_code)
    fresh = (
        workorder_get_by_token(token=order.tracking_token)
        if via_token
        else workorder_get_for_customer(user=request.user, number=order.number)
    )
    if result.ok and not _is_htmx(request):
        messages.success(request, result.message)
        return redirect(_order_urls(fresh, via_token=via_token)["page"])
    return _render_order(request, fresh, via_token=via_token, result=result)


@require_POST
def track_action(request: HttpRequest, token: str, action: str) -> HttpResponse:
    order = workorder_get_by_token(token=token)
    return _run_action(request, order, action, via_token=True)


@login_required
@require_POST
def my_order_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    order = workorder_get_for_customer(user=request.user, number=number)
    return _run_action(request, order, action, via_token=False)


@require_POST
def track_code(request: HttpRequest, token: str) -> HttpResponse:
    """Send a code to the order's phone, so whoever holds the phone may act on the order."""
    order = workorder_get_by_token(token=token)
    try:
        sms_code_request(phone=order.customer.phone)
        sent, error, status = True, "", 200
    except DomainError as exc:
        sent, error, status = False, str(exc), exc.status_code
    if _is_htmx(request):
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
    return redirect("wo_customer:track", token=order.tracking_token)


@require_POST
def track_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Check the code sent to the order's phone and sign that person in as the customer."""
    order = workorder_get_by_token(token=token)
    form = CodeForm(request.POST)
    if not form.is_valid():
        result = ActionResult(False, status=400, forms={"verify": form})
        return _render_order(request, order, via_token=True, result=result)
    customer = order.customer
    try:
        sms_code_verify(phone=customer.phone, code=form.cleaned_data["code"].strip())
    except DomainError as exc:
        form.add_error("code", str(exc))
        result = ActionResult(False, status=400, forms={"verify": form})
        return _render_order(request, order, via_token=True, result=result)
    with transaction.atomic():
        user = user_get_or_create_by_phone(phone=customer.phone, display_name=customer.name)
        services.customer_get_or_create(
            organization=order.organization, phone=customer.phone, name=customer.name, user=user
        )
    if not user.is_active:
        raise Http404
    login(request, user, backend=SMS_BACKEND)
    messages.success(request, _("Thank you. You can now change this order."))
    return redirect("wo_customer:track", token=order.tracking_token)


# --- files -----------------------------------------------------------------------------------


def _attachment_for(request: HttpRequest, token: str) -> Attachment:
    """The attachment, if the request holds the order's tracking link or relates to the
    order (its customer, its technician, its staff); 404 for everyone else."""
    attachment = (
        Attachment.objects.select_related("work_order__customer", "work_order__technician")
        .filter(token=token)
        .first()
    )
    if attachment is None:
        raise Http404
    order = attachment.work_order
    link = request.GET.get("t", "")
    if link and secrets.compare_digest(link, order.tracking_token):
        return attachment
    if relations(request.user, order):
        return attachment
    raise Http404


def _file_response(file: Any, content_type: str) -> FileResponse:
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response


@require_GET
def attachment_file(request: HttpRequest, token: str) -> FileResponse:
    attachment = _attachment_for(request, token)
    return _file_response(attachment.file, attachment.content_type)


@require_GET
def attachment_thumbnail(request: HttpRequest, token: str) -> FileResponse:
    attachment = _attachment_for(request, token)
    if not attachment.thumbnail:
        raise Http404
    return _file_response(attachment.thumbnail, "image/jpeg")
