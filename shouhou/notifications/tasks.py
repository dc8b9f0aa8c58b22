"""Background tasks of the outbox: each takes ids and calls a service; safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from functools import partial

from django.conf import settings
from django.db import close_old_connections, transaction
from django_tasks import task

from shouhou.notifications import services
from shouhou.notifications.enqueue import EventBatcher

logger = logging.getLogger(__name__)


@task()
def deliver_event(event_id: int) -> dict[str, object]:
    """Run every due consumer of one event; schedule its retry if one failed."""
    report = services.event_deliver(event_id=event_id, worker_id=f"pid{os.getpid()}")
    if report.retry_at is not None:
        enqueue_event_delivery(event_id, run_after=report.retry_at)
    return {"delivered": report.delivered, "failed": report.failed, "skipped": report.skipped}


@task()
def deliver_events(event_ids: list[int]) -> dict[str, object]:
    """``deliver_event`` for each of a batch gathered by the web process (notifications.enqueue).

    One event's failure does not stop the others: each schedules its own retry, and an
    unexpected error leaves that event to the sweeper.
    """
    totals: dict[str, list[str]] = {"delivered": [], "failed": [], "skipped": []}
    errors = 0
    for event_id in event_ids:
        try:
            report = deliver_event.call(event_id)
        except Exception:
            errors += 1
            logger.exception("Delivering event %s failed; the sweeper will retry", event_id)
            continue
        for name in totals:
            totals[name] += report[name]  # type: ignore[arg-type]
    return {"events": len(event_ids), "errors": errors, **totals}


def enqueue_event_delivery(event_id: int, *, run_after: dt.datetime | None = None) -> None:
    """Enqueue ``deliver_event`` (deferred when the backend can; else the sweeper retries)."""
    scheduled = deliver_event
    if run_after is not None:
        if not deliver_event.get_backend().supports_defer:
            return
        scheduled = deliver_event.using(run_after=run_after)
    scheduled.enqueue(event_id)


def enqueue_event_deliveries(event_ids: list[int]) -> None:
    """One ``deliver_events`` task for a batch (called on the batcher's thread)."""
    try:
        deliver_events.enqueue(event_ids)
    finally:
        # This thread outlives requests, which is where Django otherwise closes connections:
        # a backend that writes to the database must not keep one open here forever.
        close_old_connections()


_batcher: EventBatcher | None = None
_batcher_lock = threading.Lock()


def event_committed(event_id: int) -> None:
    """The outbox hook: enqueue the event's delivery now, or gather it into a batch
    (``EVENT_ENQUEUE_DELAY_MS``, docs/tasks.md)."""
    global _batcher
    delay = settings.EVENT_ENQUEUE_DELAY_MS / 1000
    if delay <= 0:
        enqueue_event_delivery(event_id)
        return
    if _batcher is None:
        with _batcher_lock:
            if _batcher is None:
                _batcher = EventBatcher(enqueue_event_deliveries, delay=delay)
    _batcher.delay = delay
    _batcher.add(event_id)


def sweep_outbox() -> int:
    """The sweeper job: hand back lost outbox work and enqueue it; how many it enqueued."""
    report = services.outbox_sweep()
    for event_id in sorted(report.enqueue):
        # After commit: on PostgreSQL a worker could otherwise pick the task up before the
        # rows the sweep just reset are visible to it.
        transaction.on_commit(partial(enqueue_event_delivery, event_id))
    if report.enqueue or report.leases_expired:
        logger.info(
            "Outbox sweep: %d re-enqueued, %d expired claims",
            len(report.enqueue),
            report.leases_expired,
        )
    return len(report.enqueue)


@task()
def send_message(message_id: int) -> str | None:
    """Send one message; a deferred retry is scheduled when the backend can defer (otherwise
    the ``notifications.messages`` job picks it up when it falls due)."""
    from shouhou.notifications.messaging import message_send

    result = message_send(message_id=message_id)
    if result.retry_at is not None:
        enqueue_message_send(message_id, run_after=result.retry_at)
    return result.state


def enqueue_message_send(message_id: int, *, run_after: dt.datetime | None = None) -> None:
    scheduled = send_message
    if run_after is not None:
        if not send_message.get_backend().supports_defer:
            return
        scheduled = send_message.using(run_after=run_after)
    scheduled.enqueue(message_id)


def sweep_messages() -> int:
    """The job: enqueue messages that are due (deferral over) or whose sender died."""
    from shouhou.notifications.messaging import messages_due

    due = messages_due()
    for message_id in due:
        transaction.on_commit(partial(enqueue_message_send, message_id))
    return len(due)


def follow_ups() -> int:
    """The job: make the 48-hour follow-up messages that are due and enqueue those to send."""
    from shouhou.notifications.messaging import follow_ups_create

    created = follow_ups_create()
    for message_id in created:
        transaction.on_commit(partial(enqueue_message_send, message_id))
    return len(created)
