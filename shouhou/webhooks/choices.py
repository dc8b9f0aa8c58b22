from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Sending")
    RETRYING = "retrying", _("Will retry")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


CLAIMABLE = (WebhookDeliveryState.PENDING, WebhookDeliveryState.RETRYING)
