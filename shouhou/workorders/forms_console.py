"""Forms of the staff console's work-order pages: they parse input, the services decide.

Every choice (outlet, technician, fault type, catalog row, a customer's address) is limited to
what the active organisation may use, so a guessed id of another organisation is a form error,
never a write.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Outlet
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.core.phone import normalize_phone
from shouhou.customers.models import Address, Asset, Customer
from shouhou.dispatch.models import Technician
from shouhou.workorders.choices import Channel, FulfilmentMode, Priority, WorkOrderStatus
from shouhou.workorders.forms_customer import parse_slot_start

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class NameChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Shows ``name`` only (a category's ``__str__`` walks its parents: one query each)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def outlets_for(organization_ids: set[int]) -> QuerySet[Outlet]:
    return Outlet.objects.filter(organization_id__in=organization_ids, is_active=True).order_by(
        "name", "pk"
    )


def technicians_for(organization_ids: set[int]) -> QuerySet[Technician]:
    return (
        Technician.objects.filter(organization_id__in=organization_ids, is_active=True)
        .select_related("user", "outlet")
        .order_by("pk")
    )


def fault_types_for(organization_id: int) -> QuerySet[FaultType]:
    return FaultType.objects.filter(organization_id=organization_id, is_active=True).order_by(
        "name", "pk"
    )


# --- the queue -------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    """The queue's filters (a GET form). Invalid values are reported and ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, name, phone, serial")}
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    outlet = forms.ModelChoiceField(
        label=_("Outlet"), queryset=Outlet.objects.none(), required=False
    )
    technician = forms.ModelChoiceField(
        label=_("Technician"), queryset=Technician.objects.none(), required=False
    )
    fault_type = forms.ModelChoiceField(
        label=_("Fault type"), queryset=FaultType.objects.none(), required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)

    def __init__(
        self, *args: Any, organization_id: int, network_ids: set[int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["status"].choices = [
            ("", _("All statuses")),
            ("open", _("Open (not finished)")),
            *WorkOrderStatus.choices,
        ]
        fields["priority"].choices = [("", _("All priorities")), *Priority.choices]
        fields["channel"].choices = [("", _("All channels")), *Channel.choices]
        fields["outlet"].queryset = outlets_for(network_ids)
        fields["outlet"].empty_label = _("All outlets")
        fields["technician"].queryset = technicians_for(network_ids)
        fields["technician"].empty_label = _("All technicians")
        fields["fault_type"].queryset = fault_types_for(organization_id)
        fields["fault_type"].empty_label = _("All fault types")

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.queue_filter`` from the valid fields."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        outlet, technician, fault_type = (
            data.get("outlet"),
            data.get("technician"),
            data.get("fault_type"),
        )
        return {
            "status": data.get("status") or "",
            "priority": data.get("priority") or "",
            "overdue": bool(data.get("overdue")),
            "outlet": outlet.pk if outlet else None,
            "technician": technician.pk if technician else None,
            "fault_type": fault_type.pk if fault_type else None,
            "channel": data.get("channel") or "",
            "text": (data.get("q") or "").strip(),
        }


# --- intake from a phone call ----------------------------------------------------------------

_LATITUDE = [MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))]
_LONGITUDE = [MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))]


