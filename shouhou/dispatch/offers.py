"""Dispatch modes: what happens when an order is accepted, offers with a timeout, the job pool.

Writes only (reads are in ``dispatch.selectors``). Every change to the work order itself goes
through the work-order services (``workorder_assign_technician``, ``workorder_log``, ...) so
the order's events, the assignment explanation and the status machine stay in one place.
This module is separate from ``dispatch.services`` because ``workorders.services`` imports
that one (technician status) and this one imports ``workorders.services``.

Modes (``DispatchPolicy.mode``, per service type ``DispatchModeOverride``):

- ``manual``: nothing happens on acceptance; a dispatcher assigns.
- ``auto``: the best-ranked technician is assigned at once; if they give the job back on the
  workbench the next-ranked one is assigned.
- ``offer``: the best-ranked technician is offered the job until ``expires_at`` (3 minutes by
  default); on a decline or a timeout the next-ranked one gets the offer.
- ``pool`` (工单池/抢单): the job waits in the pool; qualified technicians nearby see it and
  the first to grab it wins (one conditional UPDATE decides).

Every try is a ``DispatchAttempt``; technicians who declined or let an offer expire are not
asked again for the same order. When nobody eligible is left the order stays with the
dispatcher (status ``accepted``) with a ``dispatch_unmatched`` event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhou.core.errors import Conflict
from shouhou.core.transactions import service_atomic
from shouhou.dispatch.models import (
    AttemptOutcome,
    DispatchAttempt,
    DispatchMode,
    Technician,
)
from shouhou.dispatch.selectors import (
    dispatch_policy_cached,
    mode_overrides_cached,
    technician_suggestions,
)
from shouhou.workorders import services as workorder_services
from shouhou.workorders.choices import EventType, FulfilmentMode, WorkOrderStatus
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor

DEFAULT_OFFER_TIMEOUT = dt.timedelta(minutes=3)
DEFAULT_POOL_TIMEOUT = dt.timedelta(minutes=30)
_AT_OUTLET = (FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN)
# Technicians who already said no (or did not answer) are not asked again for the same order.
_REFUSED = (AttemptOutcome.DECLINED, AttemptOutcome.EXPIRED)


class OfferClosed(Conflict):
    """The offer was already answered, expired, or the order went another way."""

    code = "offer_closed"


class PoolJobTaken(Conflict):
    """Somebody else grabbed the pooled job first (or it left the pool)."""

    code = "pool_job_taken"


class PoolJobNotEligible(Conflict):
    """The technician does not meet the job's hard constraints (skills, area, shift, load)."""

    code = "pool_job_not_eligible"


@dataclass(frozen=True)
class DispatchSettings:
    mode: str
    offer_timeout: dt.timedelta
    pool_timeout: dt.timedelta


def dispatch_settings_for(work_order: WorkOrder) -> DispatchSettings:
    """The mode and times that apply to this order: the service type's override, else the
    owning organisation's policy, else manual with the default times."""
    policy = dispatch_policy_cached(work_order.organization_id)
    override = mode_overrides_cached(work_order.organization_id).get(work_order.service_type_id)
    mode = override or (policy.mode if policy else DispatchMode.MANUAL)
    return DispatchSettings(
        mode=mode,
        offer_timeout=(
            dt.timedelta(seconds=policy.offer_timeout_seconds) if policy else DEFAULT_OFFER_TIMEOUT
        ),
        pool_timeout=(
            dt.timedelta(seconds=policy.pool_timeout_seconds) if policy else DEFAULT_POOL_TIMEOUT
        ),
    )


def _system() -> Actor:
    return Actor(user=None, role="dispatch")


@dataclass(frozen=True)
class _History:
    """The order's attempts so far, read once: is one pending, who refused, the next number."""

    pending: bool
    refused: frozenset[int]
    next_sequence: int


def _history(work_order: WorkOrder) -> _History:
    rows = list(
        DispatchAttempt.objects.filter(work_order=work_order).values_list(
            "technician_id", "outcome", "sequence"
        )
    )
    return _History(
        pending=any(outcome == AttemptOutcome.PENDING for _t, outcome, _s in rows),
        refused=frozenset(
            technician
            for technician, outcome, _s in rows
            if technician is not None and outcome in _REFUSED
        ),
        next_sequence=max((sequence for _t, _o, sequence in rows), default=0) + 1,
    )


