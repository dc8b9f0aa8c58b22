"""Rank technicians for a work order in well under a millisecond.

Technician state is kept in NumPy arrays (``TechnicianPool``); ranking one order is a handful
of vectorised operations, then ``argpartition`` for the best few. Measured on these machines a
pure-Python loop over 10,000 technicians takes 0.4–2 ms; arrays take about a tenth of that
(DESIGN.md section 8; ``bench/dispatch_rank.py`` prints the figures).

Hard constraints exclude a technician: every skill the fault needs, on shift now (and not on
a day off), inside their service radius, under their daily capacity, and not off duty. Soft
terms order the rest, each scaled to 0–1 where 0 is best, weighted per organisation
(``DispatchPolicy``): travel time, today's load, rating, first-time-fix rate for this fault,
and skill level. Every candidate carries the breakdown that produced its score, so the
dispatcher sees why, and the assignment event stores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
DEFAULT_RATING = 4.0  # a technician with no rating yet is treated as average, not as perfect
DEFAULT_FIRST_TIME_FIX = 0.8  # likewise for no history on a fault


@dataclass(frozen=True)
class Weights:
    travel: float = 0.45
    load: float = 0.2
    rating: float = 0.15
    first_time_fix: float = 0.1
    skill_level: float = 0.1
    road_factor: float = 1.35
    speed_kmh: float = 25.0


class TravelTimeProvider(Protocol):
    """Minutes from one point to many. The default is straight-line distance × a road factor
    at an average speed; a routing service (Amap, Baidu, OSRM) plugs in behind this."""

    def minutes(
        self,
        latitude: float,
        longitude: float,
        to_latitudes: npt.NDArray[np.float32],
        to_longitudes: npt.NDArray[np.float32],
        weights: Weights,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Return (road kilometres, minutes) for every destination."""
        ...


def distance_km(
    latitude: float,
    longitude: float,
    latitudes: npt.NDArray[np.float32],
    longitudes: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """Distance from one point to many on the equirectangular projection.

    Within a city or a region (under a few hundred kilometres) it differs from the great
    circle by far less than road distance differs from either, and needs no trigonometry
    per row — this is the hot loop of dispatch.
    """
    scale = np.float32(np.cos(np.radians(latitude)))
    dy = latitudes - np.float32(latitude)
    dx = (longitudes - np.float32(longitude)) * scale
    return np.sqrt(dx * dx + dy * dy) * np.float32(np.pi / 180 * EARTH_RADIUS_KM)


class StraightLineTravel:
    """The default travel estimate: great-circle distance × road factor at average speed."""

    def minutes(
        self,
        latitude: float,
        longitude: float,
        to_latitudes: npt.NDArray[np.float32],
        to_longitudes: npt.NDArray[np.float32],
        weights: Weights,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        road_km = distance_km(latitude, longitude, to_latitudes, to_longitudes) * np.float32(
            weights.road_factor
        )
        return road_km, road_km / np.float32(weights.speed_kmh) * np.float32(60)


@dataclass
class TechnicianPool:
    """A snapshot of technicians as arrays, one row per technician.

    ``skills`` is a (technicians × skill codes) matrix of levels 0–5 (0: lacks the skill);
    skills are matched by code, because a provider's or a merchant's technicians carry their
    own organisation's tags with the network's codes. ``first_time_fix`` holds, per fault-type
    code, the technician's first-visit fix rate (NaN where there is no history).
    """

    ids: npt.NDArray[np.int64]
    names: list[str]
    latitudes: npt.NDArray[np.float32]  # current position (last known, else home base)
    longitudes: npt.NDArray[np.float32]
    home_latitudes: npt.NDArray[np.float32]
    home_longitudes: npt.NDArray[np.float32]
    radius_km: npt.NDArray[np.float32]
    load: npt.NDArray[np.float32]
    capacity: npt.NDArray[np.float32]
    rating: npt.NDArray[np.float32]  # NaN: not rated yet
    on_shift: npt.NDArray[np.bool_]
    on_duty: npt.NDArray[np.bool_]
    skills: npt.NDArray[np.uint8]
    skill_codes: dict[str, int]
    first_time_fix: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)
    _availability: tuple[npt.NDArray[np.bool_], dict[str, int]] | None = field(
        default=None, repr=False, compare=False
    )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def availability(self) -> tuple[npt.NDArray[np.bool_], dict[str, int]]:
        """Who is on duty, on shift and under capacity, and how many each reason excludes
        (first reason wins). Cached: a pool is a snapshot and is never changed in place."""
        if self._availability is None:
            available = np.ones(len(self), dtype=np.bool_)
            excluded: dict[str, int] = {}
            for reason, mask in (
                ("off_duty", self.on_duty),
                ("not_on_shift", self.on_shift),
                ("at_capacity", self.load < self.capacity),
            ):
                newly = int((available & ~mask).sum())
                if newly:
                    excluded[reason] = newly
                available &= mask
            self._availability = (available, excluded)
        return self._availability


@dataclass(frozen=True)
class Candidate:
    technician_id: int
    name: str
    score: float
    breakdown: dict[str, Any]


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]
    considered: int
    excluded: dict[str, int]  # reason -> how many technicians it excluded (first reason wins)


