"""SMS adapter: one interface, a development backend that logs, and a test fake.

Real providers (Aliyun, Tencent Cloud) plug in by implementing ``SmsBackend.send`` and setting
``SMS_BACKEND`` to their dotted path. Nothing in the product calls a provider directly.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("shouhou.sms")


class SmsDeliveryError(Exception):
    """The provider refused or failed to take the message; safe to retry later."""


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    sent_at: datetime = field(default_factory=timezone.now)


class SmsBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Development backend: writes the message to the log instead of sending it."""

    def send(self, *, phone: str, text: str) -> None:
        logger.warning("SMS to %s: %s", phone, text)


class FakeSmsBackend(SmsBackend):
    """A local stand-in for a provider, for tests: keeps an outbox and can be told to fail."""

    outbox: list[SmsMessage] = []
    fail_next: int = 0
    _lock = threading.Lock()

    def send(self, *, phone: str, text: str) -> None:
        with self._lock:
            if FakeSmsBackend.fail_next > 0:
                FakeSmsBackend.fail_next -= 1
                raise SmsDeliveryError("fake provider: temporarily unavailable")
            FakeSmsBackend.outbox.append(SmsMessage(phone=phone, text=text))

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.outbox = []
            cls.fail_next = 0


def get_sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def send_sms(*, phone: str, text: str) -> None:
    get_sms_backend().send(phone=phone, text=text)
