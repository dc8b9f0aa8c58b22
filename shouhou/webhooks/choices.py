from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Sending")
    RETRYING = "retrying", _("Will retry")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


CLAIMABLE = (WebhookDeliveryState.PENDING, WebhookDeliveryState.RETRYING)


class WebhookDisabledReason(models.TextChoices):
    MANUAL = "manual", _("Disabled by an administrator")
    FAILING = "failing", _("Disabled automatically: every delivery failed")


PING = "ping"
"""The event type of a test delivery (the console's "Send test event", ``POST .../test/``)."""

# Work-order event types that are only ever written as internal (staff notes, triage, the
# dispatch engine's offers): never sent, so never offered as a subscription.
INTERNAL_EVENT_TYPES = frozenset(
    {
        "triaged",
        "note_added",
        "offered",
        "offer_declined",
        "offer_expired",
        "pool_published",
        "pool_expired",
        "dispatch_unmatched",
    }
)
