"""Phone numbers: Chinese mobile numbers by default, international numbers in E.164.

Numbers are stored in E.164 (``+8613812345678``) so one person has one key whichever way
they typed it (``138 1234 5678``, ``+86 138-1234-5678``, ``008613812345678``).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-()（）]")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of ``raw`` or raise ``ValidationError`` with a plain message."""
    value = _SEPARATORS.sub("", str(raw or "")).replace("＋", "+")
    if value.startswith("00"):
        value = "+" + value[2:]
    if not value:
        raise ValidationError(_("Enter a mobile phone number."), code="required")
    if value.startswith("+86"):
        national = value[3:]
        if not _CN_MOBILE.match(national):
            raise ValidationError(
                _("Enter a valid mainland China mobile number: 11 digits starting with 1."),
                code="invalid_cn_mobile",
            )
        return "+86" + national
    if value.startswith("+"):
        if not _E164.match(value):
            raise ValidationError(
                _("Enter a valid international number, for example +85291234567."),
                code="invalid_e164",
            )
        return value
    if _CN_MOBILE.match(value):
        return "+86" + value
    raise ValidationError(
        _("Enter a valid mainland China mobile number: 11 digits starting with 1."),
        code="invalid_cn_mobile",
    )


def validate_phone(value: str) -> None:
    normalize_phone(value)


def national_format(e164: str) -> str:
    """``+8613812345678`` → ``13812345678``; other countries keep their + form."""
    return e164[3:] if e164.startswith("+86") else e164


def mask_phone(e164: str) -> str:
    """Mask the middle of a number for display: ``138****5678``."""
    number = national_format(e164 or "")
    if len(number) < 7:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"
