from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import User
from shouhou.core.errors import DomainError
from shouhou.core.phone import normalize_phone


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "13800138000"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        try:
            return normalize_phone(value)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None


class PasswordLoginForm(forms.Form):
    phone = PhoneField()
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        phone, password = cleaned.get("phone"), cleaned.get("password")
        if phone and password:
            user = authenticate(self.request, phone=phone, password=password)
            if user is None:
                raise forms.ValidationError(
                    _("The mobile number or password is not correct."), code="invalid_login"
                )
            self.user = user  # type: ignore[assignment]
        return cleaned


class SmsCodeRequestForm(forms.Form):
    phone = PhoneField()


class SmsLoginForm(forms.Form):
    phone = PhoneField()
    code = forms.RegexField(
        label=_("Verification code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        phone, code = cleaned.get("phone"), cleaned.get("code")
        if phone and code:
            try:
                user = authenticate(self.request, phone=phone, sms_code=code.strip())
            except DomainError as error:
                raise forms.ValidationError(str(error)) from None
            if user is None:
                raise forms.ValidationError(_("This account is disabled."))
            self.user = user  # type: ignore[assignment]
        return cleaned
