"""Log in with a phone number and an SMS one-time code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from shouhou.accounts.models import User
from shouhou.accounts.services import sms_code_verify, user_get_or_create_by_phone


class SmsCodeBackend(BaseBackend):
    """``authenticate(request, phone=..., sms_code=...)``: verifies the code (raising
    ``DomainError`` with a readable reason on failure) and returns the user, creating a
    customer account on first login."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        phone: str | None = None,
        sms_code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if phone is None or sms_code is None:
            return None
        sms_code_verify(phone=phone, code=sms_code)
        user = user_get_or_create_by_phone(phone=phone)
        return user if user.is_active else None

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
