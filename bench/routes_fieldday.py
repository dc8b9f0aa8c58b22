"""A synthetic field-service day through the product's route adapter (dispatch.routing).

50 technicians and 1,000 jobs in a 20 × 20 km city, deterministic (seeded): five skills (each
technician has two to four, about 70% of jobs need one), two-hour appointment windows or
all-day jobs, shifts that start between 08:00 and 10:00 and last 8–10 hours (home by the end),
work of 15–45 minutes, priorities low / normal / high / urgent. Travel is the straight line ×
1.35 at 25 km/h, as the product's default estimate.

The day is deliberately a little overbooked, so the priorities matter: the plan must serve
the urgent and high jobs first and report the rest unassigned. Prints the solve time, jobs
served (per priority), total travel, and an independent check of every route (skills, windows,
shift end). Target: solved in under 60 s.

    python bench/routes_fieldday.py                  # 30 s solver budget
    python bench/routes_fieldday.py --seconds 55 --technicians 50 --jobs 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shouhou.dispatch.routing import (
    RouteJob,
    RouteProblem,
    RouteVehicle,
    solve_routes,
    straight_line_matrices,
)

SKILLS = ["ac", "washer", "fridge", "gas", "ev"]
PRIORITIES = ["low", "normal", "high", "urgent"]
H = 3600


def build_day(technicians: int, jobs: int, seed: int) -> RouteProblem:
    rng = np.random.default_rng(seed)
    centre_lat, centre_lon = 30.27, 120.15
    half = 10 / 111  # ±10 km in degrees of latitude
    lat = centre_lat + rng.uniform(-half, half, technicians + jobs)
    lon = centre_lon + rng.uniform(-half, half, technicians + jobs) / np.cos(np.radians(30.27))
    distance, duration = straight_line_matrices(lat.tolist(), lon.tolist())

    vehicles = []
    for t in range(technicians):
        start = int(rng.integers(8, 11)) * H
        length = int(rng.integers(8, 11)) * H
        count = int(rng.integers(2, 5))
        skills = frozenset(rng.choice(SKILLS, size=count, replace=False).tolist())
        vehicles.append(RouteVehicle(f"T{t:02d}", t, t, start, start + length, skills))

    route_jobs = []
    for j in range(jobs):
        needs_skill = rng.random() < 0.7
        skills = frozenset({str(rng.choice(SKILLS))}) if needs_skill else frozenset()
        if rng.random() < 0.75:
            opens = int(rng.integers(8, 17)) * H
            window = (opens, opens + 2 * H)
        else:
            window = (8 * H, 18 * H)
        priority = int(rng.choice(4, p=[0.25, 0.5, 0.2, 0.05]))
        route_jobs.append(
            RouteJob(
                key=f"J{j:04d}",
                point=technicians + j,
                service_seconds=int(rng.integers(15, 46)) * 60,
                window_start=window[0],
                window_end=window[1],
                skills=skills,
                priority=priority,
            )
        )
    return RouteProblem(vehicles, route_jobs, distance, duration)


def check(problem: RouteProblem, solution) -> list[str]:
    """Re-check every route against the rules, independently of the solver."""
    errors = []
    jobs = {job.key: job for job in problem.jobs}
    vehicles = {vehicle.key: vehicle for vehicle in problem.vehicles}
    seen = set()
    for route in solution.routes:
        vehicle = vehicles[route.vehicle]
        clock, here = route.departure, vehicle.start
        if route.stops and route.departure < vehicle.shift_start:
            errors.append(f"{vehicle.key} leaves before the shift")
        for stop in route.stops:
            job = jobs[stop.job]
            seen.add(job.key)
            clock += int(problem.duration[here, job.point])
            start = max(clock, job.window_start)
            if start > job.window_end:
                errors.append(f"{job.key} starts late on {vehicle.key}")
            if not job.skills <= vehicle.skills:
                errors.append(f"{job.key} needs {set(job.skills)} that {vehicle.key} lacks")
            clock, here = start + job.service_seconds, job.point
        clock += int(problem.duration[here, vehicle.end])
        if route.stops and clock > vehicle.shift_end:
            errors.append(f"{vehicle.key} is home at {clock / H:.2f} h, after the shift")
    missing = set(jobs) - seen - set(solution.unassigned)
    if missing:
        errors.append(f"{len(missing)} jobs neither routed nor reported unassigned")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0, help="solver time budget")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    problem = build_day(args.technicians, args.jobs, args.seed)
    built = time.perf_counter() - started
    solution = solve_routes(problem, seconds=args.seconds, no_improvement=None)
    total = time.perf_counter() - started

    served = {s.job for r in solution.routes for s in r.stops}
    jobs = {job.key: job for job in problem.jobs}
    print(
        f"field day: {args.technicians} technicians, {args.jobs} jobs, seed {args.seed}, "
        f"solver budget {args.seconds:g} s"
    )
    print(f"build {built:.2f} s, solve {solution.seconds:.2f} s, total {total:.2f} s")
    print(f"jobs served {len(served)} of {len(jobs)}; unassigned {len(solution.unassigned)}")
    for rank, name in enumerate(PRIORITIES):
        of_rank = [k for k, job in jobs.items() if job.priority == rank]
        done = sum(1 for k in of_rank if k in served)
        print(f"  {name:7} served {done:4d} of {len(of_rank):4d}")
    busy = sum(1 for r in solution.routes if r.stops)
    print(
        f"total travel {solution.distance_m / 1000:.1f} km, "
        f"{solution.travel_seconds / H:.1f} h over {busy} technicians "
        f"(solver feasible: {solution.is_feasible})"
    )
    errors = check(problem, solution)
    print(
        "independent check:", "all routes keep skills, windows and shift ends" if not errors else ""
    )
    for error in errors[:20]:
        print("  ", error)
    print(f"target < 60 s: {'met' if total < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
