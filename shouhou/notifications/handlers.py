"""The ``notifications`` event consumer: turn work-order events into messages to people."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from shouhou.notifications.choices import MessageState
from shouhou.notifications.consumers import DeliveryContext, consumer
from shouhou.notifications.messaging import messages_create_for_event
from shouhou.notifications.models import Message
from shouhou.workorders.models import WorkOrderEvent


@consumer("notifications", atomic=True)
def notify(event: WorkOrderEvent, delivery: DeliveryContext) -> None:
    """Atomic: the Message rows commit exactly once with the consumer's receipt; each is sent
    by its own task after the commit (deferred ones when they fall due)."""
    from shouhou.notifications.tasks import enqueue_message_send

    new_ids = messages_create_for_event(event=event)
    for pk, state, due in Message.objects.filter(pk__in=new_ids).values_list(
        "pk", "state", "next_attempt_at"
    ):
        if state == MessageState.QUEUED:
            transaction.on_commit(partial(enqueue_message_send, pk))
        elif state == MessageState.DEFERRED:
            transaction.on_commit(partial(enqueue_message_send, pk, run_after=due))
