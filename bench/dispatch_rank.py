"""Ranking one order over N technicians, in process (issue 4 target: p99 <= 0.5 ms at 10,000).

    .venv/bin/python bench/dispatch_rank.py [--technicians 10000] [--orders 5000]

Builds a synthetic pool (positions across 杭州, 20 skill codes, loads, ratings, shifts,
first-time-fix history for 30 fault codes), then times ``rank`` for random orders.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time

from shouhou.dispatch.matching import build_pool, rank

CENTRE = (30.2741, 120.1551)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--technicians", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=5_000)
    arguments = parser.parse_args()
    rng = random.Random(2611)
    skills = [f"skill-{n}" for n in range(20)]
    faults = [f"fault-{n}" for n in range(30)]
    rows = [
        {
            "id": index,
            "name": f"T{index}",
            "latitude": CENTRE[0] + rng.uniform(-0.3, 0.3),
            "longitude": CENTRE[1] + rng.uniform(-0.35, 0.35),
            "radius_km": rng.choice([15, 20, 25, 30]),
            "load": rng.randint(0, 6),
            "capacity": 6,
            "rating": None if rng.random() < 0.1 else rng.uniform(3.0, 5.0),
            "on_shift": rng.random() < 0.8,
            "on_duty": rng.random() < 0.9,
            "skills": {code: rng.randint(1, 5) for code in rng.sample(skills, 4)},
            "first_time_fix": {code: rng.random() for code in rng.sample(faults, 5)},
        }
        for index in range(arguments.technicians)
    ]
    pool = build_pool(rows)
    # The rows are scaffolding of this script (≈ 100,000 small dicts); the pool holds arrays.
    # Dropping them keeps the garbage collector's full passes over them out of the timings.
    del rows
    gc.collect()
    orders = [
        (
            CENTRE[0] + rng.uniform(-0.25, 0.25),
            CENTRE[1] + rng.uniform(-0.3, 0.3),
            rng.sample(skills, rng.choice([0, 1, 1, 2])),
            rng.choice(faults),
            rng.choice(["normal", "normal", "high", "urgent"]),
        )
        for _ in range(arguments.orders)
    ]
    for order in orders[:200]:  # warm up
        rank(
            pool,
            latitude=order[0],
            longitude=order[1],
            required_skills=order[2],
            fault_code=order[3],
            priority=order[4],
        )
    timings, found = [], 0
    for latitude, longitude, required, fault, priority in orders:
        started = time.perf_counter()
        ranking = rank(
            pool,
            latitude=latitude,
            longitude=longitude,
            required_skills=required,
            fault_code=fault,
            priority=priority,
        )
        timings.append((time.perf_counter() - started) * 1000)
        found += bool(ranking.candidates)
    timings.sort()
    print(
        f"ranked {len(orders)} orders over {len(pool)} technicians "
        f"({found} with at least one eligible technician)"
    )
    print(
        f"ms per order: p50 {statistics.median(timings):.3f}  "
        f"p99 {timings[int(0.99 * (len(timings) - 1))]:.3f}  max {timings[-1]:.3f}"
    )


if __name__ == "__main__":
    main()
