"""Daily routes: order technicians' visits with a vehicle-routing solver.

This module is the only place that knows the solver. It takes a ``RouteProblem`` of plain
dataclasses (technicians as vehicles with a shift and skills, jobs with a place, a duration, an
arrival window, required skills and a priority; times in seconds from midnight, travel as
integer matrices) and returns a ``RouteSolution`` (each technician's ordered stops with arrival,
start and end, and the jobs nobody can do). Django models never reach it, so a different
solver plugs in behind ``solve_routes`` without touching the services.

The solver is PyVRP, chosen by measurement (docs/routing.md, ``bench/routes_solomon.py``):
the smallest gap to the best-known Solomon solutions at 5 s of the three solvers measured.

How the field-service rules map onto it:

- Shift: the vehicle's time window (leave no earlier than the shift start, back at the end
  point by the shift end).
- Appointment window: the client's time window for the start of the work.
- Skills: PyVRP has no skills, so each skill is a load dimension; a job needing the skill
  carries 1 unit of it, a technician with the skill can carry every job's unit, one without has
  capacity 0 (DESIGN.md section 8).
- Priorities: every job is optional with a prize worth 50 km of driving, doubling with each
  priority step, so the solver serves every job it can fit and, when it cannot fit all,
  drops the low-priority ones first. A job left out is returned in ``unassigned`` — never
  silently dropped.
- Windows, shift ends and skills are soft in PyVRP (penalised); the penalty cap is raised far
  above the prizes, and the times we return are recomputed along each route, keeping only
  the stops that hold (a stop that would not is reported unassigned), so a plan never breaks
  a rule even if the solver's best solution did.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from shouhou.dispatch.matching import EARTH_RADIUS_KM

# A served job is worth 50 km of extra driving (costs are metres), so the solver serves every
# job it can fit within a city; each priority step doubles it (a high job outweighs two low).
PRIZE_BASE = 50_000
PRIORITY_PRIZE_FACTOR = 2
MAX_PENALTY = 10_000_000.0  # per unit of excess load or second of lateness; see _solve_pyvrp


@dataclass(frozen=True)
class RouteVehicle:
    """A technician for one day: where the day starts and ends, the shift, the skills."""

    key: Hashable
    start: int  # index into the problem's points
    end: int
    shift_start: int  # seconds from midnight
    shift_end: int
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RouteJob:
    """A visit to route: its point, work duration, arrival window, skills and priority."""

    key: Hashable
    point: int
    service_seconds: int
    window_start: int  # the work may start from here ...
    window_end: int  # ... until here (seconds from midnight)
    skills: frozenset[str] = frozenset()
    priority: int = 1  # 0 low, 1 normal, 2 high, 3 urgent


@dataclass
class RouteProblem:
    """Everything the solver needs. ``distance`` (metres) and ``duration`` (seconds) are square
    integer matrices over the points that the vehicles and jobs refer to."""

    vehicles: Sequence[RouteVehicle]
    jobs: Sequence[RouteJob]
    distance: npt.NDArray[np.int64]
    duration: npt.NDArray[np.int64]


@dataclass(frozen=True)
class PlannedStop:
    job: Hashable
    arrival: int  # seconds from midnight
    start: int  # after waiting for the window to open
    end: int
    travel_seconds: int  # from the previous stop (or the start point)
    distance_m: int


@dataclass
class PlannedRoute:
    vehicle: Hashable
    stops: list[PlannedStop]
    departure: int
    return_at: int
    distance_m: int
    travel_seconds: int


@dataclass
class RouteSolution:
    routes: list[PlannedRoute]
    unassigned: list[Hashable]
    is_feasible: bool
    seconds: float = 0.0
    solver: str = "pyvrp"
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def distance_m(self) -> int:
        return sum(route.distance_m for route in self.routes)

    @property
    def travel_seconds(self) -> int:
        return sum(route.travel_seconds for route in self.routes)


def straight_line_matrices(
    latitudes: Sequence[float],
    longitudes: Sequence[float],
    *,
    road_factor: float = 1.35,
    speed_kmh: float = 25.0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Road metres and seconds between all points: straight line (equirectangular, as the
    ranking uses) × road factor at an average speed. A road-network service can replace this
    by filling the same two matrices."""
    lat = np.radians(np.asarray(latitudes, dtype=np.float64))
    lon = np.radians(np.asarray(longitudes, dtype=np.float64))
    mean_lat = (lat[:, None] + lat[None, :]) / 2
    dx = (lon[:, None] - lon[None, :]) * np.cos(mean_lat)
    dy = lat[:, None] - lat[None, :]
    metres = np.sqrt(dx * dx + dy * dy) * EARTH_RADIUS_KM * 1000 * road_factor
    seconds = metres / (speed_kmh * 1000 / 3600)
    return np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64)


