from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhou.core.errors import DomainError
from shouhou.webhooks import services
from shouhou.webhooks.choices import WebhookDeliveryState


class WebhookEndpointForm(forms.Form):
    """An endpoint's settings, as the console edits them (the service re-checks everything)."""

    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Must start with https://."),
        widget=forms.URLInput(attrs={"placeholder": "https://erp.example.com/hooks/shouhou"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose none to receive every event type."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = services.webhook_event_type_choices()  # type: ignore[attr-defined]

    def clean_url(self) -> str:
        try:
            return services.webhook_url_check(self.cleaned_data["url"])
        except DomainError as error:
            raise forms.ValidationError(str(error)) from error


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), *WebhookDeliveryState.choices],
    )
