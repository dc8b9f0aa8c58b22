"""Webhook endpoints (create, rotate the secret) and delivery (sign, send, log, retry).

Delivery follows the outbox's rules (notifications.services): a row per (endpoint, event) made
exactly once by the atomic ``webhooks`` consumer; a conditional UPDATE claims it; each HTTP
attempt is logged; a 2xx marks it delivered; anything else retries with exponential back-off
until ``WEBHOOK_RETRY_SECONDS`` (24 h) after the event, then gives up. A worker that dies
mid-request leaves an expired claim that the sweeper hands back, so the receiver may see the
same delivery twice: every attempt carries the same ``Shouhou-Delivery`` id to dedupe on.

Endpoints are managed from the console and the API through the ``webhook_endpoint_*`` verbs
below. An endpoint whose attempts have all failed for ``WEBHOOK_DISABLE_AFTER_SECONDS`` is
disabled by ``webhook_endpoints_disable_failing`` (the ``webhooks.disable_failing`` job) with
the reason recorded; enabling it again clears the reason and the failure clock.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhou.accounts.models import Organization
from shouhou.core.errors import Conflict, DomainError
from shouhou.webhooks.choices import (
    CLAIMABLE,
    INTERNAL_EVENT_TYPES,
    PING,
    WebhookDeliveryState,
    WebhookDisabledReason,
)
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.signing import SIGNATURE_HEADER, signature_header
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent

S = WebhookDeliveryState


class WebhookUrlInvalid(DomainError):
    code = "webhook_url_invalid"


class WebhookDeliveryBusy(Conflict):
    code = "webhook_delivery_busy"


class WebhookEventTypeUnknown(DomainError):
    code = "webhook_event_type_unknown"


class WebhookEndpointInactive(Conflict):
    code = "webhook_endpoint_inactive"


def webhook_event_type_choices() -> list[tuple[str, Any]]:
    """The work-order event types an endpoint can subscribe to (internal ones are never sent)."""
    return [
        (value, label) for value, label in EventType.choices if value not in INTERNAL_EVENT_TYPES
    ]


def webhook_event_types_check(event_types: object) -> list[str]:
    """A sorted list without repeats of known, sendable event types; empty means every type."""
    known = {value for value, _label in webhook_event_type_choices()}
    if event_types is None:
        return []
    if not isinstance(event_types, list | tuple) or not all(
        isinstance(value, str) and value in known for value in event_types
    ):
        raise WebhookEventTypeUnknown(
            _("Give a list of event types from: %(types)s") % {"types": ", ".join(sorted(known))}
        )
    return sorted(set(event_types))


def webhook_url_check(url: str) -> str:
    """HTTPS only (plain HTTP only to hosts in ``WEBHOOK_ALLOW_HTTP_HOSTS``, for tests)."""
    parts = urlsplit(url.strip())
    if not parts.hostname:
        raise WebhookUrlInvalid(_("Enter a full URL, such as https://example.com/hooks."))
    if parts.scheme == "https":
        return url.strip()
    if parts.scheme == "http" and parts.hostname in settings.WEBHOOK_ALLOW_HTTP_HOSTS:
        return url.strip()
    raise WebhookUrlInvalid(_("Webhook URLs must start with https://."))


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_endpoint_create(
    *,
    organization: Organization,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint with a fresh signing secret (shown to the organisation once).

    Refuses a URL that is not HTTPS (``WebhookUrlInvalid``) and unknown or internal event
    types (``WebhookEventTypeUnknown``)."""
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=webhook_url_check(url),
        event_types=webhook_event_types_check(event_types),
        description=description.strip(),
        is_active=is_active,
        disabled_at=None if is_active else timezone.now(),
        disabled_reason="" if is_active else WebhookDisabledReason.MANUAL,
        secret=_new_secret(),
    )


