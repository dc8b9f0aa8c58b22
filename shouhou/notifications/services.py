"""Delivering work-order events to their consumers, exactly once per (event, consumer).

The protocol, per (event, consumer):

1. ``EventDelivery`` row made with an insert that ignores conflicts (one row ever).
2. Claim: a conditional UPDATE moves it to ``running`` only if it is due (``pending`` or
   ``retrying`` with ``next_attempt_at`` passed) or its previous claim expired; the winner
   writes a fresh ``claimed_by`` token. Two workers never both win (one statement, one row).
3. Run the handler; then a conditional UPDATE on the same token marks it ``delivered``. For an
   atomic consumer both happen in one transaction, and a lost claim rolls the effect back.
4. On an exception: ``retrying`` with exponential back-off, or ``failed`` after the last attempt.
5. When every consumer's row is settled, the event gets ``delivered_at`` (it leaves the
   outbox's partial index).

A worker killed at any point leaves either a due row or an expired claim; the sweeper
(``outbox_sweep``, run by the scheduler) re-enqueues both, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import traceback
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from shouhou.core.errors import Conflict
from shouhou.notifications.choices import CLAIMABLE, SETTLED, DeliveryState
from shouhou.notifications.consumers import Consumer, DeliveryContext, consumers_for
from shouhou.notifications.models import EventDelivery
from shouhou.workorders.models import WorkOrderEvent

logger = logging.getLogger(__name__)


class ClaimLost(Exception):
    """Our claim expired and another worker took the delivery over; roll back."""


@dataclass
class DeliveryReport:
    """What one pass over an event did; ``retry_at`` is the earliest retry it scheduled."""

    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retry_at: dt.datetime | None = None
    event_settled: bool = False


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.EVENT_DELIVERY_LEASE_SECONDS)


def _claim(*, event_id: int, consumer: str, token: str) -> int:
    """Claim the delivery for ``token``; the attempt number if won, 0 if not."""
    now = timezone.now()
    due = Q(state__in=CLAIMABLE, next_attempt_at__lte=now)
    expired = Q(state=DeliveryState.RUNNING, claimed_until__lt=now)
    rows = EventDelivery.objects.filter(Q(event_id=event_id, consumer=consumer) & (due | expired))
    won = rows.update(
        state=DeliveryState.RUNNING,
        claimed_by=token,
        claimed_until=now + _lease(),
        attempts=F("attempts") + 1,
    )
    if not won:
        return 0
    return EventDelivery.objects.values_list("attempts", flat=True).get(
        event_id=event_id, consumer=consumer
    )


def _mark_delivered(*, event_id: int, consumer: str, token: str) -> bool:
    return bool(
        EventDelivery.objects.filter(
            event_id=event_id, consumer=consumer, state=DeliveryState.RUNNING, claimed_by=token
        ).update(
            state=DeliveryState.DELIVERED,
            delivered_at=timezone.now(),
            claimed_until=None,
            last_error="",
        )
    )


def _mark_failed(
    *, event_id: int, consumer: Consumer, token: str, attempt: int, error: str
) -> dt.datetime | None:
    """Schedule the retry (or give up); the retry time, None if given up or claim lost."""
    now = timezone.now()
    rows = EventDelivery.objects.filter(
        event_id=event_id, consumer=consumer.name, state=DeliveryState.RUNNING, claimed_by=token
    )
    if attempt >= consumer.max_attempts:
        rows.update(state=DeliveryState.FAILED, claimed_until=None, last_error=error)
        logger.error("Gave up delivering event %s to %s", event_id, consumer.name)
        return None
    retry_at = now + dt.timedelta(seconds=consumer.retry_delay(attempt))
    if not rows.update(
        state=DeliveryState.RETRYING, claimed_until=None, next_attempt_at=retry_at, last_error=error
    ):
        return None
    return retry_at


def _run(*, event: WorkOrderEvent, consumer: Consumer, token: str, attempt: int) -> bool:
    context = DeliveryContext(event_id=event.pk, consumer=consumer.name, attempt=attempt)
    if not consumer.atomic:
        consumer.handler(event, context)
        if not _mark_delivered(event_id=event.pk, consumer=consumer.name, token=token):
            # Our claim expired while the handler ran and another worker took over; the
            # handler's effect is idempotent on ``context.key``, so running twice is harmless.
            logger.warning("Delivery of event %s to %s was taken over", event.pk, consumer.name)
            return False
        return True
    with transaction.atomic():
        consumer.handler(event, context)
        if not _mark_delivered(event_id=event.pk, consumer=consumer.name, token=token):
            raise ClaimLost
    return True


def event_settle(*, event_id: int) -> bool:
    """Mark the event delivered if every consumer that wants it is done; True if it is."""
    event = WorkOrderEvent.objects.filter(pk=event_id).first()
    if event is None:
        return False
    if event.delivered_at is not None:
        return True
    wanted = {c.name for c in consumers_for(event)}
    settled = set(
        EventDelivery.objects.filter(event_id=event_id, state__in=SETTLED).values_list(
            "consumer", flat=True
        )
    )
    if not wanted <= settled:
        return False
    WorkOrderEvent.objects.filter(pk=event_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    return True


def event_deliver(*, event_id: int, worker_id: str = "") -> DeliveryReport:
    """Run every consumer of the event that is due and not yet done. Safe to call any time,
    from any number of workers at once; a missing or already delivered event is a no-op."""
    report = DeliveryReport()
    event = WorkOrderEvent.objects.filter(pk=event_id, delivered_at__isnull=True).first()
    if event is None:
        report.event_settled = True
        return report
    consumers = consumers_for(event)
    now = timezone.now()
    EventDelivery.objects.bulk_create(
        [EventDelivery(event=event, consumer=c.name, next_attempt_at=now) for c in consumers],
        ignore_conflicts=True,
    )
    for consumer in consumers:
        token = f"{worker_id[:40]}:{secrets.token_hex(8)}"
        attempt = _claim(event_id=event.pk, consumer=consumer.name, token=token)
        if not attempt:
            report.skipped.append(consumer.name)
            continue
        try:
            done = _run(event=event, consumer=consumer, token=token, attempt=attempt)
        except ClaimLost:
            report.skipped.append(consumer.name)
            continue
        except Exception:
            logger.exception("Consumer %s failed on event %s", consumer.name, event.pk)
            retry_at = _mark_failed(
                event_id=event.pk,
                consumer=consumer,
                token=token,
                attempt=attempt,
                error=traceback.format_exc()[-4000:],
            )
            report.failed.append(consumer.name)
            if retry_at and (report.retry_at is None or retry_at < report.retry_at):
                report.retry_at = retry_at
            continue
        (report.delivered if done else report.skipped).append(consumer.name)
    report.event_settled = event_settle(event_id=event.pk)
    return report


@dataclass
class SweepReport:
    enqueue: set[int] = field(default_factory=set)
    leases_expired: int = 0
    settled: int = 0


def outbox_sweep(*, limit: int = 500) -> SweepReport:
    """Find outbox work that nobody is doing and hand it back (the caller enqueues).

    - deliveries whose claim expired (their worker died): back to ``retrying``, due now;
    - events older than ``EVENT_SWEEP_AFTER_SECONDS`` with a consumer that has no row yet
      (the enqueue after commit never ran, or the worker died before making the rows);
    - due deliveries nobody picked up for ``EVENT_SWEEP_AFTER_SECONDS`` (a lost task);
    - events whose consumers are all settled but which are not marked delivered.

    Idempotent: rows it hands back are made due *now*, so the next sweep leaves them alone
    for another ``EVENT_SWEEP_AFTER_SECONDS`` while the enqueued task runs.
    """
    report = SweepReport()
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)

    expired = EventDelivery.objects.filter(state=DeliveryState.RUNNING, claimed_until__lt=now)
    expired_events = set(expired.values_list("event_id", flat=True)[:limit])
    report.leases_expired = expired.filter(event_id__in=expired_events).update(
        state=DeliveryState.RETRYING,
        next_attempt_at=now,
        claimed_until=None,
        last_error="The claim expired: the worker was lost before it finished.",
    )
    report.enqueue |= expired_events

    lost = EventDelivery.objects.filter(state__in=CLAIMABLE, next_attempt_at__lt=stale)
    lost_ids = list(lost.values_list("pk", flat=True)[:limit])
    report.enqueue |= set(
        EventDelivery.objects.filter(pk__in=lost_ids).values_list("event_id", flat=True)
    )
    EventDelivery.objects.filter(pk__in=lost_ids, state__in=CLAIMABLE).update(next_attempt_at=now)

    unsettled = EventDelivery.objects.filter(event=OuterRef("pk")).exclude(state__in=SETTLED)
    candidates = (
        WorkOrderEvent.objects.filter(delivered_at__isnull=True, created_at__lt=stale)
        .exclude(Exists(unsettled))
        .order_by("created_at")
        .prefetch_related("deliveries")[:limit]
    )
    for event in candidates:
        wanted = {c.name for c in consumers_for(event)}
        present = {d.consumer for d in event.deliveries.all()}
        missing = wanted - present
        if missing:
            EventDelivery.objects.bulk_create(
                [
                    EventDelivery(event=event, consumer=name, next_attempt_at=now)
                    for name in missing
                ],
                ignore_conflicts=True,
            )
            report.enqueue.add(event.pk)
        elif WorkOrderEvent.objects.filter(pk=event.pk, delivered_at__isnull=True).update(
            delivered_at=now
        ):
            report.settled += 1
    return report


class DeliveryNotReplayable(Conflict):
    code = "delivery_not_replayable"


@transaction.atomic
def delivery_replay(*, delivery: EventDelivery) -> EventDelivery:
    """Deliver again from the console: a failed or delivered row becomes due now.

    Refuses a delivery that is running. Replaying a delivered row runs its side effect again
    on purpose (the receiver asked for it), with the same idempotency key.
    """
    from django.utils.translation import gettext as _

    locked = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
    if (
        locked.state == DeliveryState.RUNNING
        and locked.claimed_until
        and (locked.claimed_until > timezone.now())
    ):
        raise DeliveryNotReplayable(_("This delivery is running now; try again in a moment."))
    locked.state = DeliveryState.PENDING
    locked.next_attempt_at = timezone.now()
    locked.delivered_at = None
    locked.claimed_until = None
    locked.attempts = 0
    locked.save(
        update_fields=["state", "next_attempt_at", "delivered_at", "claimed_until", "attempts"]
    )
    WorkOrderEvent.objects.filter(pk=locked.event_id).update(delivered_at=None)
    return locked
