"""Every write to a work order. Only ``_workorder_transition`` writes ``status``.

Each public verb checks its preconditions and either calls the transition function or records
its own event; all of it inside one transaction, with the row locked (``select_for_update``),
so two agents, a technician and a customer acting at the same moment cannot both win.
Side effects run after commit: SMS directly, everything else through the outbox (each event is
announced with ``core.outbox.event_published``; docs/tasks.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhou.accounts.models import Organization, Outlet, User
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.catalog.selectors import fault_type_estimate, fault_type_estimate_range
from shouhou.core.cache import TtlCache
from shouhou.core.errors import Conflict, DomainError, RateLimited
from shouhou.core.inserts import insert
from shouhou.core.outbox import event_published
from shouhou.core.sms import send_sms
from shouhou.core.transactions import service_atomic
from shouhou.customers.models import Address, Asset, Customer
from shouhou.dispatch.models import Technician, TechnicianStatus
from shouhou.dispatch.services import technician_set_status
from shouhou.workorders import hooks, live
from shouhou.workorders.attachments import clean_image, clean_upload
from shouhou.workorders.choices import (
    CUSTOMER_CANCELLABLE,
    TERMINAL,
    TRANSITIONS,
    AttachmentKind,
    EventType,
    FulfilmentMode,
    VisitOutcome,
    VisitStatus,
    WorkOrderStatus,
)
from shouhou.workorders.models import (
    Attachment,
    Visit,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderNumberSequence,
)

S = WorkOrderStatus
URGE_INTERVAL = dt.timedelta(minutes=30)
MAX_INTAKE_ATTACHMENTS = 9

# The timestamp recorded when an order first reaches each status.
_MILESTONES: dict[str, str] = {
    S.ACCEPTED: "accepted_at",
    S.ASSIGNED: "assigned_at",
    S.SCHEDULED: "scheduled_at",
    S.IN_SERVICE: "started_at",
    S.COMPLETED: "completed_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}


class InvalidTransition(Conflict):
    """The order cannot move from its current status to the requested one."""

    code = "invalid_transition"

    def __init__(self, *, current: str, requested: str) -> None:
        self.current, self.requested = current, requested
        super().__init__(
            _("This work order is “%(current)s” and cannot become “%(requested)s”.")
            % {"current": S(current).label, "requested": S(requested).label}
        )


class WorkOrderInvalid(DomainError):
    code = "work_order_invalid"


@dataclass(frozen=True)
class Actor:
    """Who did something, and as what (customer, agent, technician, outlet, system)."""

    user: User | None
    role: str

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, role="system")


def _event(
    work_order: WorkOrder,
    type: str,
    actor: Actor,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    from_status: str = "",
    to_status: str = "",
    is_internal: bool = False,
    previous_channels: list[str] | None = None,
) -> WorkOrderEvent:
    event = insert(
        WorkOrderEvent(
            work_order=work_order,
            type=type,
            actor=actor.user,
            actor_role=actor.role,
            reason=reason[:500],
            data=data or {},
            from_status=from_status,
            to_status=to_status,
            is_internal=is_internal,
            created_at=timezone.now(),
        )
    )
    event_published(event.pk)  # delivery is enqueued after commit (core.outbox)
    # Live pages hear of it after commit; a rollback publishes nothing (docs/live.md).
    live.announce(work_order, event, previous_channels=previous_channels)
    return event


def workorder_log(
    *,
    work_order: WorkOrder,
    type: str,
    actor: Actor,
    reason: str = "",
    data: dict[str, Any] | None = None,
    is_internal: bool = False,
) -> WorkOrderEvent:
    """Record an event on the order for something another app did (a rating, a quote)."""
    return _event(work_order, type, actor, reason=reason, data=data, is_internal=is_internal)


def _lock(work_order: WorkOrder, *, held: bool = False) -> WorkOrder:
    """The order's row, locked until the transaction ends. ``held``: the caller already locked
    this very instance earlier in the same transaction, so it is current and is returned as is
    (one full-row read less per nested service call)."""
    if held:
        return work_order
    return WorkOrder.objects.select_for_update().get(pk=work_order.pk)


@service_atomic
def _workorder_transition(
    *,
    work_order: WorkOrder,
    to: str,
    actor: Actor,
    reason: str = "",
    data: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
    event_type: str = EventType.STATUS_CHANGED,
    held: bool = False,
) -> WorkOrder:
    """Move ``work_order`` to ``to`` and record the event. No-op if it is already there.

    Lock → compare → validate against ``TRANSITIONS`` → save with ``update_fields`` → event.
    ``updates`` are other fields changed in the same step (the assignee, the hold reason).
    """
    locked = _lock(work_order, held=held)
    if locked.status == to:
        return locked
    if to not in TRANSITIONS[locked.status]:
        raise InvalidTransition(current=locked.status, requested=to)
    now = timezone.now()
    previous = locked.status
    fields = {"status": to, **(updates or {})}
    before = live.channels_for(locked)  # who must hear that the order left them
    milestone = _MILESTONES.get(to)
    if milestone and getattr(locked, milestone) is None:
        fields[milestone] = now
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*fields, "updated_at"])
    _event(
        locked,
        event_type,
        actor,
        reason=reason,
        data=data,
        from_status=previous,
        to_status=to,
        previous_channels=before,
    )
    # SLA clocks pause, resume and stop in this transaction (sla registers it).
    hooks.run(
        hooks.STATUS_CHANGED, work_order=locked, previous=previous, to=to, actor=actor, at=now
    )
    return locked


def _workorder_update(
    locked: WorkOrder,
    updates: dict[str, Any],
    event_type: str,
    actor: Actor,
    *,
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> WorkOrder:
    """Change fields of an already locked order without changing its status, with an event."""
    before = live.channels_for(locked)  # who must hear that the order left them
    for name, value in updates.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*updates, "updated_at"])
    _event(locked, event_type, actor, data=data, reason=reason, previous_channels=before)
    return locked


def _replan_routes(locked: WorkOrder, *earlier: tuple[int | None, dt.datetime | None]) -> None:
    """Ask dispatch to re-plan the day of each (technician, appointment) touched, after commit.

    Imported inside: ``dispatch.routes`` reads work orders, so a module-level import would
    make the two apps import each other; the solve itself runs in a task.
    """
    if locked.fulfilment_mode != FulfilmentMode.ON_SITE:
        return
    from shouhou.dispatch.routes import route_replan_later

    for technician_id, start in {(locked.technician_id, locked.appointment_start), *earlier}:
        if technician_id is not None and start is not None:
            route_replan_later(technician_id=technician_id, day=timezone.localdate(start))


# --- numbers ---------------------------------------------------------------------------------


# PostgreSQL counts each day's numbers on one of seven sequences, chosen by the date, so an
# intake never waits for another: a counter row bumped inside the transaction stayed locked
# until commit, and measured under load a third of the web workers stood waiting on it.
NUMBER_SEQUENCES = 7
# A day's sequence is restarted at 1 ahead of time, only while the day is at least this far
# away (servers' clocks may differ a little; never restart a sequence in use).
NUMBER_RESTART_MARGIN = dt.timedelta(hours=1)
_numbers_prepared_for: dt.date | None = None  # per process: tomorrow is already prepared


def number_sequence_name(day: dt.date) -> str:
    return f"workorders_number_day{day.toordinal() % NUMBER_SEQUENCES}"


def workorder_number_next(*, prefix: str = "WX") -> str:
    """The next work-order number: prefix + YYMMDD (Asia/Shanghai) + the day's count (4
    digits, more after 9999). Unique and increasing within the day.

    PostgreSQL: ``nextval`` on the day's sequence, which takes no lock (the count may skip a
    value when an intake fails after taking it, a retry included). The first intake of each
    day in each process also prepares tomorrow's sequence (:func:`workorder_numbers_prepare`);
    a day whose sequence was not prepared in time counts on from last week's value, still
    unique because the date is part of the number. SQLite (one writer at a time anyway): one
    atomic upsert of the day's counter row, rolled back with a failed intake.
    """
    global _numbers_prepared_for
    now = timezone.localtime()
    today = now.date()
    day = today.strftime("%y%m%d")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tomorrow = today + dt.timedelta(days=1)
            if _numbers_prepared_for != tomorrow:
                workorder_numbers_prepare(day=tomorrow, now=now)
                _numbers_prepared_for = tomorrow
            cursor.execute("SELECT nextval(%s)", [number_sequence_name(today)])
        else:
            table = WorkOrderNumberSequence._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - table is ours
                f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
                [day],
            )
        (last,) = cursor.fetchone()
    return f"{prefix}{day}{last:04d}"


def workorder_numbers_prepare(*, day: dt.date, now: dt.datetime | None = None) -> bool:
    """PostgreSQL: restart ``day``'s sequence at 1, once, while the day is still at least
    ``NUMBER_RESTART_MARGIN`` away. True if this call restarted it.

    The day's row in the counter table marks it done (``ON CONFLICT DO NOTHING``), so many
    processes preparing the same day restart it once; ``setval`` is not transactional, so a
    rolled-back caller only means another process restarts the unused sequence again.
    """
    now = now or timezone.localtime()
    starts = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
    if connection.vendor != "postgresql" or starts - now < NUMBER_RESTART_MARGIN:
        return False
    table = WorkOrderNumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 0) "  # noqa: S608 - table is ours
            "ON CONFLICT (day) DO NOTHING RETURNING day",
            [day.strftime("%y%m%d")],
        )
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT setval(%s, 1, false)", [number_sequence_name(day)])
    return True


# --- intake ----------------------------------------------------------------------------------


def _check_same_organization(organization: Organization, **rows: Any) -> None:
    for name, row in rows.items():
        if row is not None and row.organization_id != organization.pk:
            raise WorkOrderInvalid(
                _("Something you chose (%(field)s) does not belong to this organisation.")
                % {"field": name}
            )


network_cache: TtlCache[frozenset[int]] = TtlCache("DISPATCH_CACHE_SECONDS")


def network_ids(organization_id: int) -> frozenset[int]:
    """The organisation itself and the active partners in its network (merchants, providers),
    remembered per process for ``DISPATCH_CACHE_SECONDS`` (an organisation change in this
    process clears it at once)."""

    def compute() -> frozenset[int]:
        partners = Organization.objects.filter(parent_id=organization_id, is_active=True)
        return frozenset({organization_id, *partners.values_list("pk", flat=True)})

    return network_cache.get_or_compute(organization_id, compute)


def serving_organization_ids(organization: Organization) -> set[int]:
    """The organisation itself and the partners in its network (merchants, providers)."""
    return set(network_ids(organization.pk))


@dataclass(frozen=True)
class IntakeResult:
    work_order: WorkOrder
    created: bool


def workorder_create(
    *,
    organization: Organization,
    customer: Customer,
    service_type: ServiceType,
    description: str,
    channel: str,
    fulfilment_mode: str,
    actor: Actor,
    asset: Asset | None = None,
    category: ProductCategory | None = None,
    brand: Brand | None = None,
    product_model: ProductModel | None = None,
    device_identifier: str = "",
    fault_type: FaultType | None = None,
    priority: str = "normal",
    address: Address | None = None,
    outlet: Outlet | None = None,
    preferred_start: dt.datetime | None = None,
    preferred_end: dt.datetime | None = None,
    idempotency_key: str | None = None,
    uploads: list[Any] | None = None,
    notify_customer: bool = True,
    retry_savepoint: bool = True,
) -> IntakeResult:
    """Create a work order, or return the one already made with the same idempotency key.

    Refuses rows of other organisations, an outlet outside the organisation's network, a
    preferred window that ends before it starts, more than 9 attachments, and (for on-site
    service) a missing address. The customer gets the number and tracking link by SMS.

    ``retry_savepoint=False`` is for a caller that undoes its whole transaction on a retry
    anyway (the API): no savepoint is taken, the ``IntegrityError`` of a repeated key reaches
    it, and it answers :func:`workorder_for_idempotency_key` after the rollback (two round
    trips fewer on every intake).
    """
    _check_same_organization(
        organization,
        customer=customer,
        service_type=service_type,
        fault_type=fault_type,
        category=category,
        brand=brand,
        product_model=product_model,
    )
    if asset is not None and asset.customer_id != customer.pk:
        raise WorkOrderInvalid(_("The device does not belong to this customer."))
    if address is not None and address.customer_id != customer.pk:
        raise WorkOrderInvalid(_("The address does not belong to this customer."))
    if outlet is not None and outlet.organization_id not in serving_organization_ids(organization):
        raise WorkOrderInvalid(_("This outlet does not serve this organisation's customers."))
    if fulfilment_mode == FulfilmentMode.ON_SITE and address is None:
        raise WorkOrderInvalid(_("On-site service needs an address."))
    if preferred_start and preferred_end and preferred_end <= preferred_start:
        raise WorkOrderInvalid(_("The preferred time must end after it starts."))
    if not description.strip():
        raise WorkOrderInvalid(_("Describe the fault in a few words."))
    uploads = uploads or []
    if len(uploads) > MAX_INTAKE_ATTACHMENTS:
        raise WorkOrderInvalid(_("Up to 9 photos or one short video."))
    # Check and clean every file before anything is written, so a bad file loses nothing.
    cleaned = [clean_upload(upload) for upload in uploads]
    if sum(1 for item in cleaned if item.content_type.startswith("video/")) > 1:
        raise WorkOrderInvalid(_("Up to 9 photos or one short video."))

    model = product_model or (asset.product_model if asset else None)
    today = timezone.localdate()
    under_warranty = bool(asset and asset.is_under_warranty(today))
    estimate_low = estimate_high = None
    if fault_type is not None:
        estimate_low, estimate_high = fault_type_estimate_range(
            fault_type=fault_type, on=today, product_model_id=model.pk if model else None
        )

    now = timezone.now()
    try:
        # A savepoint only when a retry can collide on the key. The key is not looked up
        # first (a retry is rare, and intake is the busiest write): the unique index finds
        # it, the savepoint undoes this attempt (its number included), and the order made
        # first is answered below, whether it committed long ago or a moment ago.
        with transaction.atomic(savepoint=bool(idempotency_key) and retry_savepoint):
            work_order = WorkOrder(
                number=workorder_number_next(),
                tracking_token=secrets.token_urlsafe(18),
                organization=organization,
                service_organization=(
                    outlet.organization
                    if outlet is not None and outlet.organization_id != organization.pk
                    else None
                ),
                customer=customer,
                asset=asset,
                category=category
                or (model.category if model else None)
                or (asset.category if asset else None),
                brand=brand or (model.brand if model else None),
                product_model=model,
                device_identifier=device_identifier.strip(),
                service_type=service_type,
                fault_type=fault_type,
                description=description.strip(),
                channel=channel,
                priority=priority,
                fulfilment_mode=fulfilment_mode,
                address=address,
                latitude=address.latitude if address else None,
                longitude=address.longitude if address else None,
                preferred_start=preferred_start,
                preferred_end=preferred_end,
                outlet=outlet,
                is_under_warranty=under_warranty,
                estimate_low=estimate_low,
                estimate_high=estimate_high,
                submitted_at=now,
                created_by=actor.user,
                idempotency_key=idempotency_key or None,
            )
            insert(work_order)
            _event(
                work_order,
                EventType.CREATED,
                actor,
                to_status=S.SUBMITTED,
                data={"channel": channel},
            )
            hooks.run(hooks.CREATED, work_order=work_order, actor=actor)
            for item in cleaned:
                _attachment_store(
                    work_order=work_order,
                    cleaned=item,
                    actor=actor,
                    kind=(
                        AttachmentKind.FAULT_VIDEO
                        if item.content_type.startswith("video/")
                        else AttachmentKind.FAULT_PHOTO
                    ),
                    record_event=False,
                )
    except IntegrityError:
        # A double tap or a retried request with the same key raced us and won: answer
        # with its order. Any other integrity error is a real bug and is raised again.
        existing = (
            workorder_for_idempotency_key(organization=organization, key=idempotency_key)
            if idempotency_key and retry_savepoint
            else None
        )
        if existing is None:
            raise
        return IntakeResult(existing, created=False)
    if notify_customer:
        text = _("【售后】Your service request %(number)s was received. Track it here: %(url)s") % {
            "number": work_order.number,
            "url": tracking_url(work_order),
        }
        phone = customer.phone
        transaction.on_commit(lambda: send_sms(phone=phone, text=text))
    return IntakeResult(work_order, created=True)


def workorder_for_idempotency_key(*, organization: Organization, key: str) -> WorkOrder | None:
    """The organisation's order created with this idempotency key, if any."""
    return (
        WorkOrder.objects.filter(organization=organization, idempotency_key=key).order_by().first()
    )


