from __future__ import annotations

import datetime as dt

from django.conf import settings

from shouhou.core.scheduler import periodic
from shouhou.webhooks.services import webhook_sweep
from shouhou.webhooks.tasks import send_webhook


@periodic("webhooks.sweep", every=dt.timedelta(seconds=settings.EVENT_SWEEP_INTERVAL_SECONDS))
def sweep_webhooks() -> None:
    """Enqueue webhook deliveries whose worker died or whose task was lost."""
    for delivery_id in sorted(webhook_sweep()):
        send_webhook.enqueue(delivery_id)
