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


class NotificationKind(models.TextChoices):
    """What a message is about: one per template family (event × audience × channel × language)."""

    ACCEPTED = "accepted", _("Order accepted")
    ASSIGNED = "assigned", _("Technician assigned")
    APPOINTMENT_CONFIRMED = "appointment_confirmed", _("Appointment confirmed")
    APPOINTMENT_CHANGED = "appointment_changed", _("Appointment changed")
    EN_ROUTE = "en_route", _("Technician on the way")
    COMPLETED = "completed", _("Service completed")
    RATING_INVITATION = "rating_invitation", _("Rating invitation")
    FOLLOW_UP = "follow_up", _("48-hour follow-up")
    URGED = "urged", _("Customer urged")
    LOW_RATING = "low_rating", _("Low rating")
    SLA_WARNING = "sla_warning", _("SLA warning")
    OFFERED = "offered", _("Job offered to a technician")


class NotificationChannel(models.TextChoices):
    INAPP = "inapp", _("In-app inbox")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    WEBPUSH = "webpush", _("Browser push")


class Audience(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    TECHNICIAN = "technician", _("Technician")
    STAFF = "staff", _("Staff")


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")  # due at next_attempt_at
    DEFERRED = "deferred", _("Deferred")  # quiet hours, rate limit or back-off: due later
    SENDING = "sending", _("Sending")  # claimed by a worker until claimed_until
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # permanent failure or out of attempts
    SUPPRESSED = "suppressed", _("Not sent (turned off)")  # recorded, never sent


MESSAGE_DUE = (MessageState.QUEUED, MessageState.DEFERRED)