def _next_sequence(work_order: WorkOrder) -> int:
    last = DispatchAttempt.objects.filter(work_order=work_order).aggregate(n=Max("sequence"))["n"]
    return (last or 0) + 1


def _best_candidate(
    work_order: WorkOrder, now: dt.datetime, refused: frozenset[int]
) -> tuple[Technician, dict[str, Any]] | None:
    """The best-ranked technician not yet refused for this order, with the explanation."""
    ranking = technician_suggestions(work_order=work_order, limit=len(refused) + 1, at=now)
    eligible = ranking.considered - sum(ranking.excluded.values())
    for place, candidate in enumerate(ranking.candidates, 1):
        if candidate.technician_id in refused:
            continue
        technician = Technician.objects.select_related("user", "organization", "outlet").get(
            pk=candidate.technician_id
        )
        explanation = {
            "place": place,
            "of": eligible,
            "score": candidate.score,
            **candidate.breakdown,
        }
        return technician, explanation
    return None


def _unmatched(work_order: WorkOrder, mode: str, now: dt.datetime) -> None:
    refused = DispatchAttempt.objects.filter(work_order=work_order, outcome__in=_REFUSED).count()
    workorder_services.workorder_log(
        work_order=work_order,
        type=EventType.DISPATCH_UNMATCHED,
        actor=_system(),
        reason=_("No eligible technician is left; a dispatcher must assign this order."),
        data={"mode": mode, "refused": refused},
        is_internal=True,
    )


def _dispatch_next(
    work_order: WorkOrder,
    settings: DispatchSettings,
    now: dt.datetime,
    history: _History | None = None,
) -> DispatchAttempt | None:
    """Start the next attempt in ``settings.mode`` for an accepted order the caller locked
    (``history``: its attempts, when the caller has just read them)."""
    history = history or _history(work_order)
    if settings.mode == DispatchMode.POOL:
        return _pool_publish(work_order, settings, now, history.next_sequence)
    best = _best_candidate(work_order, now, history.refused)
    if best is None:
        _unmatched(work_order, settings.mode, now)
        return None
    technician, explanation = best
    attempt = DispatchAttempt.objects.create(
        organization_id=work_order.organization_id,
        work_order=work_order,
        mode=settings.mode,
        technician=technician,
        sequence=history.next_sequence,
        offered_at=now,
        expires_at=now + settings.offer_timeout if settings.mode == DispatchMode.OFFER else None,
        explanation=explanation,
    )
    if settings.mode == DispatchMode.AUTO:
        # The assignment hook below need not look the attempt up: it is this one.
        work_order._dispatch_attempt = attempt  # type: ignore[attr-defined]
        workorder_services.workorder_assign_technician(
            work_order=work_order,
            technician=technician,
            actor=_system(),
            explanation={"mode": DispatchMode.AUTO, **explanation},
            held=True,
        )
    else:
        assert attempt.expires_at is not None
        workorder_services.workorder_log(
            work_order=work_order,
            type=EventType.OFFERED,
            actor=_system(),
            data={
                "technician": str(technician),
                "technician_id": technician.pk,
                "attempt_id": attempt.pk,
                "expires_at": attempt.expires_at.isoformat(),
                "explanation": explanation,
            },
            is_internal=True,
        )
    return attempt


def _pool_publish(
    work_order: WorkOrder, settings: DispatchSettings, now: dt.datetime, sequence: int
) -> DispatchAttempt:
    expires_at = now + settings.pool_timeout
    attempt = DispatchAttempt.objects.create(
        organization_id=work_order.organization_id,
        work_order=work_order,
        mode=DispatchMode.POOL,
        sequence=sequence,
        offered_at=now,
        expires_at=expires_at,
    )
    workorder_services.workorder_log(
        work_order=work_order,
        type=EventType.POOL_PUBLISHED,
        actor=_system(),
        data={"attempt_id": attempt.pk, "expires_at": expires_at.isoformat()},
        is_internal=True,
    )
    return attempt


