"""Channel adapters: one small interface per way of reaching a person.

``send(message) -> provider_id`` delivers one rendered ``Message`` or raises

- ``TemporaryFailure``: try again later (exponential back-off, capped attempts);
- ``RateLimited(retry_after)``: the provider asks us to wait; the message is deferred;
- ``PermanentFailure``: never going to work (bad number, unsubscribed); the message fails.

``NOTIFICATION_CHANNELS`` maps each channel to an adapter's dotted path. WeChat and Web Push use
their real adapters (``WeChatTemplateAdapter``, ``WebPushAdapter``) when the provider is
configured in settings and the local fakes below otherwise (they log, record every call and can
be told to fail or rate-limit); a provider plugs in by implementing ``ChannelAdapter.send``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import json
import logging
import socket
import threading
import zoneinfo
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
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
    """WeChat Official Account template messages (cgi-bin/message/template/send).

    The access token (``cgi-bin/token``, valid 7200 s) is kept in the cache shared by all
    processes (Redis in production) and fetched again ``TOKEN_REFRESH_MARGIN`` seconds before
    it expires: every fetch invalidates the previous token after a few minutes, so workers must
    share one. A send refused with an invalid/expired token (40001, 40014, 42001) drops the
    cached token, fetches a new one and tries once more.

    Outcomes: errcode 0 → ``msgid``; 45009 (daily quota) → ``RateLimited`` until the quota
    resets at midnight Beijing time; -1 (system busy), HTTP 5xx, network errors and unknown
    codes → ``TemporaryFailure``; 43004 (not following), 40003 (bad openid), 43101 (refused),
    40037 (bad template id), 47001/47003 (bad data) and a kind without a template id →
    ``PermanentFailure``. ``client_msg_id`` carries the message id so WeChat can drop a repeat.
    """

    TOKEN_REFRESH_MARGIN = 300
    INVALID_TOKEN: ClassVar[frozenset[int]] = frozenset({40001, 40014, 42001})
    PERMANENT: ClassVar[dict[int, str]] = {
        40003: "the openid is not valid for this Official Account",
        40037: "the template id is not valid",
        43004: "the user does not follow the Official Account",
        43101: "the user refused messages from the Official Account",
        47001: "the request body is malformed",
        47003: "a template data field is not valid",
    }

    def __init__(self) -> None:
        self.app_id: str = settings.WECHAT_APP_ID
        self.secret: str = settings.WECHAT_APP_SECRET
        self.base_url: str = settings.WECHAT_API_BASE_URL.rstrip("/")
        self.template_ids: dict[str, str] = dict(settings.WECHAT_TEMPLATE_IDS)
        self.timeout: float = float(settings.WECHAT_TIMEOUT_SECONDS)

    # --- the access token ---------------------------------------------------------------------

    @property
    def _cache_key(self) -> str:
        return f"shouhou:wechat:access-token:{self.app_id}"

    def access_token(self) -> str:
        from django.core.cache import cache

        token = cache.get(self._cache_key)
        if token:
            return str(token)
        return self._fetch_token()

    def _fetch_token(self) -> str:
        from django.core.cache import cache

        answer = self._call(
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
        )
        errcode = int(answer.get("errcode") or 0)
        if errcode == 45009:
            raise RateLimited(_seconds_to_beijing_midnight(), "WeChat token: daily quota reached")
        if errcode or not answer.get("access_token"):
            # A wrong secret or an IP outside the whitelist: fixable by an operator, so retry.
            raise TemporaryFailure(
                f"WeChat token refused: errcode {errcode} {answer.get('errmsg', '')}".strip()
            )
        token = str(answer["access_token"])
        lifetime = int(answer.get("expires_in") or 7200)
        cache.set(self._cache_key, token, timeout=max(lifetime - self.TOKEN_REFRESH_MARGIN, 30))
        return token

    def _forget_token(self, token: str) -> None:
        from django.core.cache import cache

        # Only the token that failed: another worker may already have stored a fresh one.
        if cache.get(self._cache_key) == token:
            cache.delete(self._cache_key)

    # --- sending ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import requests

        try:
            response = requests.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise TemporaryFailure(f"WeChat unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise TemporaryFailure(f"WeChat answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise TemporaryFailure("WeChat answered with something that is not JSON") from exc
        if not isinstance(answer, dict):
            raise TemporaryFailure("WeChat answered with something that is not a JSON object")
        return answer

    def payload(self, message: Message, template_id: str) -> dict[str, Any]:
        """The template message: ``first`` (subject), ``keyword1`` (order number), ``keyword2``
        (the text), ``keyword3`` (time, Beijing), and the tracking page when it is absolute."""
        from shouhou.workorders.services import tracking_url

        work_order = message.work_order
        when = message.created_at or timezone.now()
        body: dict[str, Any] = {
            "touser": message.address,
            "template_id": template_id,
            "client_msg_id": f"shouhou-message-{message.pk}",
            "data": {
                "first": {"value": message.subject or message.body[:20]},
                "keyword1": {"value": work_order.number},
                "keyword2": {"value": message.body},
                "keyword3": {"value": when.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M")},
            },
        }
        url = tracking_url(work_order)
        if url.startswith(("https://", "http://")):
            body["url"] = url
        return body

    def send(self, message: Message) -> str:
        template_id = self.template_ids.get(message.kind)
        if not template_id:
            raise PermanentFailure(
                f"no WeChat template for the kind {message.kind!r} (add it to WECHAT_TEMPLATE_IDS)"
            )
        body = self.payload(message, template_id)
        token = self.access_token()
        answer = self._send_with(token, body)
        if int(answer.get("errcode") or 0) in self.INVALID_TOKEN:
            self._forget_token(token)
            answer = self._send_with(self._fetch_token(), body)
        return self._outcome(answer)

    def _send_with(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "POST",
            "/cgi-bin/message/template/send",
            params={"access_token": token},
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def _outcome(self, answer: dict[str, Any]) -> str:
        errcode = int(answer.get("errcode") or 0)
        errmsg = str(answer.get("errmsg", ""))
        if errcode == 0:
            return str(answer.get("msgid", ""))
        if errcode == 45009:
            raise RateLimited(_seconds_to_beijing_midnight(), "WeChat: daily quota reached")
        if errcode in self.PERMANENT:
            raise PermanentFailure(f"WeChat errcode {errcode}: {self.PERMANENT[errcode]}")
        if errcode == -1:
            raise TemporaryFailure("WeChat errcode -1: system busy")
        raise TemporaryFailure(f"WeChat errcode {errcode}: {errmsg}")


_BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def _seconds_to_beijing_midnight(now: dt.datetime | None = None) -> float:
    """WeChat quotas reset at 00:00 Beijing time: retrying earlier only burns attempts."""
    local = (now or timezone.now()).astimezone(_BEIJING)
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((midnight - local).total_seconds(), 60.0)


class NotSubscribed(PermanentFailure):
    """The recipient has not set this channel up (no browser subscribed to push): the message
    is recorded as suppressed, like a channel the person switched off, not as a failure."""


class WebPushAdapter(ChannelAdapter):
    """Browser Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291),
    through ``pywebpush``, to every browser the recipient subscribed (``PushSubscription``).

    The payload is JSON ``{"title", "body", "url", "tag"}`` that ``/sw.js`` shows. Per browser:
    201 → delivered (``last_success_at``); 404/410 → the subscription is gone and deleted;
    429 → rate limited (``Retry-After``); 5xx and network errors → temporary. The message is
    sent when at least one browser took it; otherwise rate limited, temporary, or (every
    subscription gone or none at all) permanent — ``NotSubscribed`` (suppressed) when the user
    never subscribed a browser. Endpoints that resolve to private addresses are refused.
    """

    PAYLOAD_BODY_MAX = 1000  # push services accept about 4 KB of encrypted payload

    def __init__(self) -> None:
        from py_vapid import Vapid

        self.vapid = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY)
        self.subject: str = settings.WEBPUSH_VAPID_SUBJECT
        self.ttl: int = int(settings.WEBPUSH_TTL_SECONDS)
        self.timeout: float = float(settings.WEBPUSH_TIMEOUT_SECONDS)
        self.allow_hosts: list[str] = list(settings.WEBPUSH_ALLOW_HTTP_HOSTS)

    def payload(self, message: Message) -> dict[str, str]:
        return {
            "title": message.subject or message.body[:40],
            "body": message.body[: self.PAYLOAD_BODY_MAX],
            "url": _open_url(message),
            "tag": f"message-{message.pk}",
        }

    def send(self, message: Message) -> str:
        from shouhou.notifications.models import PushSubscription

        user_id = _user_id(message)
        subscriptions = list(PushSubscription.objects.filter(user_id=user_id).order_by("pk"))
        if not subscriptions:
            raise NotSubscribed(f"user {user_id} has no browser subscribed to push")
        data = json.dumps(self.payload(message), ensure_ascii=False)
        delivered: list[str] = []
        gone: list[int] = []
        waits: list[float] = []
        temporary: list[str] = []
        permanent: list[str] = []
        for subscription in subscriptions:
            try:
                delivered.append(self._push(subscription, data, urgent=message.urgent))
            except _Gone as exc:
                gone.append(subscription.pk)
                permanent.append(str(exc))
            except RateLimited as exc:
                waits.append(exc.retry_after)
                temporary.append(str(exc))
            except TemporaryFailure as exc:
                temporary.append(str(exc))
            except PermanentFailure as exc:
                permanent.append(str(exc))
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
        if delivered:
            return delivered[0]
        if waits:
            raise RateLimited(max(waits), "push service: too many requests")
        if temporary:
            raise TemporaryFailure("; ".join(temporary + permanent))
        raise PermanentFailure("no browser can receive it: " + "; ".join(permanent))

    def _push(self, subscription: Any, data: str, *, urgent: bool) -> str:
        import requests
        from pywebpush import WebPushException, webpush

        host = urlsplit(subscription.endpoint).hostname or ""
        if host not in self.allow_hosts and not _public_host(host):
            raise PermanentFailure(f"{host}: refused, the endpoint resolves to a private address")
        try:
            response = webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=self.ttl,
                timeout=self.timeout,
                headers={"Urgency": "high" if urgent else "normal"},
            )
        except WebPushException as exc:
            status = exc.status_code
            if status in (404, 410):
                raise _Gone(f"{host}: subscription gone (HTTP {status})") from exc
            if status == 429:
                raise RateLimited(_retry_after(exc.retry_after), f"{host}: HTTP 429") from exc
            if status is None:  # a subscription pywebpush cannot encrypt for
                raise PermanentFailure(f"{host}: {exc.message}") from exc
            if status >= 500:
                raise TemporaryFailure(f"{host}: HTTP {status}") from exc
            raise PermanentFailure(f"{host}: HTTP {status} {exc.message[:200]}") from exc
        except (requests.RequestException, OSError) as exc:
            raise TemporaryFailure(f"{host}: {exc}") from exc
        from shouhou.notifications.models import PushSubscription

        PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
        location = response.headers.get("Location", "") if not isinstance(response, str) else ""
        return location or f"webpush-{subscription.pk}"


class _Gone(PermanentFailure):
    """The push service forgot this subscription (404/410)."""


def _retry_after(value: str | None, default: float = 60.0) -> float:
    """Retry-After in seconds or as an HTTP date (RFC 9110)."""
    if not value:
        return default
    try:
        return max(float(value), 1.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max((when - timezone.now()).total_seconds(), 1.0)


def _public_host(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return True  # the request itself reports the DNS failure
    return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


def _user_id(message: Message) -> int:
    """Push addresses are ``user:<id>`` (messaging.recipients_for)."""
    prefix, _sep, value = message.address.partition(":")
    if prefix != "user" or not value.isdigit():
        raise PermanentFailure(f"{message.address!r} is not a user:<id> push address")
    return int(value)


def _open_url(message: Message) -> str:
    """Where a click on the notification leads: the technician's job page, the customer's
    tracking page, else the inbox."""
    from django.urls import NoReverseMatch, reverse

    from shouhou.workorders.services import tracking_url

    work_order = message.work_order
    try:
        if message.audience == "technician":
            return reverse("wo_tech:detail", args=[work_order.number])
        if message.audience == "customer":
            return tracking_url(work_order)
        return reverse("notifications:inbox")
    except NoReverseMatch:
        return "/inbox/"


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