URGENCY = {"low": 0.0, "normal": 0.0, "high": 0.5, "urgent": 1.0}


def rank(
    pool: TechnicianPool,
    *,
    latitude: float | None,
    longitude: float | None,
    required_skills: Iterable[str] = (),
    fault_code: str | None = None,
    priority: str = "normal",
    weights: Weights | None = None,
    limit: int = 5,
    travel: TravelTimeProvider | None = None,
) -> Ranking:
    """The best ``limit`` technicians for a job at (latitude, longitude), best first.

    Without coordinates (a carry-in job, an address not yet located) distance is neither a
    constraint nor a term. Urgent jobs weigh travel time up to twice as much.
    """
    weights = weights or Weights()
    count = len(pool)
    if count == 0:
        return Ranking([], 0, {})
    # The state constraints do not depend on the job: computed once per pool snapshot.
    available, state_excluded = pool.availability()
    excluded = dict(state_excluded)
    eligible = available.copy()

    def exclude(reason: str, mask: npt.NDArray[np.bool_]) -> None:
        newly = eligible & ~mask
        if newly.any():
            excluded[reason] = int(newly.sum())
        eligible[:] = eligible & mask

    columns = []
    for code in required_skills:
        column = pool.skill_codes.get(code)
        if column is None:
            # nobody in the pool has this skill at all
            exclude("missing_skill", np.zeros(count, dtype=np.bool_))
            break
        columns.append(column)
    levels = pool.skills[:, columns] if columns else None
    if levels is not None:
        exclude("missing_skill", np.asarray((levels > 0).all(axis=1), dtype=np.bool_))

    # Distances are the expensive part: compute them only for the technicians still eligible.
    chosen = np.flatnonzero(eligible)
    if chosen.size and latitude is not None and longitude is not None:
        from_home = distance_km(
            latitude, longitude, pool.home_latitudes[chosen], pool.home_longitudes[chosen]
        )
        inside = from_home <= pool.radius_km[chosen]
        if not inside.all():
            excluded["outside_service_area"] = int((~inside).sum())
            chosen = chosen[inside]
        provider = travel or StraightLineTravel()
        road_km, minutes = provider.minutes(
            latitude, longitude, pool.latitudes[chosen], pool.longitudes[chosen], weights
        )
    else:
        road_km = minutes = np.zeros(chosen.size, dtype=np.float32)
    if chosen.size == 0:
        return Ranking([], count, excluded)
    travel_term = np.minimum(minutes / np.float32(60), np.float32(1))
    load_term = pool.load[chosen] / pool.capacity[chosen]
    rating = np.where(
        np.isnan(pool.rating[chosen]), np.float32(DEFAULT_RATING), pool.rating[chosen]
    )
    rating_term = (np.float32(5) - rating) / np.float32(4)
    ftf_rates = pool.first_time_fix.get(fault_code or "")
    if ftf_rates is None:
        ftf = np.full(chosen.size, DEFAULT_FIRST_TIME_FIX, dtype=np.float32)
    else:
        ftf = np.where(
            np.isnan(ftf_rates[chosen]), np.float32(DEFAULT_FIRST_TIME_FIX), ftf_rates[chosen]
        )
    ftf_term = np.float32(1) - ftf
    if levels is not None and levels.shape[1]:
        mean_level = levels[chosen].mean(axis=1).astype(np.float32)
    else:
        mean_level = np.full(chosen.size, 3, dtype=np.float32)
    skill_term = (np.float32(5) - mean_level) / np.float32(4)
    travel_weight = weights.travel * (1 + URGENCY.get(priority, 0.0))
    score = (
        np.float32(travel_weight) * travel_term
        + np.float32(weights.load) * load_term
        + np.float32(weights.rating) * rating_term
        + np.float32(weights.first_time_fix) * ftf_term
        + np.float32(weights.skill_level) * skill_term
    )
    top = min(limit, chosen.size)
    best = np.argpartition(score, top - 1)[:top] if top < chosen.size else np.arange(chosen.size)
    best = best[np.argsort(score[best], kind="stable")]
    candidates = []
    for position in best:
        row = int(chosen[position])
        candidates.append(
            Candidate(
                technician_id=int(pool.ids[row]),
                name=pool.names[row],
                score=round(float(score[position]), 4),
                breakdown={
                    "distance_km": round(float(road_km[position]), 2),
                    "travel_minutes": round(float(minutes[position]), 1),
                    "load": int(pool.load[row]),
                    "capacity": int(pool.capacity[row]),
                    "rating": None
                    if np.isnan(pool.rating[row])
                    else round(float(pool.rating[row]), 2),
                    "first_time_fix": round(float(ftf[position]), 3),
                    "skill_level": round(float(mean_level[position]), 2),
                    "terms": {
                        "travel": round(float(travel_weight * travel_term[position]), 4),
                        "load": round(float(weights.load * load_term[position]), 4),
                        "rating": round(float(weights.rating * rating_term[position]), 4),
                        "first_time_fix": round(
                            float(weights.first_time_fix * ftf_term[position]), 4
                        ),
                        "skill_level": round(float(weights.skill_level * skill_term[position]), 4),
                    },
                },
            )
        )
    return Ranking(candidates, count, excluded)


