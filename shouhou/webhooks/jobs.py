from __future__ import annotations

import datetime as dt

from django.conf import settings

from shouhou.core.scheduler import periodic
from shouhou.webhooks.services import webhook_endpoints_disable_failing, webhook_sweep
from shouhou.webhooks.tasks import send_webhook


@periodic("webhooks.sweep", every=dt.timedelta(seconds=settings.EVENT_SWEEP_INTERVAL_SECONDS))
def sweep_webhooks() -> None:
    """Enqueue webhook deliveries whose worker died or whose task was lost."""
    for delivery_id in sorted(webhook_sweep()):
        send_webhook.enqueue(delivery_id)


@periodic("webhooks.disable_failing", every=dt.timedelta(hours=1))
def disable_failing_endpoints() -> None:
    """Disable endpoints that failed every attempt for WEBHOOK_DISABLE_AFTER_SECONDS."""
    webhook_endpoints_disable_failing()