def tracking_url(work_order: WorkOrder) -> str:
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/t/{work_order.tracking_token}/"


def customer_get_or_create(
    *, organization: Organization, phone: str, name: str, user: User | None = None
) -> Customer:
    """The organisation's customer with this number (created if new; the login is linked).

    One hand-written statement whether the customer is new or known, and one that survives a
    racing request creating the same customer (no savepoint): ``INSERT ... ON CONFLICT DO
    UPDATE`` answers the stored row unchanged (the update rewrites the number with itself).
    It is on every intake; the ORM's select-then-``bulk_create`` took two round trips and
    several times the CPU.
    """
    now = timezone.now()
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - the table name is ours
            "(created_at, updated_at, organization_id, user_id, name, phone, note) "
            "VALUES (%s, %s, %s, %s, %s, %s, '') "
            "ON CONFLICT (organization_id, phone) DO UPDATE SET phone = EXCLUDED.phone "
            "RETURNING id, user_id, name, note",
            [now, now, organization.pk, user.pk if user else None, name, phone],
        )
        pk, user_id, stored_name, note = cursor.fetchone()
    customer = Customer(
        pk=pk,
        organization=organization,
        user_id=user_id,
        name=stored_name,
        phone=phone,
        note=note,
        created_at=now,  # a known customer's stored times are not read back: nothing needs them
        updated_at=now,
    )
    customer._state.adding = False
    customer._state.db = connection.alias
    if user is not None and customer.user_id is None:
        customer.user = user
        customer.save(update_fields=["user", "updated_at"])
    return customer