def build_pool(
    rows: Sequence[Mapping[str, Any]], skill_codes: Iterable[str] = ()
) -> TechnicianPool:
    """A pool from plain rows (id, name, latitude, longitude, home_latitude, home_longitude,
    radius_km, load, capacity, rating, on_shift, on_duty, skills {code: level},
    first_time_fix {fault code: rate})."""
    codes = {
        code: index
        for index, code in enumerate(
            sorted(set(skill_codes) | {code for row in rows for code in row.get("skills", {})})
        )
    }
    skills = np.zeros((len(rows), len(codes)), dtype=np.uint8)
    fault_codes = {code for row in rows for code in row.get("first_time_fix", {})}
    first_time_fix = {code: np.full(len(rows), np.nan, dtype=np.float32) for code in fault_codes}
    for index, row in enumerate(rows):
        for code, level in row.get("skills", {}).items():
            skills[index, codes[code]] = level
        for code, rate in row.get("first_time_fix", {}).items():
            first_time_fix[code][index] = rate

    def column(name: str, dtype: Any, default: Any = None) -> Any:
        return np.array([row.get(name, default) for row in rows], dtype=dtype)

    return TechnicianPool(
        ids=column("id", np.int64),
        names=[str(row.get("name", "")) for row in rows],
        latitudes=column("latitude", np.float32),
        longitudes=column("longitude", np.float32),
        home_latitudes=np.array(
            [row.get("home_latitude", row["latitude"]) for row in rows], dtype=np.float32
        ),
        home_longitudes=np.array(
            [row.get("home_longitude", row["longitude"]) for row in rows], dtype=np.float32
        ),
        radius_km=column("radius_km", np.float32, 25),
        load=column("load", np.float32, 0),
        capacity=column("capacity", np.float32, 6),
        rating=np.array(
            [np.nan if row.get("rating") is None else row["rating"] for row in rows],
            dtype=np.float32,
        ),
        on_shift=column("on_shift", np.bool_, True),
        on_duty=column("on_duty", np.bool_, True),
        skills=skills,
        skill_codes=codes,
        first_time_fix=first_time_fix,
    )