class WorkOrderCreateForm(forms.Form):
    """An agent takes a phone call: who, where, what, and how it will be served.

    A caller already known by phone number in this organisation is offered their addresses
    and devices (``existing_address`` / ``asset`` are checked to be theirs).
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    customer_name = forms.CharField(label=_("Customer name"), max_length=64)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    existing_address = forms.IntegerField(required=False, widget=forms.HiddenInput)
    asset = forms.IntegerField(required=False, widget=forms.HiddenInput)
    province = forms.CharField(label=_("Province"), max_length=32, required=False)
    city = forms.CharField(label=_("City"), max_length=32, required=False)
    district = forms.CharField(label=_("District"), max_length=32, required=False)
    street = forms.CharField(label=_("Street address"), max_length=255, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False, validators=_LATITUDE
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        max_digits=9,
        decimal_places=6,
        required=False,
        validators=_LONGITUDE,
    )
    category = NameChoiceField(
        label=_("Category"), queryset=ProductCategory.objects.none(), required=False
    )
    brand = NameChoiceField(label=_("Brand"), queryset=Brand.objects.none(), required=False)
    product_model = forms.ModelChoiceField(
        label=_("Model"), queryset=ProductModel.objects.none(), required=False
    )
    device_identifier = forms.CharField(
        label=_("Serial / IMEI / VIN"), max_length=64, required=False
    )
    service_type = NameChoiceField(label=_("Service type"), queryset=ServiceType.objects.none())
    fault_type = NameChoiceField(
        label=_("Fault type"), queryset=FaultType.objects.none(), required=False
    )
    description = forms.CharField(
        label=_("Fault description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    fulfilment_mode = forms.ChoiceField(
        label=_("Fulfilment"), choices=FulfilmentMode.choices, initial=FulfilmentMode.ON_SITE
    )
    outlet = forms.ModelChoiceField(
        label=_("Outlet"), queryset=Outlet.objects.none(), required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    preferred_start = forms.DateTimeField(
        label=_("Preferred from"), required=False, widget=DATETIME_WIDGET
    )
    preferred_end = forms.DateTimeField(
        label=_("Preferred until"), required=False, widget=DATETIME_WIDGET
    )

    def __init__(
        self, *args: Any, organization_id: int, network_ids: set[int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id
        own = {"organization_id": organization_id, "is_active": True}
        fields: dict[str, Any] = self.fields
        fields["category"].queryset = ProductCategory.objects.filter(**own).order_by("name")
        fields["brand"].queryset = Brand.objects.filter(**own).order_by("name")
        fields["product_model"].queryset = (
            ProductModel.objects.filter(**own).select_related("brand").order_by("brand__name")
        )
        fields["service_type"].queryset = ServiceType.objects.filter(**own).order_by("name")
        fields["fault_type"].queryset = fault_types_for(organization_id)
        fields["outlet"].queryset = outlets_for(network_ids)
        # A known caller's addresses and devices appear under the number as it is typed.
        fields["phone"].widget.attrs.update(
            {
                "hx-get": reverse("wo_console:caller-lookup"),
                "hx-trigger": "change, keyup changed delay:600ms",
                "hx-target": "#caller",
                "hx-swap": "outerHTML",
            }
        )
        self.known_customer: Customer | None = None

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        phone = cleaned.get("phone")
        if phone:
            self.known_customer = Customer.objects.filter(
                organization_id=self.organization_id, phone=phone
            ).first()
        address = self._resolve(Address, cleaned.get("existing_address"), "existing_address")
        cleaned["address_row"] = address
        cleaned["asset_row"] = self._resolve(Asset, cleaned.get("asset"), "asset")
        if address is None and cleaned.get("street") and not cleaned.get("city"):
            self.add_error("city", _("Give the city of the address."))
        if (
            cleaned.get("street")
            and not address
            and (cleaned.get("latitude") is None) != (cleaned.get("longitude") is None)
        ):
            self.add_error("longitude", _("Give both coordinates or neither."))
        if (
            cleaned.get("fulfilment_mode") == FulfilmentMode.ON_SITE
            and address is None
            and not cleaned.get("street")
        ):
            self.add_error("street", _("On-site service needs an address."))
        start, end = cleaned.get("preferred_start"), cleaned.get("preferred_end")
        if start and end and end <= start:
            self.add_error("preferred_end", _("The preferred time must end after it starts."))
        return cleaned

    def _resolve(self, model: Any, pk: int | None, field: str) -> Any:
        """The caller's own address or device with this id (anything else is an error)."""
        if not pk:
            return None
        row = None
        if self.known_customer is not None:
            row = model.objects.filter(pk=pk, customer=self.known_customer).first()
        if row is None:
            self.add_error(None, _("Choose one of this customer's addresses and devices."))
        return row


# --- actions on one order --------------------------------------------------------------------


class TriageForm(forms.Form):
    """Fault type and priority (also used to accept an order)."""

    fault_type = NameChoiceField(
        label=_("Fault type"), queryset=FaultType.objects.none(), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), required=False)

    def __init__(self, *args: Any, fault_types: QuerySet[FaultType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["fault_type"].queryset = fault_types
        fields["fault_type"].empty_label = _("(unchanged)")
        fields["priority"].choices = [("", _("(unchanged)")), *Priority.choices]


class AssignOutletForm(forms.Form):
    outlet = forms.ModelChoiceField(label=_("Outlet"), queryset=Outlet.objects.none())

    def __init__(self, *args: Any, outlets: QuerySet[Outlet], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class AssignTechnicianForm(forms.Form):
    technician = forms.ModelChoiceField(label=_("Technician"), queryset=Technician.objects.none())

    def __init__(self, *args: Any, technicians: QuerySet[Technician], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = technicians  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScheduleForm(forms.Form):
    """A free slot from the list (outlet bay or engineer window), or a time typed in."""

    # The radios of the free slots are drawn by the template; the hidden widget is not rendered.
    slot_start = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    start = forms.DateTimeField(label=_("Appointment from"), widget=DATETIME_WIDGET, required=False)
    end = forms.DateTimeField(label=_("Appointment until"), widget=DATETIME_WIDGET, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("slot_start"):
            slot = parse_slot_start(cleaned["slot_start"])
            if slot is None:
                self.add_error("slot_start", _("Choose one of the offered times."))
            cleaned["slot_start"] = slot
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Choose a free time or type one in."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("This field is required."))
        if start and end and end <= start:
            self.add_error("end", _("The appointment must end after it starts."))
        return cleaned


class ReportForm(forms.Form):
    """Carry-in: what the outlet found and what it repaired (the service wants one of them)."""

    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    work_done = forms.CharField(
        label=_("Work done"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReadyForm(forms.Form):
    note = forms.CharField(label=_("Work done"), max_length=500, required=False)


class EmptyForm(forms.Form):
    """Actions without input (resume, receive, hand over)."""


class FollowUpResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
