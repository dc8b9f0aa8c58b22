"""Forms of the customer's pages: report a fault, change or cancel an order, rate the service.

They parse and check input in plain words next to each field; the services decide. Every
choice (category, model, fault type, outlet) is limited to the reporting organisation, so a
guessed id of another organisation is a form error, never a write.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.forms import PhoneField
from shouhou.accounts.models import Organization, Outlet
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.dispatch.slots import OUTLET_SLOT_MINUTES
from shouhou.workorders.choices import FulfilmentMode
from shouhou.workorders.services import MAX_INTAKE_ATTACHMENTS, serving_organization_ids

# Two-hour windows, as appliance brands offer them (预约上门时间 11月23日 14:00–16:00).
TIME_SLOTS: Final[list[tuple[str, str]]] = [
    ("08", "08:00–10:00"),
    ("10", "10:00–12:00"),
    ("12", "12:00–14:00"),
    ("14", "14:00–16:00"),
    ("16", "16:00–18:00"),
    ("18", "18:00–20:00"),
]
SLOT_HOURS: Final = 2
BOOKING_HORIZON_DAYS: Final = 60
_KEY = re.compile(r"^[0-9a-f]{32}$")


def window_from(day: dt.date, slot: str) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end of a two-hour slot on ``day`` (in the site's time zone)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(int(slot))))
    return start, start + dt.timedelta(hours=SLOT_HOURS)


def parse_slot_start(value: str) -> dt.datetime | None:
    """An aware datetime from the slot picker's ISO value, or None."""
    try:
        start = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    return start


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (``<input type=file multiple>``); cleaned to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,video/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:  # type: ignore[override]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class NameChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class CategoryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.path)


class OutletChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.city}{obj.district}{obj.address}"


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def category_family_ids(category: ProductCategory) -> set[int]:
    """The category, its ancestors (a fault of 空调 fits 挂式空调) and its descendants."""
    ids = category.descendant_ids()
    node = category.parent
    while node is not None and node.pk not in ids:
        ids.add(node.pk)
        node = node.parent
    return ids


def models_for(
    organization: Organization, *, category_id: int | None, brand_id: int | None
) -> QuerySet[ProductModel]:
    queryset = ProductModel.objects.filter(organization=organization, is_active=True)
    if category_id is not None:
        category = ProductCategory.objects.filter(organization=organization, pk=category_id).first()
        if category is not None:
            queryset = queryset.filter(category_id__in=category.descendant_ids())
    if brand_id is not None:
        queryset = queryset.filter(brand_id=brand_id)
    return queryset.select_related("brand").order_by("brand__name", "name", "pk")


def fault_types_for(
    organization: Organization, *, category_id: int | None, product_model_id: int | None
) -> QuerySet[FaultType]:
    queryset = FaultType.objects.filter(organization=organization, is_active=True)
    if category_id is None and product_model_id is not None:
        category_id = (
            ProductModel.objects.filter(organization=organization, pk=product_model_id)
            .values_list("category_id", flat=True)
            .first()
        )
    if category_id is not None:
        category = (
            ProductCategory.objects.filter(organization=organization, pk=category_id)
            .select_related("parent__parent")
            .first()
        )
        if category is not None:
            queryset = queryset.filter(category_id__in=category_family_ids(category))
    return queryset.order_by("name", "pk")


def outlets_for(organization: Organization) -> QuerySet[Outlet]:
    """Active outlets of the organisation's network (carry-in)."""
    return Outlet.objects.filter(
        organization_id__in=serving_organization_ids(organization), is_active=True
    ).order_by("city", "name", "pk")