def _set_active(endpoint: WebhookEndpoint, is_active: bool, now: dt.datetime) -> list[str]:
    """Flip ``is_active`` on a locked endpoint; the fields changed (none if already so)."""
    if endpoint.is_active == is_active:
        return []
    endpoint.is_active = is_active
    endpoint.disabled_at = None if is_active else now
    endpoint.disabled_reason = "" if is_active else WebhookDisabledReason.MANUAL
    endpoint.disabled_detail = ""
    # Enabling starts the failure clock afresh: old failures do not disable it again at once.
    endpoint.failing_since = None
    return ["is_active", "disabled_at", "disabled_reason", "disabled_detail", "failing_since"]


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    event_types: list[str] | None,
    description: str,
    is_active: bool,
) -> WebhookEndpoint:
    """Change an endpoint's settings; enabling it clears the reason it was disabled."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.url = webhook_url_check(url)
    locked.event_types = webhook_event_types_check(event_types)
    locked.description = description.strip()
    fields = ["url", "event_types", "description", "updated_at"]
    fields += _set_active(locked, is_active, timezone.now())
    locked.save(update_fields=fields)
    return locked


@transaction.atomic
def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, is_active: bool) -> WebhookEndpoint:
    """Enable (clearing why it was disabled) or disable by hand; no-op if already so."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    fields = _set_active(locked, is_active, timezone.now())
    if fields:
        locked.save(update_fields=[*fields, "updated_at"])
    return locked


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> bool:
    """Delete an endpoint that never had a delivery; one with deliveries is only disabled, so
    its log stays readable. True if it was deleted."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if WebhookDelivery.objects.filter(endpoint=locked).exists():
        fields = _set_active(locked, False, timezone.now())
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
        return False
    locked.delete()
    return True


@transaction.atomic
def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``ping`` to the endpoint, signed and logged like any delivery, tried once.

    Refuses a disabled endpoint (``WebhookEndpointInactive``): nothing is sent to it."""
    from shouhou.webhooks.tasks import send_webhook

    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not locked.is_active:
        raise WebhookEndpointInactive(_("This endpoint is disabled; enable it first."))
    delivery = WebhookDelivery.objects.create(
        endpoint=locked, event=None, event_type=PING, next_attempt_at=timezone.now()
    )
    transaction.on_commit(partial(send_webhook.enqueue, delivery.pk))
    return delivery


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, grace: dt.timedelta | None = None
) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for ``grace`` (default 24 h)."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_expires_at = timezone.now() + (
        grace if grace is not None else dt.timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS)
    )
    locked.secret = _new_secret()
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return locked


def webhook_signing_secrets(endpoint: WebhookEndpoint, *, now: dt.datetime) -> list[str]:
    valid = [endpoint.secret]
    if endpoint.previous_secret and (
        endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now
    ):
        valid.append(endpoint.previous_secret)
    return valid


def webhook_deliveries_create(*, event: WorkOrderEvent) -> list[int]:
    """Make one delivery per interested active endpoint of the order's organisation.

    Called by the atomic ``webhooks`` consumer, so the rows exist exactly once; returns the ids
    of deliveries still to send (after commit the caller enqueues them).
    """
    if event.is_internal:
        return []  # staff notes and internal steps stay inside Shouhou
    organization_id = event.work_order.organization_id
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True)
        if e.wants(event.type)
    ]
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, event_type=event.type, next_attempt_at=now)
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    return list(
        WebhookDelivery.objects.filter(event=event, state__in=CLAIMABLE).values_list(
            "pk", flat=True
        )
    )


def webhook_ping_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    """A test event: the same shape as a work-order event, with no order."""
    return {
        "id": None,
        "type": PING,
        "created_at": delivery.created_at,
        "work_order": None,
        "from_status": None,
        "to_status": None,
        "actor_role": "system",
        "data": {"endpoint": delivery.endpoint_id, "message": "Test event from Shouhou"},
    }


def webhook_payload(event: WorkOrderEvent) -> dict[str, Any]:
    """What the receiver gets: the event and the order's public identifiers (no personal data)."""
    work_order = event.work_order
    return {
        "id": event.pk,
        "type": event.type,
        "created_at": event.created_at,
        "work_order": {
            "number": work_order.number,
            "status": work_order.status,
            "priority": work_order.priority,
        },
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "actor_role": event.actor_role,
        "data": event.data,
    }


@dataclass
class HttpResult:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), never followed: it could point inside


def _address_allowed(host: str) -> bool:
    """Refuse private, loopback and link-local addresses (SSRF) unless allowed for tests."""
    if host in settings.WEBHOOK_ALLOW_HTTP_HOSTS:
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return True  # the request itself reports the DNS failure
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return False
    return True


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
    started = time.monotonic()
    result = HttpResult()
    host = urlsplit(url).hostname or ""
    if not _address_allowed(host):
        result.error = "refused: the URL resolves to a private address"
        return result
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            result.status_code = response.status
            result.excerpt = response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        result.status_code = error.code
        result.excerpt = error.read(500).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        result.error = str(getattr(error, "reason", error))[:500]
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _retry_delay(attempts: int) -> float:
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return float(min(base * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class SendReport:
    sent: bool = False
    retry_at: dt.datetime | None = None
    attempt: WebhookAttempt | None = field(default=None)


def webhook_deliver(*, delivery_id: int, worker_id: str = "") -> SendReport:
    """Send one delivery if it is due and this worker wins the claim."""
    report = SendReport()
    now = timezone.now()
    token = f"{worker_id[:40]}:{secrets.token_hex(8)}"
    due = Q(state__in=CLAIMABLE, next_attempt_at__lte=now)
    expired = Q(state=S.RUNNING, claimed_until__lt=now)
    lease = dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    won = (
        WebhookDelivery.objects.filter(Q(pk=delivery_id) & (due | expired))
        .filter(endpoint__is_active=True)
        .update(
            state=S.RUNNING,
            claimed_by=token,
            claimed_until=now + lease,
            attempts=F("attempts") + 1,
        )
    )
    if not won:
        return report
    delivery = WebhookDelivery.objects.select_related("endpoint", "event__work_order").get(
        pk=delivery_id
    )
    endpoint, event = delivery.endpoint, delivery.event
    payload = webhook_payload(event) if event is not None else webhook_ping_payload(delivery)
    body = json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Shouhou-Webhooks/1",
        "Shouhou-Event": delivery.event_type,
        "Shouhou-Delivery": delivery.key,
        "Shouhou-Timestamp": str(timestamp),
        SIGNATURE_HEADER: signature_header(
            secrets=webhook_signing_secrets(endpoint, now=now), timestamp=timestamp, body=body
        ),
    }
    result = _post(url=endpoint.url, body=body, headers=headers)
    report.attempt = WebhookAttempt.objects.create(
        delivery=delivery,
        started_at=now,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
        response_excerpt=result.excerpt,
        request_headers=headers,
        request_body=body.decode(),
    )
    mine = WebhookDelivery.objects.filter(pk=delivery_id, state=S.RUNNING, claimed_by=token)
    error = result.error or (f"HTTP {result.status_code}" if result.status_code else "")
    succeeded = result.status_code is not None and 200 <= result.status_code < 300
    _failure_clock(endpoint_id=endpoint.pk, succeeded=succeeded, at=now)
    if succeeded:
        mine.update(
            state=S.DELIVERED,
            delivered_at=timezone.now(),
            claimed_until=None,
            last_status_code=result.status_code,
            last_error="",
        )
        report.sent = True
        return report
    retry_at = timezone.now() + dt.timedelta(seconds=_retry_delay(delivery.attempts))
    deadline = (event.created_at if event else delivery.created_at) + dt.timedelta(
        seconds=settings.WEBHOOK_RETRY_SECONDS
    )
    if retry_at > deadline or event is None:  # a test ping is tried once
        mine.update(
            state=S.FAILED,
            claimed_until=None,
            last_status_code=result.status_code,
            last_error=error,
        )
        return report
    if mine.update(
        state=S.RETRYING,
        claimed_until=None,
        next_attempt_at=retry_at,
        last_status_code=result.status_code,
        last_error=error,
    ):
        report.retry_at = retry_at
    return report


def _failure_clock(*, endpoint_id: int, succeeded: bool, at: dt.datetime) -> None:
    """Start the endpoint's failure clock at its first failure, stop it at a success.

    Conditional updates: a write only when the clock changes, and concurrent attempts cannot
    move an already started clock forward."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if succeeded:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    else:
        endpoints.filter(failing_since__isnull=True).update(failing_since=at)


def webhook_endpoints_disable_failing(*, now: dt.datetime | None = None) -> list[int]:
    """Disable every active endpoint whose attempts have all failed for
    ``WEBHOOK_DISABLE_AFTER_SECONDS`` (0: never), recording why and the last error.

    Each endpoint is disabled with a conditional UPDATE, so an attempt that succeeded meanwhile
    (clearing ``failing_since``) keeps it enabled. Returns the ids disabled."""
    period = settings.WEBHOOK_DISABLE_AFTER_SECONDS
    if period <= 0:
        return []
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=period)
    disabled = []
    for endpoint_id in WebhookEndpoint.objects.filter(
        is_active=True, failing_since__lte=cutoff
    ).values_list("pk", flat=True):
        last = (
            WebhookAttempt.objects.filter(delivery__endpoint_id=endpoint_id)
            .order_by("-started_at", "-pk")
            .first()
        )
        detail = ""
        if last is not None:
            detail = last.error or (f"HTTP {last.status_code}" if last.status_code else "")
        if WebhookEndpoint.objects.filter(
            pk=endpoint_id, is_active=True, failing_since__lte=cutoff
        ).update(
            is_active=False,
            disabled_at=now,
            disabled_reason=WebhookDisabledReason.FAILING,
            disabled_detail=detail[:500],
            updated_at=now,
        ):
            disabled.append(endpoint_id)
    return disabled


def webhook_sweep(*, limit: int = 500) -> set[int]:
    """Deliveries to enqueue again: expired claims, and due ones nobody took for a while."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
    expired = list(
        WebhookDelivery.objects.filter(state=S.RUNNING, claimed_until__lt=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    WebhookDelivery.objects.filter(pk__in=expired, state=S.RUNNING, claimed_until__lt=now).update(
        state=S.RETRYING,
        next_attempt_at=now,
        claimed_until=None,
        last_error="The claim expired: the worker was lost before it finished.",
    )
    # Deliveries of a disabled endpoint wait (they go out if it is enabled again in time).
    lost = list(
        WebhookDelivery.objects.filter(
            state__in=CLAIMABLE, next_attempt_at__lt=stale, endpoint__is_active=True
        ).values_list("pk", flat=True)[:limit]
    )
    WebhookDelivery.objects.filter(pk__in=lost, state__in=CLAIMABLE).update(next_attempt_at=now)
    return set(expired) | set(lost)


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again from the console (same delivery id, so the receiver can dedupe); the caller
    enqueues ``send_webhook`` after commit. Refuses a delivery being sent right now and one
    whose endpoint is disabled."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    if not WebhookEndpoint.objects.filter(pk=locked.endpoint_id, is_active=True).exists():
        raise WebhookEndpointInactive(_("This endpoint is disabled; enable it first."))
    if locked.state == S.RUNNING and locked.claimed_until and locked.claimed_until > now:
        raise WebhookDeliveryBusy(_("This delivery is being sent now; try again in a moment."))
    locked.state = S.PENDING
    locked.next_attempt_at = now
    locked.claimed_until = None
    locked.save(update_fields=["state", "next_attempt_at", "claimed_until"])
    return locked
