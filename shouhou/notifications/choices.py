from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")  # row made, not tried yet
    RUNNING = "running", _("Running")  # claimed by a worker until claimed_until
    RETRYING = "retrying", _("Will retry")  # failed; tried again at next_attempt_at
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")  # out of attempts; replay from the console


CLAIMABLE = (DeliveryState.PENDING, DeliveryState.RETRYING)
SETTLED = (DeliveryState.DELIVERED, DeliveryState.FAILED)
