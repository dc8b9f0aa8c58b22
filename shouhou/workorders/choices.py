"""Choices of the work order, with the words staff and customers see for each status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WorkOrderStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")  # 待受理: created, not yet accepted
    ACCEPTED = "accepted", _("Accepted")  # 已受理: triaged, waiting for dispatch
    ASSIGNED = "assigned", _("Assigned")  # 已派单: an outlet or technician has taken it
    SCHEDULED = "scheduled", _("Scheduled")  # 已预约: a visit or drop-off time is agreed
    IN_SERVICE = "in_service", _("In service")  # 维修中: work started
    ON_HOLD = "on_hold", _("On hold")  # 挂起: waiting for parts, approval or the customer
    COMPLETED = "completed", _("Completed")  # 已完成: done, waiting for confirmation
    CLOSED = "closed", _("Closed")  # 已关闭: confirmed and settled; terminal
    CANCELLED = "cancelled", _("Cancelled")  # 已取消: terminal


S = WorkOrderStatus

# status -> the statuses it may move to. The one transition function enforces this table.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.ASSIGNED, S.ON_HOLD, S.CANCELLED}),
    # back to ACCEPTED when the technician declines or the dispatcher takes it back
    S.ASSIGNED: frozenset({S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE, S.ON_HOLD, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.ACCEPTED, S.ASSIGNED, S.IN_SERVICE, S.ON_HOLD, S.CANCELLED}),
    # back to ASSIGNED when a visit ends without a fix and another visit is needed
    S.IN_SERVICE: frozenset({S.COMPLETED, S.ON_HOLD, S.ASSIGNED}),
    # resuming goes back to where the order was held (the service checks which)
    S.ON_HOLD: frozenset({S.ACCEPTED, S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE, S.CANCELLED}),
    # the customer may reject the completion: the work goes on
    S.COMPLETED: frozenset({S.CLOSED, S.IN_SERVICE}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL: Final[frozenset[str]] = frozenset({S.CLOSED, S.CANCELLED})
# Until service starts the customer may cancel or reschedule on their own.
CUSTOMER_CANCELLABLE: Final[frozenset[str]] = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.SCHEDULED}
)
OPEN: Final[frozenset[str]] = frozenset(set(S.values) - TERMINAL - {S.COMPLETED})

# The customer's words for each status (Midea-style timeline: 待受理, 已接单, 工程师上门时间,
# 维修中, 服务完成).
CUSTOMER_LABELS: Final[Mapping[str, object]] = {
    S.SUBMITTED: pgettext_lazy("customer status", "Waiting to be accepted"),
    S.ACCEPTED: pgettext_lazy("customer status", "Accepted"),
    S.ASSIGNED: pgettext_lazy("customer status", "Taken by an engineer"),
    S.SCHEDULED: pgettext_lazy("customer status", "Appointment set"),
    S.IN_SERVICE: pgettext_lazy("customer status", "Being repaired"),
    S.ON_HOLD: pgettext_lazy("customer status", "Waiting (parts or confirmation)"),
    S.COMPLETED: pgettext_lazy("customer status", "Service completed"),
    S.CLOSED: pgettext_lazy("customer status", "Closed"),
    S.CANCELLED: pgettext_lazy("customer status", "Cancelled"),
}

# Badge colour beside each status (NetBox-style), used by the console and the timeline.
STATUS_COLOURS: Final[Mapping[str, str]] = {
    S.SUBMITTED: "orange",
    S.ACCEPTED: "blue",
    S.ASSIGNED: "blue",
    S.SCHEDULED: "blue",
    S.IN_SERVICE: "purple",
    S.ON_HOLD: "grey",
    S.COMPLETED: "green",
    S.CLOSED: "green",
    S.CANCELLED: "grey",
}


class FulfilmentMode(models.TextChoices):
    ON_SITE = "on_site", _("On site")
    CARRY_IN = "carry_in", _("Carry in")
    MAIL_IN = "mail_in", _("Mail in")
    REMOTE = "remote", _("Remote")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone call")
    APP = "app", _("App")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK: Final[Mapping[str, int]] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


class VisitOutcome(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    NEEDS_PARTS = "needs_parts", _("Needs parts")
    NEEDS_REVISIT = "needs_revisit", _("Needs another visit")
    CUSTOMER_ABSENT = "customer_absent", _("Customer absent")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    EN_ROUTE = "en_route", _("On the way")
    ON_SITE = "on_site", _("On site")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class AttachmentKind(models.TextChoices):
    FAULT_PHOTO = "fault_photo", _("Fault photo")
    FAULT_VIDEO = "fault_video", _("Fault video")
    BEFORE_PHOTO = "before_photo", _("Before photo")
    AFTER_PHOTO = "after_photo", _("After photo")
    SIGNATURE = "signature", _("Customer signature")
    RATING_PHOTO = "rating_photo", _("Rating photo")


class EventType(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    TRIAGED = "triaged", _("Triaged")
    OUTLET_ASSIGNED = "outlet_assigned", _("Outlet assigned")
    TECHNICIAN_ASSIGNED = "technician_assigned", _("Technician assigned")
    ASSIGNMENT_ACCEPTED = "assignment_accepted", _("Assignment accepted")
    ASSIGNMENT_DECLINED = "assignment_declined", _("Assignment declined")
    APPOINTMENT_PROPOSED = "appointment_proposed", _("Appointment proposed")
    APPOINTMENT_CONFIRMED = "appointment_confirmed", _("Appointment confirmed")
    APPOINTMENT_CHANGED = "appointment_changed", _("Appointment changed")
    EN_ROUTE = "en_route", _("On the way")
    CHECKED_IN = "checked_in", _("Checked in")
    DEVICE_RECEIVED = "device_received", _("Device received")
    DIAGNOSED = "diagnosed", _("Diagnosed")
    WORK_REPORTED = "work_reported", _("Work reported")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    HANDED_OVER = "handed_over", _("Handed over")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    SIGNED = "signed", _("Signed by the customer")
    HELD = "held", _("Put on hold")
    RESUMED = "resumed", _("Resumed")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    COMPLETION_CONFIRMED = "completion_confirmed", _("Completion confirmed")
    COMPLETION_REJECTED = "completion_rejected", _("Completion rejected")
    URGED = "urged", _("Customer urged")
    NOTE_ADDED = "note_added", _("Internal note")
    RATED = "rated", _("Rated")
    # dispatch modes (issue 4): offers, the job pool, nobody left to ask
    OFFERED = "offered", _("Offered to a technician")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    OFFER_EXPIRED = "offer_expired", _("Offer expired")
    POOL_PUBLISHED = "pool_published", _("Put in the job pool")
    POOL_EXPIRED = "pool_expired", _("Nobody took it from the job pool")
    DISPATCH_UNMATCHED = "dispatch_unmatched", _("No technician found; back to the dispatcher")
    # SLA clocks (the sla app's periodic job): once per clock each
    SLA_WARNING = "sla_warning", _("SLA about to be breached")
    SLA_BREACHED = "sla_breached", _("SLA breached")
