"""Writes for accounts: SMS one-time codes, customer sign-up by phone, memberships."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from hashlib import sha256

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shouhou.accounts.models import Membership, Organization, Outlet, SmsCode, User
from shouhou.core.errors import DomainError, RateLimited
from shouhou.core.phone import normalize_phone
from shouhou.core.sms import send_sms
from shouhou.core.tenancy import forget_memberships


class SmsCodeInvalid(DomainError):
    code = "sms_code_invalid"


class SmsCodeLocked(DomainError):
    code = "sms_code_locked"


def _hash_code(*, phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), sha256).hexdigest()


def _wait_message(seconds: int) -> str:
    if seconds >= 60:
        minutes = (seconds + 59) // 60
        return ngettext(
            "Please wait %(count)d minute before asking for another code.",
            "Please wait %(count)d minutes before asking for another code.",
            minutes,
        ) % {"count": minutes}
    return ngettext(
        "Please wait %(count)d second before asking for another code.",
        "Please wait %(count)d seconds before asking for another code.",
        seconds,
    ) % {"count": seconds}


@transaction.atomic
def sms_code_request(*, phone: str, purpose: str = "login") -> SmsCode:
    """Create and send a 6-digit one-time code to ``phone``.

    Refuses (``RateLimited``) a second code within ``SMS_CODE_MIN_INTERVAL_SECONDS`` and more
    than ``SMS_CODE_MAX_PER_HOUR`` codes in an hour for the same number. Earlier unused codes
    stop working when a new one is sent.
    """
    phone = normalize_phone(phone)
    now = timezone.now()
    # Serialise requests for the same number so two racing taps cannot both pass the limits.
    recent = list(
        SmsCode.objects.select_for_update()
        .filter(phone=phone, created_at__gte=now - dt.timedelta(hours=1))
        .order_by("-created_at")
    )
    if recent:
        since_last = (now - recent[0].created_at).total_seconds()
        if since_last < settings.SMS_CODE_MIN_INTERVAL_SECONDS:
            wait = int(settings.SMS_CODE_MIN_INTERVAL_SECONDS - since_last) + 1
            raise RateLimited(_wait_message(wait), retry_after=wait)
    if len(recent) >= settings.SMS_CODE_MAX_PER_HOUR:
        oldest = recent[settings.SMS_CODE_MAX_PER_HOUR - 1].created_at
        wait = int((oldest + dt.timedelta(hours=1) - now).total_seconds()) + 1
        raise RateLimited(
            _("Too many codes were sent to this number in the last hour.")
            + " "
            + _wait_message(wait),
            retry_after=wait,
        )
    SmsCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**6):06d}"
    sms_code = SmsCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_hash_code(phone=phone, code=code),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    text = _(
        "【售后】Your verification code is %(code)s, valid for %(minutes)d minutes. "
        "Never tell it to anyone."
    ) % {"code": code, "minutes": minutes}
    # Sent after commit: a rolled-back request must not leave a code in someone's phone that
    # the database does not know.
    transaction.on_commit(lambda: send_sms(phone=phone, text=text))
    return sms_code


def sms_code_verify(*, phone: str, code: str, purpose: str = "login") -> None:
    """Check ``code`` against the latest code sent to ``phone`` and use it up.

    Raises ``SmsCodeInvalid`` for a wrong or expired code and ``SmsCodeLocked`` once
    ``SMS_CODE_MAX_ATTEMPTS`` wrong tries were made. A wrong try is counted even though the
    request fails, so the counter is written in its own transaction.
    """
    phone = normalize_phone(phone)
    now = timezone.now()
    with transaction.atomic():
        latest = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at")
            .first()
        )
        if latest is None or latest.used_at is not None or latest.expires_at <= now:
            raise SmsCodeInvalid(_("The code has expired or was not requested. Ask for a new one."))
        if latest.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            raise SmsCodeLocked(_("Too many wrong codes. Ask for a new code."))
        expected = latest.code_hash
        given = _hash_code(phone=phone, code=(code or "").strip())
        if hmac.compare_digest(expected, given):
            latest.used_at = now
            latest.save(update_fields=["used_at"])
            return
        latest.attempts += 1
        latest.save(update_fields=["attempts"])
        left = settings.SMS_CODE_MAX_ATTEMPTS - latest.attempts
    if left <= 0:
        raise SmsCodeLocked(_("Too many wrong codes. Ask for a new code."))
    raise SmsCodeInvalid(
        ngettext(
            "The code is not correct. %(count)d try left.",
            "The code is not correct. %(count)d tries left.",
            left,
        )
        % {"count": left}
    )


@transaction.atomic
def user_get_or_create_by_phone(*, phone: str, display_name: str = "") -> User:
    """The user with this number, created (without a password) on first SMS login."""
    phone = normalize_phone(phone)
    user, created = User.objects.get_or_create(phone=phone, defaults={"display_name": display_name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def membership_grant(
    *, user: User, organization: Organization, role: str, outlet: Outlet | None = None
) -> Membership:
    """Give ``user`` ``role`` in ``organization`` (idempotent). Admins may use the admin site."""
    if outlet is not None and outlet.organization_id != organization.pk:
        raise DomainError(_("The outlet must belong to the same organisation."))
    membership, _created = Membership.objects.update_or_create(
        user=user,
        organization=organization,
        role=role,
        defaults={"outlet": outlet, "is_active": True},
    )
    if role == "admin" and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    forget_memberships(user)
    return membership


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Unknown language."))
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return user
