"""Writes for ratings and follow-ups."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhou.accounts.models import Outlet
from shouhou.core.errors import Conflict, DomainError
from shouhou.dispatch.models import Technician
from shouhou.feedback.models import FollowUp, FollowUpStatus, Rating
from shouhou.workorders.choices import AttachmentKind, EventType, WorkOrderStatus
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, attachment_add, workorder_log

FOLLOW_UP_THRESHOLD = 2
MAX_RATING_PHOTOS = 9


class RatingInvalid(DomainError):
    code = "rating_invalid"


@transaction.atomic
def rating_submit(
    *,
    work_order: WorkOrder,
    actor: Actor,
    attitude: int,
    professionalism: int,
    responsiveness: int,
    transparency: int,
    comment: str = "",
    photos: list[Any] | None = None,
) -> Rating:
    """Rate a completed or closed order, once. Updates the technician's and the outlet's
    scores, and opens a follow-up for staff when the average is 2 or less."""
    scores = (attitude, professionalism, responsiveness, transparency)
    if any(not isinstance(score, int) or not 1 <= score <= 5 for score in scores):
        raise RatingInvalid(_("Give every question 1 to 5 stars."))
    photos = photos or []
    if len(photos) > MAX_RATING_PHOTOS:
        raise RatingInvalid(_("Up to 9 photos."))
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    if locked.status not in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED):
        raise Conflict(_("You can rate the service once it is completed."))
    average = Rating.average_of(*scores)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                work_order=locked,
                organization_id=locked.organization_id,
                technician_id=locked.technician_id,
                outlet_id=locked.outlet_id,
                rated_by=actor.user,
                attitude=attitude,
                professionalism=professionalism,
                responsiveness=responsiveness,
                transparency=transparency,
                average=average,
                comment=comment.strip(),
            )
    except IntegrityError:
        raise Conflict(_("This service has already been rated. Thank you!")) from None
    for photo in photos:
        attachment_add(
            work_order=locked, actor=actor, kind=AttachmentKind.RATING_PHOTO, upload=photo
        )
    # Counters move with F() so concurrent ratings never lose an update.
    if locked.technician_id:
        Technician.objects.filter(pk=locked.technician_id).update(
            rating_total=F("rating_total") + average, rating_count=F("rating_count") + 1
        )
    if locked.outlet_id:
        Outlet.objects.filter(pk=locked.outlet_id).update(
            rating_total=F("rating_total") + average, rating_count=F("rating_count") + 1
        )
    workorder_log(
        work_order=locked,
        type=EventType.RATED,
        actor=actor,
        data={"average": str(average), "scores": list(scores)},
    )
    if average <= FOLLOW_UP_THRESHOLD:
        FollowUp.objects.create(
            organization_id=locked.organization_id,
            work_order=locked,
            rating=rating,
            reason=_("Low rating (%(average)s of 5)") % {"average": average},
        )
    return rating


@transaction.atomic
def follow_up_resolve(*, follow_up: FollowUp, actor: Actor, resolution: str) -> FollowUp:
    """Close a follow-up with what was done (called back, refunded, revisit booked)."""
    if not resolution.strip():
        raise DomainError(_("Write what was done."))
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.status == FollowUpStatus.DONE:
        return locked
    locked.status = FollowUpStatus.DONE
    locked.resolution = resolution.strip()
    locked.resolved_at = timezone.now()
    locked.assignee = locked.assignee or actor.user
    locked.save(update_fields=["status", "resolution", "resolved_at", "assignee", "updated_at"])
    return locked
