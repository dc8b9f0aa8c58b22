"""Live work-order streams: which channels an event goes to, and the SSE stream of a scope.

Every ``WorkOrderEvent`` is published after its transaction commits (``announce`` is called by
``services._event``) to ``order:<id>``, ``org:<id>`` for the owning and the serving
organisation, and ``tech:<id>`` for the order's technician. A stream (docs/live.md) first sends
what the reader missed, read from the database after ``Last-Event-ID``, then the live messages;
the database is the record, the bus only says "something happened".
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet

from shouhou.core import live
from shouhou.workorders.models import WorkOrder, WorkOrderEvent

SSE_EVENT = "workorder"
RETRY_MILLISECONDS = 3000
# Resume sends at most this many missed events; the page reloads its fragment on any of them.
RESUME_LIMIT = 200


def order_channel(order_id: int) -> str:
    return f"order:{order_id}"


def organization_channel(organization_id: int) -> str:
    return f"org:{organization_id}"


def technician_channel(technician_id: int) -> str:
    return f"tech:{technician_id}"


def channels_for(work_order: WorkOrder) -> list[str]:
    channels = [order_channel(work_order.pk), organization_channel(work_order.organization_id)]
    if work_order.service_organization_id:
        channels.append(organization_channel(work_order.service_organization_id))
    if work_order.technician_id:
        channels.append(technician_channel(work_order.technician_id))
    return list(dict.fromkeys(channels))


def message_for(work_order: WorkOrder, event: WorkOrderEvent) -> live.Message:
    """The small payload of one event: no names, no reasons, nothing personal."""
    return {
        "id": event.pk,
        "order": work_order.number,
        "type": event.type,
        "status": work_order.status,
        "at": event.created_at.isoformat(),
        "internal": event.is_internal,
    }


def announce(
    work_order: WorkOrder, event: WorkOrderEvent, *, previous_channels: list[str] | None = None
) -> None:
    """Publish ``event`` once the surrounding transaction commits (nothing if it rolls back).

    The message and channels are taken now, as the order is at the event. ``previous_channels``
    are the order's channels before the change, so a technician or serving organisation that
    just lost the order hears of it too.
    """
    channels = list(dict.fromkeys([*channels_for(work_order), *(previous_channels or [])]))
    message = message_for(work_order, event)
    transaction.on_commit(lambda: live.publish_many(channels, message), robust=True)


# --- scopes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one stream may see: its channels and the events it may resume from."""

    channels: tuple[str, ...]
    events: QuerySet[WorkOrderEvent]
    for_customer: bool = False

    def latest_id(self) -> int:
        """The scope's newest event id: where a customer's page rendered now resumes from."""
        return self.events.aggregate(last=Max("pk"))["last"] or 0


def latest_event_id() -> int:
    """The newest event id overall: where a staff page rendered now resumes from.

    One index lookup instead of a scan of an organisation's events; the stream filters by its
    scope anyway, and staff learn nothing from the number. Never used for customers.
    """
    return WorkOrderEvent.objects.aggregate(last=Max("pk"))["last"] or 0


def page_context(
    *, last: int, stream: str, refresh: str, target: str, order: str = "", keep_query: bool = False
) -> dict[str, Any] | None:
    """What ``workorders/partials/_live.html`` needs: the stream, where to resume, what to fetch.

    ``None`` (no indicator, no stream) when ``LIVE_PAGES`` is off.
    """
    if not settings.LIVE_PAGES:
        return None
    return {
        "stream": stream,
        "last": last,
        "refresh": refresh,
        "target": target,
        "order": order,
        "keep_query": keep_query,
    }


def customer_scope(work_order: WorkOrder) -> Scope:
    """One order as its customer sees it: never an internal event."""
    return Scope(
        channels=(order_channel(work_order.pk),),
        events=WorkOrderEvent.objects.filter(work_order=work_order, is_internal=False),
        for_customer=True,
    )


def technician_scope(technician_ids: list[int]) -> Scope:
    """The jobs of a technician's profiles (one per organisation)."""
    return Scope(
        channels=tuple(technician_channel(pk) for pk in technician_ids),
        events=WorkOrderEvent.objects.filter(work_order__technician_id__in=technician_ids),
    )


def organization_scope(organization_id: int) -> Scope:
    """Everything on the orders an organisation owns or serves (the console)."""
    return Scope(
        channels=(organization_channel(organization_id),),
        events=WorkOrderEvent.objects.filter(
            Q(work_order__organization_id=organization_id)
            | Q(work_order__service_organization_id=organization_id)
        ),
    )