def solve_routes(
    problem: RouteProblem,
    *,
    seconds: float = 2.0,
    seed: int = 1,
    no_improvement: int | None = 2_000,
) -> RouteSolution:
    """Order the jobs onto the vehicles; see the module docstring for the modelling.

    Stops after ``seconds``, or earlier after ``no_improvement`` iterations without a better
    solution (a technician's dozen jobs settle in well under a second); None: always use
    the full time.

    Jobs that no vehicle has the skills for, or whose window cannot be met by any vehicle
    (it closes before the shift starts or opens after it ends), are left out before solving
    and reported unassigned with the rest.
    """
    started = time.perf_counter()
    if not problem.jobs:
        return RouteSolution(
            routes=[
                PlannedRoute(v.key, [], v.shift_start, v.shift_start, 0, 0)
                for v in problem.vehicles
            ],
            unassigned=[],
            is_feasible=True,
        )
    routable, hopeless = _screen(problem)
    if not routable or not problem.vehicles:
        return RouteSolution(
            routes=[
                PlannedRoute(v.key, [], v.shift_start, v.shift_start, 0, 0)
                for v in problem.vehicles
            ],
            unassigned=[job.key for job in problem.jobs],
            is_feasible=True,
            seconds=time.perf_counter() - started,
        )
    solution = _solve_pyvrp(
        problem, routable, seconds=seconds, seed=seed, no_improvement=no_improvement
    )
    solution.unassigned = [job.key for job in hopeless] + solution.unassigned
    solution.seconds = time.perf_counter() - started
    return solution


def _screen(problem: RouteProblem) -> tuple[list[RouteJob], list[RouteJob]]:
    routable: list[RouteJob] = []
    hopeless: list[RouteJob] = []
    for job in problem.jobs:
        possible = any(
            job.skills <= vehicle.skills
            and job.window_end >= vehicle.shift_start
            and job.window_start + job.service_seconds <= vehicle.shift_end
            for vehicle in problem.vehicles
        )
        (routable if possible else hopeless).append(job)
    return routable, hopeless


