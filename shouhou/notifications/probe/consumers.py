"""Two slow probe consumers: one idempotent on its key (outside world), one atomic."""

from __future__ import annotations

import os
import time

from django.db import IntegrityError, transaction
from django.db.models import F

from shouhou.notifications.consumers import DeliveryContext, consumer
from shouhou.notifications.probe.models import DeliveryProbe
from shouhou.workorders.models import WorkOrderEvent


def _sleep() -> None:
    time.sleep(float(os.environ.get("SHOUHOU_PROBE_SLEEP", "0")))


def record(event: WorkOrderEvent, delivery: DeliveryContext) -> None:
    """Upsert the side effect on the delivery's idempotency key, counting runs."""
    if DeliveryProbe.objects.filter(key=delivery.key).update(runs=F("runs") + 1):
        return
    try:
        with transaction.atomic():
            DeliveryProbe.objects.create(
                key=delivery.key, event_id=event.pk, consumer=delivery.consumer
            )
    except IntegrityError:
        DeliveryProbe.objects.filter(key=delivery.key).update(runs=F("runs") + 1)


def probe_idempotent(event: WorkOrderEvent, delivery: DeliveryContext) -> None:
    _sleep()
    record(event, delivery)


def probe_atomic(event: WorkOrderEvent, delivery: DeliveryContext) -> None:
    record(event, delivery)
    _sleep()


def register() -> None:
    consumer("probe.idempotent", retry_base_seconds=1)(probe_idempotent)
    consumer("probe.atomic", atomic=True, retry_base_seconds=1)(probe_atomic)