def parse_last_id(header: str | None, query: str | None) -> int | None:
    """``Last-Event-ID`` (sent by the browser on reconnect) or ``?last=``; junk is ignored."""
    for raw in (header, query):
        if raw and raw.strip().isdigit():
            return int(raw.strip())
    return None


def _missed(scope: Scope, last_id: int) -> list[live.Message]:
    events = (
        scope.events.filter(pk__gt=last_id)
        .select_related("work_order")
        .order_by("pk")[:RESUME_LIMIT]
    )
    return [message_for(event.work_order, event) for event in events]


# --- Server-Sent Events ------------------------------------------------------------------------


def sse_message(message: live.Message) -> str:
    public = {key: value for key, value in message.items() if key != "internal"}
    return f"id: {message['id']}\nevent: {SSE_EVENT}\ndata: {json.dumps(public)}\n\n"


def _visible(scope: Scope, message: live.Message, sent: set[int]) -> bool:
    if scope.for_customer and message.get("internal", True):
        return False  # a customer never gets an internal event (or one without the flag)
    return message.get("id") not in sent


def _release_database() -> None:
    """An open stream needs no database connection; give it back (PostgreSQL counts them)."""
    if not connection.in_atomic_block:
        connection.close()


class _Reader:
    """What one stream has sent, and where its next read of the database starts.

    The database is read on connect (after ``Last-Event-ID``) and, when ``LIVE_POLL_SECONDS``
    is set, every so often while the stream is idle: that catches events that no bus message
    announced (made in another process on the in-process bus, or lost while Redis was down).
    """

    def __init__(self, scope: Scope, last_id: int | None) -> None:
        self.scope = scope
        self.cursor = last_id
        self.sent: set[int] = set()
        self.poll_seconds = float(settings.LIVE_POLL_SECONDS)
        self.next_poll = time.monotonic() + self.poll_seconds

    def take(self, message: live.Message) -> str | None:
        if not _visible(self.scope, message, self.sent):
            return None
        self.sent.add(message["id"])
        self.cursor = max(self.cursor or 0, message["id"])
        return sse_message(message)

    def _read(self) -> list[str]:
        chunks = [self.take(message) for message in _missed(self.scope, self.cursor or 0)]
        _release_database()
        return [chunk for chunk in chunks if chunk is not None]

    def start(self) -> list[str]:
        """The events missed since ``last_id`` (none without one)."""
        if self.cursor is not None:
            return self._read()
        if self.poll_seconds:
            self.cursor = self.scope.latest_id() if self.scope.for_customer else latest_event_id()
        _release_database()
        return []

    def due(self) -> bool:
        return bool(self.poll_seconds) and time.monotonic() >= self.next_poll

    def poll(self) -> list[str]:
        self.next_poll = time.monotonic() + self.poll_seconds
        return self._read()


def stream(scope: Scope, last_id: int | None) -> Iterator[str]:
    """The SSE body for a WSGI server: one thread per open stream.

    Subscribe first, then read the missed events, so nothing committed in between is lost;
    an event seen in both is sent once.
    """
    keepalive = settings.LIVE_KEEPALIVE_SECONDS
    ends_at = time.monotonic() + settings.LIVE_STREAM_SECONDS
    reader = _Reader(scope, last_id)
    with live.subscribe(scope.channels) as subscription:
        missed = reader.start()
        # Sent once subscribed and read: whatever commits from now on reaches this stream.
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        yield from missed
        while time.monotonic() < ends_at:
            received = subscription.get(timeout=keepalive)
            if received is None:
                yield ": keep-alive\n\n"
            elif (chunk := reader.take(received)) is not None:
                yield chunk
            if reader.due():
                yield from reader.poll()


async def astream(scope: Scope, last_id: int | None) -> AsyncIterator[str]:
    """The same stream for an ASGI server: many open streams on one event loop."""
    keepalive = settings.LIVE_KEEPALIVE_SECONDS
    ends_at = time.monotonic() + settings.LIVE_STREAM_SECONDS
    reader = _Reader(scope, last_id)
    subscription = await live.asubscribe(scope.channels)
    try:
        missed = await sync_to_async(reader.start)()
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        for catch_up in missed:
            yield catch_up
        while time.monotonic() < ends_at:
            received = await subscription.aget(timeout=keepalive)
            if received is None:
                yield ": keep-alive\n\n"
            elif (chunk := reader.take(received)) is not None:
                yield chunk
            if reader.due():
                for polled in await sync_to_async(reader.poll)():
                    yield polled
    finally:
        await subscription.aclose()


def stream_body(scope: Scope, last_id: int | None, *, asynchronous: bool) -> Any:
    return astream(scope, last_id) if asynchronous else stream(scope, last_id)
