"""Background tasks of the outbox: each takes ids and calls a service; safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging
import os
from functools import partial

from django.db import transaction
from django_tasks import task

from shouhou.notifications import services

logger = logging.getLogger(__name__)


@task()
def deliver_event(event_id: int) -> dict[str, object]:
    """Run every due consumer of one event; schedule its retry if one failed."""
    report = services.event_deliver(event_id=event_id, worker_id=f"pid{os.getpid()}")
    if report.retry_at is not None:
        enqueue_event_delivery(event_id, run_after=report.retry_at)
    return {"delivered": report.delivered, "failed": report.failed, "skipped": report.skipped}


def enqueue_event_delivery(event_id: int, *, run_after: dt.datetime | None = None) -> None:
    """Enqueue ``deliver_event`` (deferred when the backend can; else the sweeper retries)."""
    scheduled = deliver_event
    if run_after is not None:
        if not deliver_event.get_backend().supports_defer:
            return
        scheduled = deliver_event.using(run_after=run_after)
    scheduled.enqueue(event_id)


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