def _solve_pyvrp(
    problem: RouteProblem,
    jobs: list[RouteJob],
    *,
    seconds: float,
    seed: int,
    no_improvement: int | None,
) -> RouteSolution:
    import pyvrp  # imported here: 0.2 s to load, and only route planning needs it
    from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

    skill_codes = sorted({code for job in jobs for code in job.skills})
    dimension = {code: i for i, code in enumerate(skill_codes)}
    # Locations: one per vehicle start and end (depots come first in PyVRP), then the jobs.
    points: list[int] = []
    depots: list[Any] = []
    vehicle_types = []
    for vehicle in problem.vehicles:
        start_depot = len(depots)
        depots.append(pyvrp.Depot(location=len(points)))
        points.append(vehicle.start)
        end_depot = len(depots)
        depots.append(pyvrp.Depot(location=len(points)))
        points.append(vehicle.end)
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=1,
                capacity=[len(jobs) if code in vehicle.skills else 0 for code in skill_codes],
                start_depot=start_depot,
                end_depot=end_depot,
                tw_early=vehicle.shift_start,
                tw_late=vehicle.shift_end,
                name=str(vehicle.key),
            )
        )
    clients = []
    for job in jobs:
        delivery = [0] * len(skill_codes)
        for code in job.skills:
            delivery[dimension[code]] = 1
        clients.append(
            pyvrp.Client(
                location=len(points),
                delivery=delivery,
                service_duration=job.service_seconds,
                tw_early=job.window_start,
                tw_late=job.window_end,
                prize=PRIZE_BASE * PRIORITY_PRIZE_FACTOR ** max(0, min(job.priority, 3)),
                required=False,
            )
        )
        points.append(job.point)
    index = np.asarray(points, dtype=np.int64)
    distance = np.ascontiguousarray(problem.distance[np.ix_(index, index)], dtype=np.int64)
    duration = np.ascontiguousarray(problem.duration[np.ix_(index, index)], dtype=np.int64)
    locations = [pyvrp.Location(x=0.0, y=0.0) for _ in points]
    matrices: list[Any] = [distance]
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        matrices,
        [duration],  # type: ignore[list-item]
    )
    stop: Any = MaxRuntime(seconds)
    if no_improvement is not None:
        stop = MultipleCriteria([stop, NoImprovement(no_improvement)])
    # PyVRP treats windows and loads as soft constraints with adaptive penalties, capped at
    # max_penalty per unit. The cap must sit well above the largest prize, or breaking a
    # window or a skill to collect an urgent job's prize would pay.
    params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=MAX_PENALTY))
    result = pyvrp.solve(data, stop=stop, seed=seed, display=False, params=params)
    best = result.best

    orders: dict[int, list[int]] = {}
    departures: dict[int, int] = {}
    for route in best.routes():
        orders[route.vehicle_type()] = [a.idx for a in route.schedule() if a.is_client()]
        departures[route.vehicle_type()] = route.start_time()
    routes: list[PlannedRoute] = []
    served: set[int] = set()
    for v, vehicle in enumerate(problem.vehicles):
        kept = _timed_route(
            problem, vehicle, [jobs[i] for i in orders.get(v, [])], departures.get(v)
        )
        routes.append(kept)
        served.update(i for i in orders.get(v, []) if jobs[i].key in {s.job for s in kept.stops})
    return RouteSolution(
        routes=routes,
        unassigned=[job.key for i, job in enumerate(jobs) if i not in served],
        is_feasible=best.is_feasible(),
        stats={"iterations": float(result.num_iterations), "cost": float(result.cost())},
    )


def _timed_route(
    problem: RouteProblem, vehicle: RouteVehicle, sequence: list[RouteJob], departure: int | None
) -> PlannedRoute:
    """Times along ``sequence`` computed here, not taken from the solver, keeping only the stops
    that truly hold: the technician has the skills, the work starts inside the window, and the
    technician is back by the shift end (else the last stops go). Anything dropped is reported
    unassigned by the caller. With a feasible solver result nothing is dropped."""
    sequence = [job for job in sequence if job.skills <= vehicle.skills]
    leave = max(vehicle.shift_start, departure if departure is not None else 0)
    while True:
        stops: list[PlannedStop] = []
        clock, here, metres, travel_total = leave, vehicle.start, 0, 0
        for job in sequence:
            travel = int(problem.duration[here, job.point])
            arrival = clock + travel
            start = max(arrival, job.window_start)
            if start > job.window_end:
                continue  # late: drop it and go on from where we are
            step = int(problem.distance[here, job.point])
            stops.append(
                PlannedStop(job.key, arrival, start, start + job.service_seconds, travel, step)
            )
            clock, here = start + job.service_seconds, job.point
            metres += step
            travel_total += travel
        back = clock + int(problem.duration[here, vehicle.end])
        if back <= vehicle.shift_end or not stops:
            break
        kept = {stop.job for stop in stops}
        sequence = [job for job in sequence if job.key in kept][:-1]
    if not stops:
        return PlannedRoute(vehicle.key, [], vehicle.shift_start, vehicle.shift_start, 0, 0)
    metres += int(problem.distance[here, vehicle.end])
    travel_total += int(problem.duration[here, vehicle.end])
    return PlannedRoute(vehicle.key, stops, leave, back, metres, travel_total)
