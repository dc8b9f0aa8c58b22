"""Forms of the technician's workbench: they parse input, the services decide.

Business rules (a reason is required, the appointment must end after it starts, "fixed" needs
a signature) live in ``workorders.services``; these forms only turn posted text into typed
values, so every refusal a person sees comes from one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhou.workorders.choices import AttachmentKind, VisitOutcome

_SIX_PLACES = Decimal("0.000001")


class CoordinateField(forms.CharField):
    """A latitude or longitude from the browser's geolocation, rounded to 6 places.

    Blank is allowed: the technician may refuse to share the location.
    """

    widget = forms.HiddenInput

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = str(value or "").strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(_("The location could not be read.")) from None
        if not number.is_finite() or abs(number) > self.limit:
            raise forms.ValidationError(_("The location could not be read."))
        return number.quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)


class LocationForm(forms.Form):
    latitude = CoordinateField(limit=90, label=_("Latitude"))
    longitude = CoordinateField(limit=180, label=_("Longitude"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Half a position is no position.
        if cleaned.get("latitude") is None or cleaned.get("longitude") is None:
            cleaned["latitude"] = cleaned["longitude"] = None
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can't you take this job?"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"required": True, "autocomplete": "off"}),
    )


class ScheduleForm(forms.Form):
    """A date and a start and end time, in the site's time zone."""

    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    start_time = forms.TimeField(
        label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, start, end = cleaned.get("date"), cleaned.get("start_time"), cleaned.get("end_time")
        if day is not None and start is not None and end is not None:
            zone = timezone.get_current_timezone()
            cleaned["start"] = timezone.make_aware(dt.datetime.combine(day, start), zone)
            cleaned["end"] = timezone.make_aware(dt.datetime.combine(day, end), zone)
        return cleaned


class ReportForm(forms.Form):
    diagnosis = forms.CharField(
        label=_("Diagnosis"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )
    work_done = forms.CharField(
        label=_("Work done"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )


class PhotoForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Photo"),
        choices=[
            (AttachmentKind.BEFORE_PHOTO, AttachmentKind.BEFORE_PHOTO.label),
            (AttachmentKind.AFTER_PHOTO, AttachmentKind.AFTER_PHOTO.label),
        ],
    )
    # Checked by content in the service; the browser's name and type are not trusted.
    file = forms.FileField(
        label=_("Photo"),
        error_messages={"required": _("Take or choose a photo first.")},
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class SignatureForm(forms.Form):
    # A PNG data URL written by technician.js (a phone-sized drawing is well under 1 MB; the
    # request body limit, DATA_UPLOAD_MAX_MEMORY_SIZE, is 2.5 MB).
    signature = forms.CharField(required=False, max_length=2_500_000, widget=forms.HiddenInput)


class CompleteForm(LocationForm):
    outcome = forms.ChoiceField(
        label=_("How did the visit end?"),
        choices=VisitOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the visit ended.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea({"rows": 2}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 2, "required": True}),
    )


class ReadyForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=500,
        widget=forms.TextInput,
    )
