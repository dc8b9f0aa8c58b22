"""Channel adapters: one small interface per way of reaching a person.

``send(message) -> provider_id`` delivers one rendered ``Message`` or raises

- ``TemporaryFailure``: try again later (exponential back-off, capped attempts);
- ``RateLimited(retry_after)``: the provider asks us to wait; the message is deferred;
- ``PermanentFailure``: never going to work (bad number, unsubscribed); the message fails.

``NOTIFICATION_CHANNELS`` maps each channel to an adapter's dotted path. Tests and ``make run``
use the local fakes below (they log, record every call and can be told to fail or rate-limit);
a real provider plugs in by implementing ``ChannelAdapter.send``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from shouhou.core.sms import SmsDeliveryError, get_sms_backend

if TYPE_CHECKING:
    from shouhou.notifications.models import Message

logger = logging.getLogger("shouhou.notifications")


class ChannelError(Exception):
    pass


class TemporaryFailure(ChannelError):
    """The provider failed this time; retry with back-off."""


class PermanentFailure(ChannelError):
    """The message can never be delivered this way."""


class RateLimited(ChannelError):
    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(f"{detail} (retry after {retry_after:g} s)")
        self.retry_after = retry_after


class ChannelAdapter:
    def send(self, message: Message) -> str:
        raise NotImplementedError


class InAppAdapter(ChannelAdapter):
    """The inbox: the Message row is the inbox entry, so sending only stamps it."""

    def send(self, message: Message) -> str:
        return f"inapp-{message.pk}"


class SmsAdapter(ChannelAdapter):
    """Wraps ``core.sms`` (SMS_BACKEND): its delivery error is temporary."""

    def send(self, message: Message) -> str:
        try:
            get_sms_backend().send(phone=message.address, text=message.body)
        except SmsDeliveryError as exc:
            raise TemporaryFailure(str(exc)) from exc
        return f"sms-{message.pk}"


class EmailAdapter(ChannelAdapter):
    """Django's mail (EMAIL_BACKEND; locmem in tests). The Message-ID makes it idempotent."""

    def send(self, message: Message) -> str:
        message_id = f"<message-{message.pk}@shouhou>"
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=[message.address],
            headers={"Message-ID": message_id},
        )
        try:
            email.send(fail_silently=False)
        except OSError as exc:  # SMTP and socket errors
            raise TemporaryFailure(str(exc)) from exc
        return message_id


@dataclass
class FakeCall:
    address: str
    subject: str
    body: str
    message_id: int


@dataclass
class FakeBehaviour:
    """What the fake does on its next calls: fail, refuse, or rate-limit, then succeed."""

    fail_next: int = 0
    reject_next: int = 0
    rate_limit_next: int = 0
    retry_after: float = 60.0
    calls: list[FakeCall] = field(default_factory=list)


class FakeAdapter(ChannelAdapter):
    """A faithful local provider: records each delivery, logs it, can fail on demand.

    State is per subclass (``FakeWeChatAdapter.behaviour``), reset with ``reset()``.
    """

    channel: ClassVar[str] = "fake"
    behaviour: ClassVar[FakeBehaviour]
    _lock: ClassVar[threading.Lock]
    _ids: ClassVar[itertools.count[int]]

    def __init_subclass__(cls) -> None:
        cls.behaviour = FakeBehaviour()
        cls._lock = threading.Lock()
        cls._ids = itertools.count(1)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.behaviour = FakeBehaviour()

    def send(self, message: Message) -> str:
        b = self.behaviour
        with self._lock:
            if b.rate_limit_next > 0:
                b.rate_limit_next -= 1
                raise RateLimited(b.retry_after, f"fake {self.channel}: too many requests")
            if b.fail_next > 0:
                b.fail_next -= 1
                raise TemporaryFailure(f"fake {self.channel}: temporarily unavailable")
            if b.reject_next > 0:
                b.reject_next -= 1
                raise PermanentFailure(f"fake {self.channel}: recipient refused")
            b.calls.append(
                FakeCall(
                    address=message.address,
                    subject=message.subject,
                    body=message.body,
                    message_id=message.pk,
                )
            )
            provider_id = f"{self.channel}-{next(self._ids)}"
        logger.info("%s to %s: %s", self.channel, message.address, message.body)
        return provider_id


class FakeWeChatAdapter(FakeAdapter):
    """Stands in for WeChat Official Account template messages (see WeChatTemplateAdapter)."""

    channel = "wechat"


class FakeWebPushAdapter(FakeAdapter):
    channel = "webpush"


class FakeSmsAdapter(FakeAdapter):
    """An SMS fake with rate limits and refusals (core.sms's fake only fails temporarily)."""

    channel = "sms"


class FakeEmailAdapter(FakeAdapter):
    channel = "email"


class WeChatTemplateAdapter(ChannelAdapter):
    """Skeleton of the real WeChat adapter; not called anywhere yet.

    A real implementation POSTs to
    ``https://api.weixin.qq.com/cgi-bin/message/template/send?access_token=...`` with
    ``{"touser": openid, "template_id": ..., "url": tracking_url, "data": {...}}``, keeps the
    access token cached (it lives 2 hours), maps errcode 45009 (API limit) to
    ``RateLimited``, -1 (system busy) to ``TemporaryFailure`` and 43004 (not following) to
    ``PermanentFailure``, and returns ``msgid`` as the provider id.
    """

    def send(self, message: Message) -> str:
        raise PermanentFailure("the WeChat Official Account adapter is not configured")


DEFAULT_CHANNELS = {
    "inapp": "shouhou.notifications.channels.InAppAdapter",
    "sms": "shouhou.notifications.channels.SmsAdapter",
    "email": "shouhou.notifications.channels.EmailAdapter",
    "wechat": "shouhou.notifications.channels.FakeWeChatAdapter",
    "webpush": "shouhou.notifications.channels.FakeWebPushAdapter",
}


def adapter_for(channel: str) -> ChannelAdapter:
    paths = {**DEFAULT_CHANNELS, **getattr(settings, "NOTIFICATION_CHANNELS", {})}
    adapter: ChannelAdapter = import_string(paths[channel])()
    return adapter
