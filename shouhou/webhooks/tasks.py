from __future__ import annotations

import os

from django_tasks import task

from shouhou.webhooks import services


@task()
def send_webhook(delivery_id: int) -> bool:
    """Send one webhook delivery; schedule its retry when it failed. True if delivered."""
    report = services.webhook_deliver(delivery_id=delivery_id, worker_id=f"pid{os.getpid()}")
    if report.retry_at is not None and send_webhook.get_backend().supports_defer:
        send_webhook.using(run_after=report.retry_at).enqueue(delivery_id)
    return report.sent