# --- staff -----------------------------------------------------------------------------------


@service_atomic
def workorder_triage(
    *,
    work_order: WorkOrder,
    actor: Actor,
    fault_type: FaultType | None = None,
    priority: str | None = None,
) -> WorkOrder:
    """Set the fault type and priority (and the price estimate that follows)."""
    locked = _lock(work_order)
    if locked.status in TERMINAL:
        raise InvalidTransition(current=locked.status, requested=locked.status)
    changes: dict[str, Any] = {}
    if fault_type is not None and fault_type.pk != locked.fault_type_id:
        _check_same_organization(locked.organization, fault_type=fault_type)
        estimate = fault_type_estimate(
            fault_type=fault_type, product_model_id=locked.product_model_id
        )
        locked.fault_type = fault_type
        locked.estimate_low, locked.estimate_high = estimate.low, estimate.high
        changes["fault_type"] = fault_type.name
    if priority is not None and priority != locked.priority:
        changes["priority"] = {"from": locked.priority, "to": priority}
        locked.priority = priority
    if not changes:
        return locked
    locked.save(
        update_fields=["fault_type", "estimate_low", "estimate_high", "priority", "updated_at"]
    )
    _event(locked, EventType.TRIAGED, actor, data=changes, is_internal=True)
    return locked


@service_atomic
def workorder_accept(
    *,
    work_order: WorkOrder,
    actor: Actor,
    fault_type: FaultType | None = None,
    priority: str | None = None,
) -> WorkOrder:
    """Accept a submitted order (optionally triaging it in the same step)."""
    locked = _lock(work_order)
    if fault_type is not None or priority is not None:
        locked = workorder_triage(
            work_order=locked, actor=actor, fault_type=fault_type, priority=priority
        )
    if locked.status == S.ACCEPTED:
        return locked
    accepted = _workorder_transition(held=True, work_order=locked, to=S.ACCEPTED, actor=actor)
    # Dispatch (auto, offer or pool, per the organisation's mode) starts in this transaction.
    # Hooks change the order through this instance (the locked row), so it is current after.
    hooks.run(hooks.ACCEPTED, work_order=accepted, actor=actor)
    return accepted


def _check_assignable(work_order: WorkOrder, organization_id: int) -> None:
    if organization_id not in network_ids(work_order.organization_id):
        raise WorkOrderInvalid(_("This organisation does not serve this work order."))


@service_atomic
def workorder_assign_outlet(*, work_order: WorkOrder, outlet: Outlet, actor: Actor) -> WorkOrder:
    """Give the order to an outlet (carry-in, mail-in, or an outlet that sends technicians)."""
    locked = _lock(work_order)
    _check_assignable(locked, outlet.organization_id)
    if not outlet.is_active:
        raise WorkOrderInvalid(_("This outlet is closed."))
    updates = {
        "outlet": outlet,
        "service_organization": (
            outlet.organization if outlet.organization_id != locked.organization_id else None
        ),
    }
    data = {"outlet": outlet.name, "outlet_id": outlet.pk}
    if locked.status in (S.ASSIGNED, S.SCHEDULED):
        return _workorder_update(locked, updates, EventType.OUTLET_ASSIGNED, actor, data=data)
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=S.ASSIGNED,
        actor=actor,
        updates=updates,
        data=data,
        event_type=EventType.OUTLET_ASSIGNED,
    )


@service_atomic
def workorder_assign_technician(
    *,
    work_order: WorkOrder,
    technician: Technician,
    actor: Actor,
    explanation: dict[str, Any] | None = None,
    held: bool = False,
) -> WorkOrder:
    """Give the order to a technician; they accept or decline on their workbench.

    ``explanation`` (the dispatch score breakdown, issue 4) is stored on the event. ``held``:
    the caller locked ``work_order`` itself earlier in this transaction (dispatch does).
    """
    locked = _lock(work_order, held=held)
    _check_assignable(locked, technician.organization_id)
    if not technician.is_active:
        raise WorkOrderInvalid(_("This technician is not active."))
    earlier = (locked.technician_id, locked.appointment_start)
    updates: dict[str, Any] = {
        "technician": technician,
        "assignment_accepted_at": None,
        "service_organization": (
            technician.organization
            if technician.organization_id != locked.organization_id
            else None
        ),
    }
    if technician.outlet_id and locked.outlet_id is None:
        updates["outlet"] = technician.outlet
    data = {
        "technician": str(technician),
        "technician_id": technician.pk,
        **({"explanation": explanation} if explanation else {}),
    }
    Visit.objects.filter(work_order=locked, status=VisitStatus.PLANNED).exclude(
        technician=technician
    ).update(status=VisitStatus.CANCELLED, updated_at=timezone.now())
    if locked.status in (S.ASSIGNED, S.SCHEDULED):
        assigned = _workorder_update(
            locked, updates, EventType.TECHNICIAN_ASSIGNED, actor, data=data
        )
    else:
        assigned = _workorder_transition(
            work_order=locked,
            held=True,
            to=S.ASSIGNED,
            actor=actor,
            updates=updates,
            data=data,
            event_type=EventType.TECHNICIAN_ASSIGNED,
        )
    _replan_routes(assigned, earlier)
    hooks.run(hooks.TECHNICIAN_ASSIGNED, work_order=assigned, technician=technician, actor=actor)
    return assigned


@service_atomic
def workorder_add_note(*, work_order: WorkOrder, actor: Actor, text: str) -> WorkOrderEvent:
    """An internal note: staff see it, the customer never does."""
    if not text.strip():
        raise WorkOrderInvalid(_("The note is empty."))
    locked = _lock(work_order)
    return _event(locked, EventType.NOTE_ADDED, actor, reason=text.strip(), is_internal=True)


@service_atomic
def workorder_hold(*, work_order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    """Pause the order (waiting for parts, approval or the customer); the reason is required."""
    if not reason.strip():
        raise WorkOrderInvalid(_("Say why the work order is on hold."))
    locked = _lock(work_order)
    if locked.status == S.ON_HOLD:
        return locked
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=S.ON_HOLD,
        actor=actor,
        reason=reason.strip(),
        updates={"held_from_status": locked.status, "hold_reason": reason.strip()},
        event_type=EventType.HELD,
    )


@service_atomic
def workorder_resume(*, work_order: WorkOrder, actor: Actor) -> WorkOrder:
    """Take the order off hold, back to where it was."""
    locked = _lock(work_order)
    if locked.status != S.ON_HOLD:
        raise InvalidTransition(current=locked.status, requested=S.ACCEPTED)
    back_to = locked.held_from_status or S.ACCEPTED
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=back_to,
        actor=actor,
        updates={"held_from_status": "", "hold_reason": ""},
        event_type=EventType.RESUMED,
    )


