"""The technician pool as two reads: the roster (kept per process) and live state (every time).

Ranking runs on every accept, offer and suggestion, so what it reads is split by how often it
changes:

- **live state**, read on every call in one hand-written statement (no ORM compilation): who is
  active, status, last known and home position, service radius, capacity, rating, name, and
  today's load (open orders for today or without an appointment). These change during the day
  (a job is assigned, a technician goes on duty or moves), so they are never cached;
- the **roster**, kept per process for ``DISPATCH_CACHE_SECONDS``: skills with levels,
  first-time-fix history per fault, shifts, and days off for the day. A change made in this
  process clears it at once (signal receivers in ``DispatchConfig.ready``); another process
  sees it when its entry expires. A technician added or deactivated anywhere is seen at once,
  because the live read names every active technician and a roster that does not match it is
  rebuilt.

``technician_pool`` in ``selectors`` joins the two into a ``TechnicianPool``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Min

from shouhou.core.cache import TtlCache
from shouhou.core.phone import mask_phone
from shouhou.dispatch.models import DayOff, Shift, Technician, TechnicianSkill, TechnicianStatus

OPEN_STATUSES = ("assigned", "scheduled", "in_service")

ROSTER_CACHE: TtlCache[Roster] = TtlCache("DISPATCH_CACHE_SECONDS", max_entries=512)


@dataclass(frozen=True)
class LiveRow:
    id: int
    name: str
    latitude: float
    longitude: float
    home_latitude: float
    home_longitude: float
    radius_km: int
    capacity: int
    rating: float | None
    on_duty: bool
    load: int


@dataclass(frozen=True)
class Roster:
    """Slow-changing state of ``ids`` (in this order) for one day."""

    ids: tuple[int, ...]
    day: dt.date
    skill_codes: dict[str, int]
    skills: npt.NDArray[np.uint8]  # technicians × skill codes, levels 0–5 (shared: read only)
    first_time_fix: dict[str, npt.NDArray[np.float32]]  # fault code -> rate per technician
    # shifts of every weekday as parallel arrays: row index, weekday, start and end (seconds)
    shift_rows: npt.NDArray[np.int64]
    shift_weekdays: npt.NDArray[np.int64]
    shift_starts: npt.NDArray[np.int64]
    shift_ends: npt.NDArray[np.int64]
    off_today: npt.NDArray[np.bool_]

    def on_shift(self, moment: dt.datetime) -> npt.NDArray[np.bool_]:
        """Who has a shift covering ``moment`` (local time) and is not off that day."""
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        mask = (
            (self.shift_weekdays == moment.weekday())
            & (self.shift_starts <= seconds)
            & (self.shift_ends > seconds)
        )
        result = np.zeros(len(self.ids), dtype=np.bool_)
        result[self.shift_rows[mask]] = True
        if moment.date() != self.day:  # the roster's days off are for its own day only
            result &= ~_days_off(self.ids, moment.date())
        else:
            result &= ~self.off_today
        return result


def _seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _days_off(ids: tuple[int, ...], day: dt.date) -> npt.NDArray[np.bool_]:
    off = set(DayOff.objects.filter(technician_id__in=ids, day=day).values_list("technician_id"))
    return np.array([(pk,) in off for pk in ids], dtype=np.bool_)


def _build_roster(ids: tuple[int, ...], day: dt.date) -> Roster:
    from shouhou.workorders.models import Visit

    position = {pk: index for index, pk in enumerate(ids)}
    skills: list[dict[str, int]] = [{} for _ in ids]
    for technician_id, code, level in TechnicianSkill.objects.filter(
        technician_id__in=ids
    ).values_list("technician_id", "skill__code", "level"):
        skills[position[technician_id]][code] = level
    # First-time fix: of the orders a technician made the first visit to, how many were fixed
    # on that visit, per fault type.
    first_visits = (
        Visit.objects.filter(technician_id__in=ids, status="done")
        .values("work_order")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    tallies: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for technician_id, fault_code, outcome in Visit.objects.filter(
        pk__in=first_visits, work_order__fault_type__isnull=False
    ).values_list("technician_id", "work_order__fault_type__code", "outcome"):
        if technician_id in position:
            tally = tallies[technician_id][fault_code]
            tally[0] += outcome == "fixed"
            tally[1] += 1
    codes = {code: index for index, code in enumerate(sorted({c for s in skills for c in s}))}
    matrix = np.zeros((len(ids), len(codes)), dtype=np.uint8)
    for index, levels in enumerate(skills):
        for code, level in levels.items():
            matrix[index, codes[code]] = level
    first_time_fix: dict[str, npt.NDArray[np.float32]] = {}
    for technician_id, by_fault in tallies.items():
        for fault_code, (fixed, total) in by_fault.items():
            rates = first_time_fix.setdefault(
                fault_code, np.full(len(ids), np.nan, dtype=np.float32)
            )
            rates[position[technician_id]] = fixed / total
    shifts = list(
        Shift.objects.filter(technician_id__in=ids).values_list(
            "technician_id", "weekday", "starts_at", "ends_at"
        )
    )
    return Roster(
        ids=ids,
        day=day,
        skill_codes=codes,
        skills=matrix,
        first_time_fix=first_time_fix,
        shift_rows=np.array([position[row[0]] for row in shifts], dtype=np.int64),
        shift_weekdays=np.array([row[1] for row in shifts], dtype=np.int64),
        shift_starts=np.array([_seconds(row[2]) for row in shifts], dtype=np.int64),
        shift_ends=np.array([_seconds(row[3]) for row in shifts], dtype=np.int64),
        off_today=_days_off(ids, day),
    )


def roster_for(ids: tuple[int, ...], day: dt.date) -> Roster:
    """The roster of exactly these technicians (as the live read lists them) for ``day``."""
    key = (ids, day)
    roster = ROSTER_CACHE.get_or_compute(key, lambda: _build_roster(ids, day))
    return roster


def _local_day_bounds(day: dt.date) -> tuple[Any, Any]:
    from django.utils import timezone

    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    adapt = connection.ops.adapt_datetimefield_value
    return adapt(start), adapt(end)


def live_rows(
    *, organization_ids: Iterable[int], day: dt.date, technician_ids: Iterable[int] | None = None
) -> list[LiveRow]:
    """Every active technician of these organisations (or only ``technician_ids`` of them),
    by id, with the state that changes during the day. One statement."""
    from shouhou.accounts.models import User
    from shouhou.workorders.models import WorkOrder

    organizations = sorted(organization_ids)
    if not organizations:
        return []
    technician_table = connection.ops.quote_name(Technician._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    order_table = connection.ops.quote_name(WorkOrder._meta.db_table)
    start, end = _local_day_bounds(day)
    params: list[Any] = [*OPEN_STATUSES, start, end, *organizations]
    only = ""
    if technician_ids is not None:
        chosen = sorted(technician_ids)
        if not chosen:
            return []
        only = f" AND t.id IN ({', '.join(['%s'] * len(chosen))})"
        params.extend(chosen)
    # Table names come from the models and every value is a parameter.
    sql = (
        "SELECT t.id, u.display_name, u.phone, t.home_latitude, t.home_longitude,"  # noqa: S608
        " t.last_latitude, t.last_longitude, t.service_radius_km, t.daily_capacity,"
        " t.rating_total, t.rating_count, t.status,"
        f" (SELECT COUNT(*) FROM {order_table} w WHERE w.technician_id = t.id"
        "   AND w.status IN (%s, %s, %s)"
        "   AND (w.appointment_start IS NULL"
        "        OR (w.appointment_start >= %s AND w.appointment_start < %s)))"
        f" FROM {technician_table} t INNER JOIN {user_table} u ON u.id = t.user_id"
        f" WHERE t.is_active AND t.organization_id IN ({', '.join(['%s'] * len(organizations))})"
        f"{only} ORDER BY t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows: list[LiveRow] = []
    for (
        pk,
        display_name,
        phone,
        home_latitude,
        home_longitude,
        last_latitude,
        last_longitude,
        radius_km,
        capacity,
        rating_total,
        rating_count,
        status,
        load,
    ) in fetched:
        home = (float(home_latitude), float(home_longitude))
        known = last_latitude is not None and last_longitude is not None
        rows.append(
            LiveRow(
                id=pk,
                # the same words as str(technician): the display name, else the masked number
                name=display_name or mask_phone(phone),
                latitude=float(last_latitude) if known else home[0],
                longitude=float(last_longitude) if known else home[1],
                home_latitude=home[0],
                home_longitude=home[1],
                radius_km=radius_km,
                capacity=capacity,
                rating=round(float(rating_total) / rating_count, 2) if rating_count else None,
                on_duty=status != TechnicianStatus.OFF_DUTY,
                load=load,
            )
        )
    return rows