def _coordinates(latitude: Any, longitude: Any) -> tuple[Decimal | None, Decimal | None]:
    """Both coordinates rounded to 6 places, or neither."""
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lng = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None, None
    if not (lat.is_finite() and lng.is_finite() and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None, None
    return lat, lng


class WindowForm(forms.Form):
    """A date and a two-hour slot, in the future and within the booking horizon."""

    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Choose a date."), "invalid": _("Choose a date.")},
    )
    slot = forms.ChoiceField(
        label=_("Time"),
        choices=[("", "—"), *TIME_SLOTS],
        error_messages={"required": _("Choose a time."), "invalid_choice": _("Choose a time.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date"].widget.attrs.update(
            {
                "min": today.isoformat(),
                "max": (today + dt.timedelta(days=BOOKING_HORIZON_DAYS)).isoformat(),
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, slot = cleaned.get("date"), cleaned.get("slot")
        if day is None or not slot:
            return cleaned
        start, end = window_from(day, slot)
        if start <= timezone.now():
            self.add_error("slot", _("This time has passed. Choose a later time."))
        elif day > timezone.localdate() + dt.timedelta(days=BOOKING_HORIZON_DAYS):
            self.add_error("date", _("Choose a date within the next 60 days."))
        else:
            cleaned["start"], cleaned["end"] = start, end
        return cleaned


class IntakeForm(WindowForm):
    """报修: what is broken, what is needed, where and when, and who to contact."""

    category = CategoryChoiceField(
        label=_("Product category"),
        queryset=ProductCategory.objects.none(),
        required=False,
        empty_label=_("Choose…"),
    )
    brand = NameChoiceField(
        label=_("Brand"), queryset=Brand.objects.none(), required=False, empty_label=_("Choose…")
    )
    product_model = forms.ModelChoiceField(
        label=_("Model"),
        queryset=ProductModel.objects.none(),
        required=False,
        empty_label=_("Choose…"),
        error_messages={"invalid_choice": _("This model is not in the chosen category or brand.")},
    )
    device_identifier = forms.CharField(
        label=_("Serial number, IMEI or VIN"),
        max_length=64,
        required=False,
        help_text=_("Not sure of the model? Type the number on the label instead."),
    )
    service_type = NameChoiceField(
        label=_("What do you need?"),
        queryset=ServiceType.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choose the service you need.")},
    )
    fault_type = NameChoiceField(
        label=_("Type of fault"),
        queryset=FaultType.objects.none(),
        required=False,
        empty_label=_("Not sure"),
        help_text=_("Optional. It lets us show you the expected price."),
        error_messages={"invalid_choice": _("This fault does not fit the chosen product.")},
    )
    description = forms.CharField(
        label=_("Describe the fault"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe the fault in a few words.")},
    )
    photos = MultipleFileField(
        label=_("Photos or a video"),
        required=False,
        help_text=_("Up to 9 photos or one short video."),
    )
    fulfilment_mode = forms.ChoiceField(
        label=_("How should we serve you?"),
        choices=[
            (FulfilmentMode.ON_SITE, _("An engineer comes to me")),
            (FulfilmentMode.CARRY_IN, _("I bring it to a service outlet")),
        ],
        widget=forms.RadioSelect,
        initial=FulfilmentMode.ON_SITE,
        error_messages={"required": _("Choose how we should serve you.")},
    )
    province = forms.CharField(label=_("Province"), max_length=32, required=False)
    city = forms.CharField(label=_("City"), max_length=32, required=False)
    district = forms.CharField(label=_("District"), max_length=32, required=False)
    street = forms.CharField(
        label=_("Street address"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    # Filled by the browser (使用当前位置); a value we cannot use is dropped, never an error
    # the person could not see or fix.
    latitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    outlet = OutletChoiceField(
        label=_("Service outlet"),
        queryset=Outlet.objects.none(),
        required=False,
        empty_label=_("Choose…"),
    )
    # The outlet appointment (到店时间) picked from the outlet's free slots (ISO start time).
    slot_start = forms.CharField(required=False, max_length=40)
    name = forms.CharField(
        label=_("Your name"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us your name.")},
    )
    phone = PhoneField()
    code = forms.RegexField(
        label=_("Verification code"),
        regex=r"^\s*\d{6}\s*$",
        required=False,
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        raw = self.data if self.is_bound else self.initial
        category_id, brand_id = _as_int(raw.get("category")), _as_int(raw.get("brand"))
        model_id = _as_int(raw.get("product_model"))
        fields = self.fields
        fields["category"].queryset = (  # type: ignore[attr-defined]
            ProductCategory.objects.filter(organization=organization, is_active=True)
            .select_related("parent__parent")
            .order_by("sort_order", "name", "pk")
        )
        fields["brand"].queryset = Brand.objects.filter(  # type: ignore[attr-defined]
            organization=organization, is_active=True
        ).order_by("name", "pk")
        fields["product_model"].queryset = models_for(  # type: ignore[attr-defined]
            organization, category_id=category_id, brand_id=brand_id
        )
        fields["service_type"].queryset = ServiceType.objects.filter(  # type: ignore[attr-defined]
            organization=organization, is_active=True
        ).order_by("kind", "name", "pk")
        fields["fault_type"].queryset = fault_types_for(  # type: ignore[attr-defined]
            organization, category_id=category_id, product_model_id=model_id
        )
        fields["outlet"].queryset = outlets_for(organization)  # type: ignore[attr-defined]
        if self.is_bound and self.data.get("fulfilment_mode") == FulfilmentMode.CARRY_IN:
            # A slot of the outlet (到店时间) replaces the date and two-hour window.
            fields["date"].required = fields["slot"].required = False
        service_types = list(fields["service_type"].queryset)  # type: ignore[attr-defined]
        if len(service_types) == 1 and not self.initial.get("service_type"):
            self.initial["service_type"] = service_types[0].pk

    def clean_idempotency_key(self) -> str:
        value = (self.cleaned_data.get("idempotency_key") or "").strip()
        if not _KEY.match(value):
            raise forms.ValidationError(_("This form has expired. Please reload the page."))
        # Keys of the web form live in their own namespace, apart from API clients' keys.
        return f"web:{value}"

    def clean_photos(self) -> list[UploadedFile]:
        photos: list[UploadedFile] = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_INTAKE_ATTACHMENTS:
            raise forms.ValidationError(_("Up to 9 photos or one short video."))
        return photos

    def clean_code(self) -> str:
        return str(self.cleaned_data.get("code") or "").strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        mode = cleaned.get("fulfilment_mode")
        if mode == FulfilmentMode.ON_SITE:
            if not (cleaned.get("city") or "").strip():
                self.add_error("city", _("Enter the city."))
            if not (cleaned.get("street") or "").strip():
                self.add_error("street", _("Enter the street and house number."))
        elif mode == FulfilmentMode.CARRY_IN and cleaned.get("outlet") is None:
            self.add_error("outlet", _("Choose the outlet you will bring it to."))
        elif mode == FulfilmentMode.CARRY_IN and cleaned.get("slot_start"):
            start = parse_slot_start(cleaned["slot_start"])
            if start is None:
                self.add_error("slot_start", _("Choose one of the offered times."))
            else:
                cleaned["start"] = start
                cleaned["end"] = start + dt.timedelta(minutes=OUTLET_SLOT_MINUTES)
        elif mode == FulfilmentMode.CARRY_IN and not cleaned.get("start"):
            self.add_error("slot_start", _("Choose when you will bring it in."))
        has_product = any(
            cleaned.get(name) for name in ("category", "product_model", "device_identifier")
        )
        no_field_errors = not any(
            name in self.errors for name in ("category", "product_model", "device_identifier")
        )
        if not has_product and no_field_errors:
            self.add_error(
                "category", _("Choose the product, or type its serial number, IMEI or VIN.")
            )
        cleaned["latitude"], cleaned["longitude"] = _coordinates(
            cleaned.get("latitude"), cleaned.get("longitude")
        )
        return cleaned


# --- actions on an order -----------------------------------------------------------------------

CANCEL_REASONS: Final = [
    ("not_needed", _("I don't need it any more")),
    ("fixed_myself", _("I fixed it myself")),
    ("bad_time", _("The time doesn't suit me")),
    ("other", _("Another reason")),
]


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you cancelling?"),
        choices=CANCEL_REASONS,
        widget=forms.RadioSelect,
        required=False,
    )
    details = forms.CharField(
        label=_("Anything to add?"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reason, details = cleaned.get("reason"), (cleaned.get("details") or "").strip()
        if not reason and not details and "reason" not in self.errors:
            self.add_error("reason", _("Tell us why you are cancelling."))
        elif reason == "other" and not details:
            self.add_error("details", _("Write the reason in a few words."))
        return cleaned

    def reason_text(self) -> str:
        """The chosen reason in words, followed by anything the customer added."""
        labels = {value: str(label) for value, label in CANCEL_REASONS}
        reason = self.cleaned_data.get("reason") or ""
        details = (self.cleaned_data.get("details") or "").strip()
        parts = [labels[reason]] if reason and reason != "other" else []
        if details:
            parts.append(details)
        return ": ".join(parts)


class RescheduleForm(WindowForm):
    pass


class RejectCompletionForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Tell us what is still wrong.")},
    )


STAR_CHOICES: Final = [(str(value), str(value)) for value in range(1, 6)]
RATING_DIMENSIONS: Final = [
    ("attitude", _("Service attitude")),
    ("professionalism", _("Professional skill")),
    ("responsiveness", _("Response speed")),
    ("transparency", _("Clear process and prices")),
]


class RatingForm(forms.Form):
    """服务评价: four dimensions of 1–5 stars, a comment and up to 9 photos."""

    attitude = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int)
    professionalism = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int)
    responsiveness = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int)
    transparency = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int)
    comment = forms.CharField(
        label=_("Tell us more (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleFileField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 9 photos."),
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in RATING_DIMENSIONS:
            field = self.fields[name]
            field.label = label
            field.error_messages["required"] = _("Choose 1 to 5 stars.")
            field.error_messages["invalid_choice"] = _("Choose 1 to 5 stars.")

    def clean_photos(self) -> list[UploadedFile]:
        photos: list[UploadedFile] = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_INTAKE_ATTACHMENTS:
            raise forms.ValidationError(_("Up to 9 photos."))
        return photos

    def dimensions(self) -> list[tuple[str, Any, forms.BoundField]]:
        return [(name, label, self[name]) for name, label in RATING_DIMENSIONS]


class CodeForm(forms.Form):
    """The 6-digit code sent to the customer's phone (to act on an order via its link)."""

    code = forms.RegexField(
        label=_("Verification code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={
            "invalid": _("The code has 6 digits."),
            "required": _("Enter the code we sent you."),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )
