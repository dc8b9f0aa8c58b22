"""Messages to people about work-order events: plan, render, record, send.

The ``notifications`` consumer (``handlers.py``) calls ``messages_create_for_event`` inside the
delivery transaction, so the Message rows of an event are committed exactly once; each message
is then sent by the task ``send_message`` → ``message_send``, which first claims the row with a
conditional UPDATE (two workers never both send it) and records the outcome: sent, deferred
(back-off, rate limit, quiet hours), failed or suppressed. See docs/notifications.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template import Context, Engine
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.choices import Role
from shouhou.accounts.models import Membership, User
from shouhou.core.errors import DomainError
from shouhou.core.phone import mask_phone
from shouhou.dispatch.models import Technician
from shouhou.notifications import channels
from shouhou.notifications.choices import MESSAGE_DUE, Audience, MessageState
from shouhou.notifications.choices import NotificationChannel as C
from shouhou.notifications.choices import NotificationKind as K
from shouhou.notifications.defaults import DEFAULT_TEMPLATES
from shouhou.notifications.models import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    Message,
    NotificationPreference,
    NotificationTemplate,
)
from shouhou.workorders.choices import CUSTOMER_LABELS, EventType, Priority, WorkOrderStatus
from shouhou.workorders.models import WorkOrder, WorkOrderEvent

S = WorkOrderStatus

logger = logging.getLogger("shouhou.notifications")

LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
FALLBACK_LANGUAGE = "zh-hans"
# Milestones (and the follow-up) the customer also gets by SMS (a login is not needed for SMS).
SMS_MILESTONES = frozenset(
    {
        K.ACCEPTED,
        K.ASSIGNED,
        K.APPOINTMENT_CONFIRMED,
        K.APPOINTMENT_CHANGED,
        K.EN_ROUTE,
        K.COMPLETED,
        K.FOLLOW_UP,  # without it a customer with no login would never hear
    }
)
LOW_RATING_BELOW = 3
SLA_EVENTS = frozenset({EventType.SLA_WARNING, EventType.SLA_BREACHED})
SEND_LEASE = dt.timedelta(minutes=10)

# A sandboxed engine for admin-edited templates: no loaders, only the built-in tags/filters.
_ENGINE = Engine(debug=False, autoescape=False)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# --- planning: who gets what ------------------------------------------------------------------


def kinds_for_event(event: WorkOrderEvent) -> list[tuple[str, tuple[str, ...]]]:
    """The (kind, audiences) an event causes; empty for events nobody is told about."""
    t = event.type
    if event.from_status == S.SUBMITTED and event.to_status == S.ACCEPTED:
        return [(K.ACCEPTED, (Audience.CUSTOMER,))]
    if t == EventType.TECHNICIAN_ASSIGNED:
        return [(K.ASSIGNED, (Audience.CUSTOMER, Audience.TECHNICIAN))]
    if t == EventType.APPOINTMENT_CONFIRMED:
        return [(K.APPOINTMENT_CONFIRMED, (Audience.CUSTOMER, Audience.TECHNICIAN))]
    if t == EventType.APPOINTMENT_CHANGED:
        return [(K.APPOINTMENT_CHANGED, (Audience.CUSTOMER, Audience.TECHNICIAN))]
    if t == EventType.EN_ROUTE:
        return [(K.EN_ROUTE, (Audience.CUSTOMER,))]
    if t == EventType.COMPLETED:
        return [(K.COMPLETED, (Audience.CUSTOMER,))]
    if t == EventType.COMPLETION_CONFIRMED:
        return [(K.RATING_INVITATION, (Audience.CUSTOMER,))]
    if t == EventType.URGED:
        return [(K.URGED, (Audience.TECHNICIAN, Audience.STAFF))]
    if t == EventType.OFFERED:
        # the technician the job is offered to (not yet the order's technician): at once
        return [(K.OFFERED, (Audience.TECHNICIAN,))]
    if t in (EventType.SLA_WARNING, EventType.SLA_BREACHED):
        # one kind for both: the wording reads {{ sla_breached }} (docs/sla.md)
        return [(K.SLA_WARNING, (Audience.TECHNICIAN, Audience.STAFF))]
    if t == EventType.RATED:
        try:
            average = float(event.data.get("average", "5"))
        except (TypeError, ValueError):
            return []
        if average < LOW_RATING_BELOW:
            return [(K.LOW_RATING, (Audience.STAFF,))]
    return []


@dataclass(frozen=True)
class Recipient:
    audience: str
    channel: str
    address: str
    user: User | None


def _preference(user: User | None) -> NotificationPreference | None:
    if user is None:
        return None
    return NotificationPreference.objects.filter(user=user).first()


def _offered_technician(event: WorkOrderEvent | None) -> Technician | None:
    technician_id = (event.data or {}).get("technician_id") if event is not None else None
    if not isinstance(technician_id, int):
        return None
    return Technician.objects.select_related("user").filter(pk=technician_id).first()


def recipients_for(
    work_order: WorkOrder, kind: str, audience: str, event: WorkOrderEvent | None = None
) -> list[Recipient]:
    """Who in ``audience`` hears about ``kind``, and on which channels (an offer goes to the
    technician named on the ``event``, who is not the order's technician yet)."""
    found: list[Recipient] = []
    if audience == Audience.CUSTOMER:
        customer = work_order.customer
        user = customer.user
        if user is not None:
            found.append(Recipient(audience, C.INAPP, f"user:{user.pk}", user))
            pref = _preference(user)
            if pref is not None and pref.wechat_openid:
                found.append(Recipient(audience, C.WECHAT, pref.wechat_openid, user))
            if user.email:
                found.append(Recipient(audience, C.EMAIL, user.email, user))
        if kind in SMS_MILESTONES and customer.phone:
            found.append(Recipient(audience, C.SMS, customer.phone, user))
    elif audience == Audience.TECHNICIAN:
        technician = _offered_technician(event) if kind == K.OFFERED else work_order.technician
        if technician is not None:
            user = technician.user
            found.append(Recipient(audience, C.INAPP, f"user:{user.pk}", user))
            found.append(Recipient(audience, C.WEBPUSH, f"user:{user.pk}", user))
    elif audience == Audience.STAFF:
        staff = (
            User.objects.filter(
                pk__in=Membership.objects.filter(
                    organization_id=work_order.organization_id, role__in=[Role.ADMIN, Role.AGENT]
                ).values("user_id"),
                is_active=True,
            )
            .order_by("pk")
            .distinct()
        )
        found.extend(Recipient(audience, C.INAPP, f"user:{u.pk}", u) for u in staff)
    return found


def language_for(user: User | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    if user is not None and user.preferred_language in codes:
        return user.preferred_language
    return FALLBACK_LANGUAGE


# --- quiet hours ------------------------------------------------------------------------------


def quiet_until(*, start: dt.time, end: dt.time, now: dt.datetime) -> dt.datetime | None:
    """The end of the quiet period ``now`` falls in (local time), or None outside it."""
    if start == end:
        return None
    local = now.astimezone(LOCAL_TZ)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_today = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_today <= local:
        end_today += dt.timedelta(days=1)
    return end_today


def _quiet_hours(
    recipient: Recipient, pref: NotificationPreference | None
) -> tuple[dt.time, dt.time] | None:
    if pref is not None:
        return (pref.quiet_start, pref.quiet_end) if pref.quiet_hours else None
    if recipient.audience == Audience.CUSTOMER:
        return DEFAULT_QUIET_START, DEFAULT_QUIET_END
    return None  # technicians and staff without a preference: no quiet hours


# --- templates --------------------------------------------------------------------------------


def template_source(
    *, organization_id: int, kind: str, audience: str, channel: str, language: str
) -> tuple[str, str] | None:
    """(subject, body) source: the organisation's row, a built-in row, then the code default."""
    for lang in dict.fromkeys([language, FALLBACK_LANGUAGE]):
        rows = NotificationTemplate.objects.filter(
            Q(organization_id=organization_id) | Q(organization__isnull=True),
            kind=kind,
            audience=audience,
            channel=channel,
            language=lang,
        ).order_by(F("organization_id").asc(nulls_last=True))
        row = rows.first()
        if row is not None:
            return row.subject, row.body
        default = DEFAULT_TEMPLATES.get((kind, audience, lang))
        if default is not None:
            return default
    return None


def validate_template(source: str) -> None:
    """Raise TemplateSyntaxError if ``source`` does not compile (the admin form calls it)."""
    _ENGINE.from_string(source)


def render(source: str, context: dict[str, object]) -> str:
    return _ENGINE.from_string(source).render(Context(context, autoescape=False)).strip()


def _format_local(value: dt.datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def template_context(
    *, work_order: WorkOrder, event: WorkOrderEvent, audience: str
) -> dict[str, object]:
    """The documented context every template sees (docs/notifications.md). Call it inside the
    recipient's language so the status label is translated."""
    technician = work_order.technician
    tech_user = technician.user if technician is not None else None
    appointment = ""
    if work_order.appointment_start:
        appointment = _format_local(work_order.appointment_start)
        if work_order.appointment_end:
            appointment += "–" + work_order.appointment_end.astimezone(LOCAL_TZ).strftime("%H:%M")
    if audience == Audience.CUSTOMER:
        status = str(CUSTOMER_LABELS.get(work_order.status, work_order.status))
    else:
        status = str(WorkOrderStatus(work_order.status).label)
    eta = event.data.get("eta") or ""
    if isinstance(eta, str) and "T" in eta:
        with contextlib.suppress(ValueError):
            eta = _format_local(dt.datetime.fromisoformat(eta))
    if not eta:
        eta = appointment  # no estimate in the event: the agreed window is the best one
    from shouhou.workorders.services import tracking_url

    return {
        "number": work_order.number,
        "status": status,
        "customer_name": work_order.customer.name,
        "technician_name": (tech_user.display_name if tech_user else "") or "",
        "technician_phone": mask_phone(tech_user.phone) if tech_user else "",
        "appointment": appointment,
        "eta": eta,
        "tracking_url": tracking_url(work_order),
        "rating": event.data.get("average", ""),
        "offer_expires": _offer_expires(event),
        **_sla_context(event),
    }


def _offer_expires(event: WorkOrderEvent) -> str:
    """When an offer runs out (local ``HH:MM``), empty for every other event."""
    expires = event.data.get("expires_at") if event.type == EventType.OFFERED else None
    if isinstance(expires, str):
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(expires).astimezone(LOCAL_TZ).strftime("%H:%M")
    return ""


def _sla_context(event: WorkOrderEvent) -> dict[str, object]:
    """``sla_target`` (translated), ``sla_due`` (local time) and ``sla_breached`` for the SLA
    events; empty values for every other event."""
    from shouhou.sla.choices import SlaTarget

    target = event.data.get("target") if event.type in SLA_EVENTS else None
    due = ""
    if event.type in SLA_EVENTS and isinstance(event.data.get("due_at"), str):
        with contextlib.suppress(ValueError):
            due = _format_local(dt.datetime.fromisoformat(event.data["due_at"]))
    return {
        "sla_target": str(SlaTarget(target).label) if target in SlaTarget.values else "",
        "sla_due": due,
        "sla_breached": event.type == EventType.SLA_BREACHED,
    }


# --- creating messages ------------------------------------------------------------------------


def is_urgent(work_order: WorkOrder, kind: str) -> bool:
    """Urgent messages ignore quiet hours: SLA warnings, offers (they expire in minutes) and
    every message about an urgent order."""
    return kind in (K.SLA_WARNING, K.OFFERED) or work_order.priority == Priority.URGENT


@transaction.atomic
def messages_create(
    *,
    event: WorkOrderEvent,
    kind: str,
    audiences: Iterable[str],
    now: dt.datetime | None = None,
) -> list[int]:
    """Record the messages ``kind`` causes for ``event``; the ids of the new rows.

    Idempotent: a second call inserts nothing (unique on event, kind, address, channel).
    Disabled channels are recorded as ``suppressed``; quiet hours defer non-urgent messages
    (not the in-app inbox, which makes no noise).
    """
    now = now or timezone.now()
    work_order = WorkOrder.objects.select_related("customer__user", "technician__user").get(
        pk=event.work_order_id
    )
    urgent = is_urgent(work_order, kind)
    rows: list[Message] = []
    for audience in audiences:
        for recipient in recipients_for(work_order, kind, audience, event):
            language = language_for(recipient.user)
            source = template_source(
                organization_id=work_order.organization_id,
                kind=kind,
                audience=audience,
                channel=recipient.channel,
                language=language,
            )
            if source is None:
                continue
            with translation.override(language):
                context = template_context(work_order=work_order, event=event, audience=audience)
                subject = render(source[0], context)
                body = render(source[1], context)
            pref = _preference(recipient.user)
            state = MessageState.QUEUED
            next_attempt_at = now
            if pref is not None and not pref.allows(recipient.channel):
                state = MessageState.SUPPRESSED
            elif recipient.channel != C.INAPP and not urgent:
                hours = _quiet_hours(recipient, pref)
                until = quiet_until(start=hours[0], end=hours[1], now=now) if hours else None
                if until is not None:
                    state, next_attempt_at = MessageState.DEFERRED, until
            rows.append(
                Message(
                    organization_id=work_order.organization_id,
                    work_order=work_order,
                    event=event,
                    kind=kind,
                    audience=audience,
                    channel=recipient.channel,
                    recipient=recipient.user,
                    address=recipient.address,
                    language=language,
                    urgent=urgent,
                    subject=subject[:200],
                    body=body,
                    state=state,
                    next_attempt_at=next_attempt_at,
                )
            )
    before = set(Message.objects.filter(event=event, kind=kind).values_list("pk", flat=True))
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    after = Message.objects.filter(event=event, kind=kind).exclude(pk__in=before)
    return list(after.values_list("pk", flat=True))


def messages_create_for_event(
    *, event: WorkOrderEvent, now: dt.datetime | None = None
) -> list[int]:
    created: list[int] = []
    for kind, audiences in kinds_for_event(event):
        created += messages_create(event=event, kind=kind, audiences=audiences, now=now)
    return created


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    state: str | None  # None: not ours to send (already claimed, sent, or not due)
    retry_at: dt.datetime | None = None


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Take the message for sending: one conditional UPDATE, so only one worker wins."""
    due = Q(state__in=MESSAGE_DUE, next_attempt_at__lte=now)
    lost = Q(state=MessageState.SENDING, claimed_until__lt=now)
    return bool(
        Message.objects.filter(due | lost, pk=message_id).update(
            state=MessageState.SENDING,
            claimed_until=now + SEND_LEASE,
            attempts=F("attempts") + 1,
        )
    )


def retry_delay(attempts: int) -> dt.timedelta:
    """Back-off after the ``attempts``-th failure: base, 2·base, 4·base ... up to the max."""
    base = _setting("NOTIFICATION_RETRY_BASE_SECONDS", 30.0)
    cap = _setting("NOTIFICATION_RETRY_MAX_SECONDS", 3600.0)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def message_send(*, message_id: int, now: dt.datetime | None = None) -> SendResult:
    """Send one due message through its channel and record what happened."""
    now = now or timezone.now()
    if not _claim(message_id, now):
        return SendResult(state=None)
    message = Message.objects.get(pk=message_id)
    mine = Message.objects.filter(pk=message_id, state=MessageState.SENDING)
    max_attempts = int(_setting("NOTIFICATION_MAX_ATTEMPTS", 6))
    try:
        provider_id = channels.adapter_for(message.channel).send(message)
    except channels.RateLimited as exc:
        retry_at = now + dt.timedelta(seconds=exc.retry_after)
        mine.update(
            state=MessageState.DEFERRED,
            next_attempt_at=retry_at,
            claimed_until=None,
            last_error=str(exc),
        )
        return SendResult(MessageState.DEFERRED, retry_at)
    except channels.NotSubscribed as exc:  # e.g. no browser turned push on: like a switch-off
        mine.update(state=MessageState.SUPPRESSED, claimed_until=None, last_error=str(exc))
        return SendResult(MessageState.SUPPRESSED)
    except channels.PermanentFailure as exc:
        mine.update(state=MessageState.FAILED, claimed_until=None, last_error=str(exc))
        return SendResult(MessageState.FAILED)
    except Exception as exc:  # TemporaryFailure, or an adapter bug: retry, then give up
        if not isinstance(exc, channels.TemporaryFailure):
            logger.exception("Channel %s failed on message %s", message.channel, message_id)
        error = f"{type(exc).__name__}: {exc}"
        if message.attempts >= max_attempts:
            mine.update(state=MessageState.FAILED, claimed_until=None, last_error=error)
            return SendResult(MessageState.FAILED)
        retry_at = now + retry_delay(message.attempts)
        mine.update(
            state=MessageState.DEFERRED,
            next_attempt_at=retry_at,
            claimed_until=None,
            last_error=error,
        )
        return SendResult(MessageState.DEFERRED, retry_at)
    mine.update(
        state=MessageState.SENT,
        sent_at=now,
        provider_id=provider_id[:128],
        claimed_until=None,
        last_error="",
    )
    return SendResult(MessageState.SENT)


def messages_due(
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = dt.timedelta(seconds=30),
    limit: int = 500,
) -> list[int]:
    """Messages the sweeper should hand to a worker: due for ``grace`` already (their own task
    did not run: a backend without deferral, a lost task), or claimed by a dead worker."""
    now = now or timezone.now()
    due = Q(state__in=MESSAGE_DUE, next_attempt_at__lte=now - grace)
    lost = Q(state=MessageState.SENDING, claimed_until__lt=now)
    return list(
        Message.objects.filter(due | lost)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


class MessageNotResendable(DomainError):
    default_message = _("Only failed messages can be sent again.")
    code = "message_not_resendable"


@transaction.atomic
def message_resend(*, message: Message, now: dt.datetime | None = None) -> Message:
    """Queue a failed message again (the admin's "send again")."""
    now = now or timezone.now()
    updated = Message.objects.filter(pk=message.pk, state=MessageState.FAILED).update(
        state=MessageState.QUEUED, next_attempt_at=now, last_error=""
    )
    if not updated:
        raise MessageNotResendable()
    message.refresh_from_db()
    return message


# --- the inbox --------------------------------------------------------------------------------


def inbox_for(*, user: User) -> QuerySet[Message]:
    """The user's in-app messages, newest first (only their own)."""
    return Message.objects.filter(
        recipient=user, channel=C.INAPP, state=MessageState.SENT
    ).select_related("work_order")


def inbox_unread_count(*, user: User) -> int:
    return inbox_for(user=user).filter(read_at__isnull=True).count()


def message_mark_read(*, user: User, message_id: int, now: dt.datetime | None = None) -> Message:
    """Mark one of the user's inbox messages read; Message.DoesNotExist for anyone else's."""
    message = inbox_for(user=user).get(pk=message_id)
    if message.read_at is None:
        message.read_at = now or timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def preference_for(*, user: User) -> NotificationPreference:
    """The user's preference row (made with the defaults on first use)."""
    pref, _created = NotificationPreference.objects.get_or_create(user=user)
    return pref


FOLLOW_UP_AFTER = dt.timedelta(hours=48)
FOLLOW_UP_WINDOW = dt.timedelta(days=5)  # older completions are not followed up any more


def follow_ups_create(*, now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """The 48-hour follow-up: a message to each customer whose order was completed 48 hours
    ago (up to five days ago), anchored on the completion event so it is made only once."""
    now = now or timezone.now()
    done = (
        WorkOrderEvent.objects.filter(
            type=EventType.COMPLETED,
            created_at__lte=now - FOLLOW_UP_AFTER,
            created_at__gte=now - FOLLOW_UP_AFTER - FOLLOW_UP_WINDOW,
            work_order__status__in=[S.COMPLETED, S.CLOSED],
        )
        .exclude(messages__kind=K.FOLLOW_UP)
        .order_by("created_at")[:limit]
    )
    created: list[int] = []
    for event in done:
        created += messages_create(
            event=event, kind=K.FOLLOW_UP, audiences=(Audience.CUSTOMER,), now=now
        )
    return created