def _lock_order(work_order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update().get(pk=work_order.pk)


@service_atomic
def dispatch_on_accept(
    *,
    work_order: WorkOrder,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
    held: bool = False,
) -> DispatchAttempt | None:
    """Start dispatch for an order that was just accepted, in the mode that applies to it.

    Returns the attempt made (an assignment, an offer or a pool entry), or None in manual
    mode, for carry-in and mail-in orders (they go to an outlet), when nobody is eligible
    (the order stays with the dispatcher, with an event), or when the order is not waiting
    for dispatch or already has a pending attempt. ``held``: ``work_order`` is the row the
    caller locked in this transaction (the accept hook); an automatic assignment changes it.
    """
    locked = work_order if held else _lock_order(work_order)
    if locked.status != WorkOrderStatus.ACCEPTED or locked.technician_id is not None:
        return None
    if locked.fulfilment_mode in _AT_OUTLET:
        # Carry-in and mail-in orders go to an outlet, chosen by a dispatcher (outlet matching
        # is not built yet); the modes find technicians.
        return None
    settings = dispatch_settings_for(locked)
    if settings.mode == DispatchMode.MANUAL:
        return None
    history = _history(locked)
    if history.pending:
        return None
    return _dispatch_next(locked, settings, now or timezone.now(), history)


@service_atomic
def pool_publish(
    *, work_order: WorkOrder, actor: Actor, now: dt.datetime | None = None
) -> DispatchAttempt:
    """Put an accepted order in the job pool (a dispatcher may do this whatever the mode).

    Refuses an order that is not waiting for dispatch or already has an open offer or pool
    entry."""
    locked = _lock_order(work_order)
    if locked.status != WorkOrderStatus.ACCEPTED:
        raise Conflict(_("Only accepted orders waiting for dispatch go to the job pool."))
    if locked.fulfilment_mode in _AT_OUTLET:
        raise Conflict(_("Carry-in and mail-in orders go to an outlet, not to the job pool."))
    history = _history(locked)
    if history.pending:
        raise Conflict(_("This order already has an open offer or is in the job pool."))
    return _pool_publish(
        locked, dispatch_settings_for(locked), now or timezone.now(), history.next_sequence
    )


def _close(attempt: DispatchAttempt, outcome: str, now: dt.datetime, reason: str = "") -> bool:
    """Move a pending attempt to ``outcome``; False if somebody else closed it first."""
    changed = DispatchAttempt.objects.filter(pk=attempt.pk, outcome=AttemptOutcome.PENDING).update(
        outcome=outcome, answered_at=now, reason=reason[:255], updated_at=now
    )
    if changed:
        attempt.outcome, attempt.answered_at, attempt.reason = outcome, now, reason[:255]
    return bool(changed)


def _expire_one(attempt: DispatchAttempt, now: dt.datetime) -> bool:
    """Close one due attempt (offer or pool entry) and move on. Its own transaction."""
    with transaction.atomic():
        order = _lock_order(attempt.work_order)
        if order.status != WorkOrderStatus.ACCEPTED or order.technician_id is not None:
            # Cancelled, held or assigned by a dispatcher meanwhile: nothing to move on to.
            return _close(attempt, AttemptOutcome.WITHDRAWN, now)
        if not _close(attempt, AttemptOutcome.EXPIRED, now):
            return False
        if attempt.mode == DispatchMode.POOL:
            workorder_services.workorder_log(
                work_order=order,
                type=EventType.POOL_EXPIRED,
                actor=_system(),
                reason=_("Nobody took the job from the pool in time; back to the dispatcher."),
                data={"attempt_id": attempt.pk},
                is_internal=True,
            )
            return True
        technician = attempt.technician
        workorder_services.workorder_log(
            work_order=order,
            type=EventType.OFFER_EXPIRED,
            actor=_system(),
            data={
                "technician": str(technician),
                "technician_id": attempt.technician_id,
                "attempt_id": attempt.pk,
            },
            is_internal=True,
        )
        _dispatch_next(order, dispatch_settings_for(order), now)
        return True


def offers_expire_due(*, now: dt.datetime | None = None) -> int:
    """Expire every pending offer and pool entry whose time is up; offers move to the next
    ranked eligible technician. Returns how many attempts were closed.

    Safe to run from several places at once (the lazy calls on pages, the periodic task):
    each attempt is claimed with a conditional UPDATE, so only one caller moves it on.
    """
    now = now or timezone.now()
    due = list(
        DispatchAttempt.objects.filter(outcome=AttemptOutcome.PENDING, expires_at__lte=now)
        .select_related("work_order", "technician__user")
        .order_by("expires_at", "pk")
    )
    return sum(1 for attempt in due if _expire_one(attempt, now))


def _lock_attempt(attempt: DispatchAttempt, technician: Technician) -> DispatchAttempt:
    locked = (
        DispatchAttempt.objects.select_for_update().select_related("work_order").get(pk=attempt.pk)
    )
    if locked.technician_id != technician.pk or locked.mode != DispatchMode.OFFER:
        raise OfferClosed(_("This offer is not yours."))
    return locked


def offer_accept(
    *,
    attempt: DispatchAttempt,
    technician: Technician,
    actor: Actor,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """The technician takes the offered job: assigned and accepted (已接单) in one step.

    Refuses an offer that is not theirs, already answered, past its time (it is expired
    and moved on before the refusal), or whose order went another way meanwhile.
    """
    now = now or timezone.now()
    refusal: str | None = None
    with transaction.atomic():
        # The order first, then the attempt: the order every writer here locks them in.
        order = _lock_order(attempt.work_order)
        locked = _lock_attempt(attempt, technician)
        if locked.outcome != AttemptOutcome.PENDING:
            refusal = _("This offer is closed: %(outcome)s.") % {
                "outcome": locked.get_outcome_display()
            }
        elif order.status != WorkOrderStatus.ACCEPTED or order.technician_id is not None:
            _close(locked, AttemptOutcome.WITHDRAWN, now)
            refusal = _("This job was given to someone else.")
        elif locked.expires_at is not None and locked.expires_at <= now:
            refusal = _("The time to answer this offer has run out.")
        else:
            _close(locked, AttemptOutcome.ACCEPTED, now)
            order = workorder_services.workorder_assign_technician(
                work_order=order,
                technician=technician,
                actor=actor,
                explanation={"mode": DispatchMode.OFFER, **locked.explanation},
                held=True,
            )
            return workorder_services.workorder_accept_assignment(
                work_order=order, technician=technician, actor=actor
            )
    # Outside the transaction: an offer found past its time is expired (and moved on) in its
    # own transaction, which the refusal below must not roll back.
    if locked.outcome == AttemptOutcome.PENDING and locked.expires_at is not None:
        _expire_one(locked, now)
    raise OfferClosed(refusal)


def offer_decline(
    *,
    attempt: DispatchAttempt,
    technician: Technician,
    actor: Actor,
    reason: str = "",
    now: dt.datetime | None = None,
) -> DispatchAttempt:
    """The technician says no; the offer goes to the next ranked eligible technician (or the
    order returns to the dispatcher with an event when nobody is left)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _lock_order(attempt.work_order)
        locked = _lock_attempt(attempt, technician)
        if locked.outcome != AttemptOutcome.PENDING:
            raise OfferClosed(
                _("This offer is closed: %(outcome)s.") % {"outcome": locked.get_outcome_display()}
            )
        if order.status != WorkOrderStatus.ACCEPTED or order.technician_id is not None:
            _close(locked, AttemptOutcome.WITHDRAWN, now)
            return locked
        _close(locked, AttemptOutcome.DECLINED, now, reason.strip())
        workorder_services.workorder_log(
            work_order=order,
            type=EventType.OFFER_DECLINED,
            actor=actor,
            reason=reason.strip(),
            data={
                "technician": str(technician),
                "technician_id": technician.pk,
                "attempt_id": locked.pk,
            },
            is_internal=True,
        )
        _dispatch_next(order, dispatch_settings_for(order), now)
        return locked


def pool_grab(
    *,
    attempt: DispatchAttempt,
    technician: Technician,
    actor: Actor,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """抢单: the technician takes a pooled job. Exactly one of any number of simultaneous
    grabs wins: the order row is locked (``SELECT ... FOR UPDATE``, so grabs queue behind
    each other there) and the claim is a conditional UPDATE (``... WHERE outcome =
    'pending'``); whoever comes next finds the entry taken and gets ``PoolJobTaken``.

    Refuses technicians who fail the job's hard constraints (skills, area, shift, load).
    """
    from shouhou.dispatch.selectors import pool_job_distance

    now = now or timezone.now()
    if attempt.mode != DispatchMode.POOL:
        raise PoolJobTaken(_("This job is not in the job pool."))
    with transaction.atomic():
        order = attempt.work_order
        if pool_job_distance(work_order=order, technician=technician, at=now) is None:
            raise PoolJobNotEligible(
                _("This job needs skills, an area or free time you do not have right now.")
            )
        # Locks are taken in one order everywhere (the order row, then its attempts) so a grab,
        # an expiry and a dispatcher's assignment never deadlock. A loser waits here for the
        # winner's commit, then the conditional UPDATE below finds the entry taken.
        locked = _lock_order(order)
        claimed = DispatchAttempt.objects.filter(
            pk=attempt.pk, mode=DispatchMode.POOL, outcome=AttemptOutcome.PENDING
        ).update(
            outcome=AttemptOutcome.ACCEPTED, technician=technician, answered_at=now, updated_at=now
        )
        if not claimed:
            raise PoolJobTaken(_("Another technician took this job first."))
        if locked.status != WorkOrderStatus.ACCEPTED or locked.technician_id is not None:
            # Rolls back the claim: the order went another way; the entry is withdrawn lazily.
            raise PoolJobTaken(_("This job was given to someone else."))
        locked = workorder_services.workorder_assign_technician(
            work_order=locked,
            technician=technician,
            actor=actor,
            explanation={"mode": DispatchMode.POOL, "attempt_id": attempt.pk},
            held=True,
        )
        return workorder_services.workorder_accept_assignment(
            work_order=locked, technician=technician, actor=actor
        )


# --- hooks from the work-order services (registered in DispatchConfig.ready) ----------------


def on_accepted(*, work_order: WorkOrder, actor: Actor) -> None:
    # The hook runs inside the accept with the order locked: use that very row.
    dispatch_on_accept(work_order=work_order, actor=actor, held=True)


def on_technician_assigned(*, work_order: WorkOrder, technician: Technician, actor: Actor) -> None:
    """Record a dispatcher's assignment as a ``manual`` attempt (the dispatch services record
    their own before assigning), and withdraw whatever else was pending for the order."""
    made = getattr(work_order, "_dispatch_attempt", None)
    if made is not None and made.technician_id == technician.pk:
        return  # automatic dispatch recorded this very assignment a moment ago
    latest = DispatchAttempt.objects.filter(work_order=work_order).order_by("-sequence").first()
    if (
        latest is not None
        and latest.technician_id == technician.pk
        and latest.outcome in (AttemptOutcome.PENDING, AttemptOutcome.ACCEPTED)
    ):
        return
    now = timezone.now()
    DispatchAttempt.objects.filter(work_order=work_order, outcome=AttemptOutcome.PENDING).update(
        outcome=AttemptOutcome.WITHDRAWN, answered_at=now, updated_at=now
    )
    DispatchAttempt.objects.create(
        organization_id=work_order.organization_id,
        work_order=work_order,
        mode=DispatchMode.MANUAL,
        technician=technician,
        sequence=_next_sequence(work_order),
        offered_at=now,
    )


def on_assignment_answered(
    *,
    work_order: WorkOrder,
    technician: Technician,
    actor: Actor,
    accepted: bool,
    reason: str,
) -> None:
    """The technician took or gave back an automatic or manual assignment: record it; a job
    given back in automatic mode goes to the next ranked technician."""
    attempt = DispatchAttempt.objects.filter(
        work_order=work_order, technician=technician, outcome=AttemptOutcome.PENDING
    ).first()
    if attempt is None:
        return
    now = timezone.now()
    _close(attempt, AttemptOutcome.ACCEPTED if accepted else AttemptOutcome.DECLINED, now, reason)
    if accepted or attempt.mode != DispatchMode.AUTO:
        return
    settings = dispatch_settings_for(work_order)
    if settings.mode == DispatchMode.AUTO:
        _dispatch_next(_lock_order(work_order), settings, now)
