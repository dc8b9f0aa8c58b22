"""The ``webhooks`` event consumer: fan an event out to the organisation's endpoints."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from shouhou.notifications.consumers import DeliveryContext, consumer
from shouhou.webhooks.services import webhook_deliveries_create
from shouhou.workorders.models import WorkOrderEvent


@consumer("webhooks", atomic=True)
def fan_out(event: WorkOrderEvent, delivery: DeliveryContext) -> None:
    """Atomic: the delivery rows are committed exactly once with the consumer's receipt."""
    from shouhou.webhooks.tasks import send_webhook

    for delivery_id in webhook_deliveries_create(event=event):
        transaction.on_commit(partial(send_webhook.enqueue, delivery_id))