@service_atomic
def workorder_cancel(*, work_order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    """Cancel with a reason. Customers may cancel only until service starts."""
    if not reason.strip():
        raise WorkOrderInvalid(_("Say why the work order is cancelled."))
    locked = _lock(work_order)
    if locked.status == S.CANCELLED:
        return locked
    if actor.role == "customer" and locked.status not in CUSTOMER_CANCELLABLE:
        raise Conflict(_("The repair has started; please call us to cancel."))
    Visit.objects.filter(
        work_order=locked, status__in=[VisitStatus.PLANNED, VisitStatus.EN_ROUTE]
    ).update(status=VisitStatus.CANCELLED, updated_at=timezone.now())
    # Free the outlet bay the order held. dispatch builds on workorders, so the import is
    # here, not at module level (that would be a cycle); every cancellation passes this point.
    from shouhou.dispatch.slots import slot_release

    slot_release(work_order=locked)
    locked = _workorder_transition(
        work_order=locked,
        held=True,
        to=S.CANCELLED,
        actor=actor,
        reason=reason.strip(),
        updates={"cancellation_reason": reason.strip()[:255], "cancelled_by": actor.user},
        event_type=EventType.CANCELLED,
    )
    _replan_routes(locked)
    return locked


# --- technician ------------------------------------------------------------------------------


def _require_technician(locked: WorkOrder, technician: Technician) -> None:
    if locked.technician_id != technician.pk:
        raise Conflict(_("This job is no longer assigned to you."))


@service_atomic
def workorder_accept_assignment(
    *, work_order: WorkOrder, technician: Technician, actor: Actor
) -> WorkOrder:
    """The technician takes the job (已接单)."""
    locked = _lock(work_order)
    _require_technician(locked, technician)
    if locked.status not in (S.ASSIGNED, S.SCHEDULED):
        raise InvalidTransition(current=locked.status, requested=S.ASSIGNED)
    if locked.assignment_accepted_at is not None:
        return locked
    locked.assignment_accepted_at = timezone.now()
    locked.save(update_fields=["assignment_accepted_at", "updated_at"])
    if locked.fulfilment_mode == FulfilmentMode.ON_SITE:
        Visit.objects.get_or_create(
            work_order=locked,
            status=VisitStatus.PLANNED,
            defaults={
                "technician": technician,
                "planned_start": locked.appointment_start,
                "planned_end": locked.appointment_end,
            },
        )
    _event(locked, EventType.ASSIGNMENT_ACCEPTED, actor, data={"technician": str(technician)})
    hooks.run(
        hooks.ASSIGNMENT_ANSWERED,
        work_order=locked,
        technician=technician,
        actor=actor,
        accepted=True,
        reason="",
    )
    return locked


@service_atomic
def workorder_decline_assignment(
    *, work_order: WorkOrder, technician: Technician, actor: Actor, reason: str
) -> WorkOrder:
    """The technician gives the job back; it returns to the dispatch queue."""
    if not reason.strip():
        raise WorkOrderInvalid(_("Say why you cannot take this job."))
    locked = _lock(work_order)
    _require_technician(locked, technician)
    earlier = (locked.technician_id, locked.appointment_start)
    Visit.objects.filter(work_order=locked, status=VisitStatus.PLANNED).update(
        status=VisitStatus.CANCELLED, updated_at=timezone.now()
    )
    declined = _workorder_transition(
        work_order=locked,
        held=True,
        to=S.ACCEPTED,
        actor=actor,
        reason=reason.strip(),
        updates={
            "technician": None,
            "assignment_accepted_at": None,
            "appointment_start": None,
            "appointment_end": None,
        },
        data={"technician": str(technician), "technician_id": technician.pk},
        event_type=EventType.ASSIGNMENT_DECLINED,
    )
    # Dispatch records the decline and, in automatic mode, assigns the next technician.
    hooks.run(
        hooks.ASSIGNMENT_ANSWERED,
        work_order=declined,
        technician=technician,
        actor=actor,
        accepted=False,
        reason=reason.strip(),
    )
    declined.refresh_from_db()
    _replan_routes(declined, earlier)
    return declined


@service_atomic
def workorder_schedule(
    *, work_order: WorkOrder, actor: Actor, start: dt.datetime, end: dt.datetime
) -> WorkOrder:
    """Fix the appointment (工程师上门时间 / 到店时间). Rescheduling keeps the status."""
    if end <= start:
        raise WorkOrderInvalid(_("The appointment must end after it starts."))
    if start < timezone.now() - dt.timedelta(minutes=5):
        raise WorkOrderInvalid(_("The appointment cannot be in the past."))
    locked = _lock(work_order)
    if locked.technician_id is None and locked.outlet_id is None:
        raise Conflict(_("Assign the work order before making an appointment."))
    earlier = (locked.technician_id, locked.appointment_start)
    Visit.objects.filter(work_order=locked, status=VisitStatus.PLANNED).update(
        planned_start=start, planned_end=end, updated_at=timezone.now()
    )
    data = {"start": start.isoformat(), "end": end.isoformat()}
    updates = {"appointment_start": start, "appointment_end": end}
    if locked.status == S.SCHEDULED:
        locked = _workorder_update(locked, updates, EventType.APPOINTMENT_CHANGED, actor, data=data)
        _replan_routes(locked, earlier)
        return locked
    if locked.technician_id and locked.assignment_accepted_at is None:
        # Making the appointment is taking the job.
        updates["assignment_accepted_at"] = timezone.now()  # type: ignore[assignment]
    locked = _workorder_transition(
        work_order=locked,
        held=True,
        to=S.SCHEDULED,
        actor=actor,
        updates=updates,
        data=data,
        event_type=EventType.APPOINTMENT_CONFIRMED,
    )
    _replan_routes(locked, earlier)
    return locked


def _open_visit(locked: WorkOrder) -> Visit:
    visit = (
        Visit.objects.select_for_update()
        .filter(
            work_order=locked,
            status__in=[VisitStatus.PLANNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE],
        )
        .first()
    )
    if visit is None:
        assert locked.technician is not None
        visit = Visit.objects.create(
            work_order=locked,
            technician=locked.technician,
            planned_start=locked.appointment_start,
            planned_end=locked.appointment_end,
        )
    return visit


@service_atomic
def visit_set_en_route(
    *,
    work_order: WorkOrder,
    technician: Technician,
    actor: Actor,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Visit:
    """The technician is on the way (the customer sees it at once); dispatch sees them en
    route, at ``latitude``/``longitude`` when the phone gave a position."""
    locked = _lock(work_order)
    _require_technician(locked, technician)
    if locked.status not in (S.ASSIGNED, S.SCHEDULED):
        raise InvalidTransition(current=locked.status, requested=S.IN_SERVICE)
    visit = _open_visit(locked)
    if visit.status == VisitStatus.EN_ROUTE:
        return visit
    visit.status, visit.en_route_at = VisitStatus.EN_ROUTE, timezone.now()
    visit.save(update_fields=["status", "en_route_at", "updated_at"])
    technician_set_status(
        technician=technician,
        status=TechnicianStatus.EN_ROUTE,
        latitude=latitude,
        longitude=longitude,
    )
    if locked.assignment_accepted_at is None:
        locked.assignment_accepted_at = timezone.now()
        locked.save(update_fields=["assignment_accepted_at", "updated_at"])
    _event(locked, EventType.EN_ROUTE, actor, data={"visit_id": visit.pk})
    return visit


@service_atomic
def visit_check_in(
    *,
    work_order: WorkOrder,
    technician: Technician,
    actor: Actor,
    latitude: Decimal | None,
    longitude: Decimal | None,
) -> Visit:
    """The technician arrived and starts work: the order is in service; location recorded.

    Refuses orders on hold (staff resume them) and completed ones (only the customer reopens
    those by rejecting the completion)."""
    locked = _lock(work_order)
    _require_technician(locked, technician)
    if locked.status not in (S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE):
        raise InvalidTransition(current=locked.status, requested=S.IN_SERVICE)
    visit = _open_visit(locked)
    now = timezone.now()
    visit.status = VisitStatus.ON_SITE
    visit.arrived_at = visit.arrived_at or now
    visit.checked_in_at = now
    visit.check_in_latitude, visit.check_in_longitude = latitude, longitude
    visit.save(
        update_fields=[
            "status",
            "arrived_at",
            "checked_in_at",
            "check_in_latitude",
            "check_in_longitude",
            "updated_at",
        ]
    )
    technician_set_status(
        technician=technician,
        status=TechnicianStatus.ON_SITE,
        latitude=latitude,
        longitude=longitude,
    )
    _workorder_transition(
        work_order=locked,
        held=True,
        to=S.IN_SERVICE,
        actor=actor,
        event_type=EventType.CHECKED_IN,
        updates={"assignment_accepted_at": locked.assignment_accepted_at or now},
        data={
            "visit_id": visit.pk,
            "latitude": str(latitude) if latitude is not None else None,
            "longitude": str(longitude) if longitude is not None else None,
        },
    )
    return visit


@service_atomic
def workorder_receive_device(*, work_order: WorkOrder, actor: Actor) -> WorkOrder:
    """Carry-in: the outlet has the device in hand; the repair clock starts."""
    locked = _lock(work_order)
    if locked.fulfilment_mode not in (FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN):
        raise Conflict(_("Only carry-in and mail-in orders are received at an outlet."))
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=S.IN_SERVICE,
        actor=actor,
        event_type=EventType.DEVICE_RECEIVED,
        updates={"assignment_accepted_at": locked.assignment_accepted_at or timezone.now()},
    )


@service_atomic
def workorder_report(
    *, work_order: WorkOrder, actor: Actor, diagnosis: str = "", work_done: str = ""
) -> WorkOrder:
    """Record the diagnosis and/or the work done (on the open visit for on-site orders)."""
    if not diagnosis.strip() and not work_done.strip():
        raise WorkOrderInvalid(_("Write the diagnosis or the work done."))
    locked = _lock(work_order)
    if locked.status != S.IN_SERVICE:
        raise Conflict(_("Start the service before reporting on it."))
    visit = None
    if locked.technician_id is not None and locked.fulfilment_mode == FulfilmentMode.ON_SITE:
        visit = _open_visit(locked)
        if diagnosis.strip():
            visit.diagnosis = diagnosis.strip()
        if work_done.strip():
            visit.work_done = work_done.strip()
        visit.save(update_fields=["diagnosis", "work_done", "updated_at"])
    if diagnosis.strip():
        _event(
            locked,
            EventType.DIAGNOSED,
            actor,
            reason=diagnosis.strip(),
            data={"visit_id": visit.pk if visit else None},
        )
    if work_done.strip():
        _event(
            locked,
            EventType.WORK_REPORTED,
            actor,
            reason=work_done.strip(),
            data={"visit_id": visit.pk if visit else None},
        )
    return locked


def _attachment_store(
    *,
    work_order: WorkOrder,
    cleaned: Any,
    actor: Actor,
    kind: str,
    visit: Visit | None = None,
    record_event: bool = True,
) -> Attachment:
    attachment = Attachment(
        work_order=work_order,
        visit=visit,
        kind=kind,
        token=cleaned.token,
        extension=cleaned.extension,
        content_type=cleaned.content_type,
        size=cleaned.size,
        width=cleaned.width,
        height=cleaned.height,
        uploaded_by=actor.user,
    )
    attachment.file.save(f"{cleaned.token}.{cleaned.extension}", cleaned.content, save=False)
    if cleaned.thumbnail is not None:
        attachment.thumbnail.save(f"{cleaned.token}-thumb.jpg", cleaned.thumbnail, save=False)
    # If the surrounding transaction rolls back, the file stays in storage unreferenced;
    # nothing points at it and no page shows it.
    attachment.save()
    if record_event:
        _event(
            work_order,
            EventType.ATTACHMENT_ADDED,
            actor,
            data={"attachment_id": attachment.pk, "kind": kind},
        )
    return attachment


@service_atomic
def attachment_add(*, work_order: WorkOrder, actor: Actor, kind: str, upload: Any) -> Attachment:
    """Add a photo or video to the order (checked by content, EXIF removed, thumbnail)."""
    locked = _lock(work_order)
    finished = locked.status == S.CANCELLED or (
        locked.status == S.CLOSED and kind != AttachmentKind.RATING_PHOTO
    )
    if finished:
        raise Conflict(_("This work order is closed."))
    if kind in (AttachmentKind.FAULT_PHOTO, AttachmentKind.FAULT_VIDEO):
        count = Attachment.objects.filter(
            work_order=locked, kind__in=[AttachmentKind.FAULT_PHOTO, AttachmentKind.FAULT_VIDEO]
        ).count()
        if count >= MAX_INTAKE_ATTACHMENTS:
            raise WorkOrderInvalid(_("Up to 9 photos or one short video."))
    cleaned = clean_upload(upload) if kind == AttachmentKind.FAULT_VIDEO else clean_image(upload)
    visit = None
    if kind in (AttachmentKind.BEFORE_PHOTO, AttachmentKind.AFTER_PHOTO) and locked.technician_id:
        visit = Visit.objects.filter(work_order=locked, status=VisitStatus.ON_SITE).first()
    return _attachment_store(
        work_order=locked, cleaned=cleaned, actor=actor, kind=kind, visit=visit
    )


def _decode_signature(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise WorkOrderInvalid(_("The signature is missing. Ask the customer to sign."))
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise WorkOrderInvalid(_("The signature could not be read. Please sign again.")) from None


@service_atomic
def workorder_sign(*, work_order: WorkOrder, actor: Actor, signature: str | bytes) -> Attachment:
    """Store the customer's signature drawn on the technician's screen (a PNG)."""
    locked = _lock(work_order)
    if locked.status != S.IN_SERVICE:
        raise Conflict(_("The customer signs when the service is done."))
    raw = _decode_signature(signature) if isinstance(signature, str) else signature
    cleaned = clean_image(raw, keep_alpha=True)
    attachment = _attachment_store(
        work_order=locked,
        cleaned=cleaned,
        actor=actor,
        kind=AttachmentKind.SIGNATURE,
        visit=Visit.objects.filter(work_order=locked, status=VisitStatus.ON_SITE).first(),
        record_event=False,
    )
    _event(locked, EventType.SIGNED, actor, data={"attachment_id": attachment.pk})
    return attachment


@service_atomic
def visit_finish(
    *,
    work_order: WorkOrder,
    technician: Technician,
    actor: Actor,
    outcome: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    note: str = "",
) -> WorkOrder:
    """End the technician's visit with an outcome.

    fixed → the order is completed (needs the customer's signature); needs parts → on hold;
    needs another visit → back to assigned for a new appointment; customer absent → back to
    assigned. Refuses ``fixed`` without a signature.
    """
    if outcome not in VisitOutcome.values:
        raise WorkOrderInvalid(_("Choose how the visit ended."))
    locked = _lock(work_order)
    _require_technician(locked, technician)
    visit = _open_visit(locked)
    if outcome == VisitOutcome.FIXED:
        if locked.status != S.IN_SERVICE:
            raise InvalidTransition(current=locked.status, requested=S.COMPLETED)
        if not Attachment.objects.filter(work_order=locked, kind=AttachmentKind.SIGNATURE).exists():
            raise WorkOrderInvalid(_("The customer must sign before the job is completed."))
    now = timezone.now()
    visit.status, visit.outcome = VisitStatus.DONE, outcome
    visit.checked_out_at = now
    visit.check_out_latitude, visit.check_out_longitude = latitude, longitude
    visit.save(
        update_fields=[
            "status",
            "outcome",
            "checked_out_at",
            "check_out_latitude",
            "check_out_longitude",
            "updated_at",
        ]
    )
    technician_set_status(
        technician=technician,
        status=TechnicianStatus.AVAILABLE,
        latitude=latitude,
        longitude=longitude,
    )
    data = {"visit_id": visit.pk, "outcome": outcome}
    if outcome == VisitOutcome.FIXED:
        return _workorder_transition(
            work_order=locked,
            held=True,
            to=S.COMPLETED,
            actor=actor,
            data=data,
            reason=note,
            event_type=EventType.COMPLETED,
        )
    if outcome == VisitOutcome.NEEDS_PARTS:
        reason = note.strip() or str(gettext_lazy("Waiting for parts"))
        return workorder_hold(work_order=locked, actor=actor, reason=reason)
    updates = {"appointment_start": None, "appointment_end": None}
    if locked.status == S.ASSIGNED:
        return _workorder_update(
            locked, updates, EventType.STATUS_CHANGED, actor, data=data, reason=note
        )
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=S.ASSIGNED,
        actor=actor,
        data=data,
        reason=note,
        updates=updates,
    )


@service_atomic
def workorder_ready_for_pickup(*, work_order: WorkOrder, actor: Actor, note: str = "") -> WorkOrder:
    """Carry-in: repaired; the customer can collect the device."""
    locked = _lock(work_order)
    if locked.fulfilment_mode not in (FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN):
        raise Conflict(_("Only carry-in and mail-in orders are collected from an outlet."))
    return _workorder_transition(
        work_order=locked,
        held=True,
        to=S.COMPLETED,
        actor=actor,
        reason=note,
        event_type=EventType.READY_FOR_PICKUP,
    )


@service_atomic
def workorder_hand_over(*, work_order: WorkOrder, actor: Actor) -> WorkOrder:
    """Carry-in: the customer collected the device and accepted the repair."""
    locked = _lock(work_order)
    if locked.fulfilment_mode not in (FulfilmentMode.CARRY_IN, FulfilmentMode.MAIL_IN):
        raise Conflict(_("Only carry-in and mail-in orders are collected from an outlet."))
    return _workorder_transition(
        work_order=locked, held=True, to=S.CLOSED, actor=actor, event_type=EventType.HANDED_OVER
    )


# --- customer --------------------------------------------------------------------------------


@service_atomic
def workorder_confirm_completion(*, work_order: WorkOrder, actor: Actor) -> WorkOrder:
    """The customer confirms the work is done; the order closes."""
    return _workorder_transition(
        work_order=work_order, to=S.CLOSED, actor=actor, event_type=EventType.COMPLETION_CONFIRMED
    )


@service_atomic
def workorder_reject_completion(*, work_order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    """The customer says it is not fixed: the work goes on."""
    if not reason.strip():
        raise WorkOrderInvalid(_("Tell us what is still wrong."))
    return _workorder_transition(
        work_order=work_order,
        to=S.IN_SERVICE,
        actor=actor,
        reason=reason.strip(),
        event_type=EventType.COMPLETION_REJECTED,
    )


@service_atomic
def workorder_urge(*, work_order: WorkOrder, actor: Actor) -> WorkOrder:
    """催单: recorded and shown to staff; at most once per 30 minutes."""
    locked = _lock(work_order)
    if locked.status in TERMINAL or locked.status == S.COMPLETED:
        raise Conflict(_("This work order is already finished."))
    now = timezone.now()
    if locked.last_urged_at and now - locked.last_urged_at < URGE_INTERVAL:
        wait = URGE_INTERVAL - (now - locked.last_urged_at)
        minutes = int(wait.total_seconds() // 60) + 1
        raise RateLimited(
            _("We have your reminder. You can remind us again in %(minutes)d minutes.")
            % {"minutes": minutes},
            retry_after=int(wait.total_seconds()) + 1,
        )
    WorkOrder.objects.filter(pk=locked.pk).update(
        urge_count=F("urge_count") + 1, last_urged_at=now, updated_at=now
    )
    locked.refresh_from_db(fields=["urge_count", "last_urged_at", "updated_at"])
    _event(locked, EventType.URGED, actor, data={"count": locked.urge_count})
    return locked


@service_atomic
def workorder_reschedule(
    *, work_order: WorkOrder, actor: Actor, start: dt.datetime, end: dt.datetime
) -> WorkOrder:
    """The customer asks for another time. Before an appointment exists this changes the
    preferred window; afterwards it moves the appointment (the technician is told)."""
    if end <= start:
        raise WorkOrderInvalid(_("The time must end after it starts."))
    if start < timezone.now():
        raise WorkOrderInvalid(_("Choose a time in the future."))
    locked = _lock(work_order)
    if locked.status not in CUSTOMER_CANCELLABLE:
        raise Conflict(_("The repair has started; please call us to change the time."))
    if locked.status == S.SCHEDULED:
        return workorder_schedule(work_order=locked, actor=actor, start=start, end=end)
    locked.preferred_start, locked.preferred_end = start, end
    locked.save(update_fields=["preferred_start", "preferred_end", "updated_at"])
    _event(
        locked,
        EventType.APPOINTMENT_CHANGED,
        actor,
        data={"preferred_start": start.isoformat(), "preferred_end": end.isoformat()},
    )
    return locked
