"""Peak batch: 1,000 waiting orders over 10,000 technicians (issue 4 target: solve < 1 s).

    .venv/bin/python bench/dispatch_batch.py [--orders 1000] [--technicians 10000] [--k 10]
    .venv/bin/python bench/dispatch_batch.py --technicians 600   # a real peak: scarce capacity

Builds the same kind of synthetic pool as ``bench/dispatch_rank.py`` (positions across 杭州,
20 skill codes, loads and capacities, ratings, shifts), a deterministic batch of orders, then
times the candidate graph (``rank`` top-k per order), the solve (sparse LAPJVsp and, for
comparison, dense ``linear_sum_assignment`` on the same graph) and a greedy baseline (each
order in turn takes its cheapest technician with capacity left).
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from shouhou.dispatch.batch import (
    BatchOrder,
    candidate_graph,
    greedy,
    solve,
    unassigned_costs,
)
from shouhou.dispatch.matching import Weights, build_pool

CENTRE = (30.2741, 120.1551)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--technicians", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-dense", action="store_true", help="skip the dense comparison")
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
            "load": rng.randint(0, 5),
            "capacity": rng.choice([4, 6, 6, 8]),
            "rating": None if rng.random() < 0.1 else rng.uniform(3.0, 5.0),
            "on_shift": rng.random() < 0.8,
            "on_duty": rng.random() < 0.9,
            "skills": {code: rng.randint(1, 5) for code in rng.sample(skills, 4)},
            "first_time_fix": {code: rng.random() for code in rng.sample(faults, 5)},
        }
        for index in range(arguments.technicians)
    ]
    pool = build_pool(rows)
    orders = [
        BatchOrder(
            key=index,
            latitude=CENTRE[0] + rng.uniform(-0.25, 0.25),
            longitude=CENTRE[1] + rng.uniform(-0.3, 0.3),
            required_skills=tuple(rng.sample(skills, rng.choice([0, 1, 1, 2]))),
            fault_code=rng.choice(faults),
            priority=rng.choice(["normal", "normal", "high", "urgent"]),
        )
        for index in range(arguments.orders)
    ]
    weights = Weights()
    started = time.perf_counter()
    graph = candidate_graph(pool, orders, k=arguments.k, weights=weights)
    remaining = np.maximum(pool.capacity - pool.load, 0).astype(np.int64)
    available, _ = pool.availability()
    remaining[~available] = 0
    step = np.float64(weights.load) / pool.capacity.astype(np.float64)
    unassigned = unassigned_costs(
        len(orders), graph.cost, remaining, [order.priority for order in orders], slot_step=step
    )
    build = time.perf_counter() - started
    arguments_for_solve = {
        "order_count": len(orders),
        "order_index": graph.order_index,
        "technician_index": graph.technician_index,
        "cost": graph.cost,
        "remaining": remaining,
        "slot_step": step,
        "unassigned_cost": unassigned,
    }
    solve(**arguments_for_solve)  # warm up (imports, first allocation)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = solve(**arguments_for_solve, method="sparse")
        timings.append(time.perf_counter() - started)
    print(
        f"{len(orders)} orders × {len(pool)} technicians, top-{arguments.k} candidates: "
        f"{graph.order_index.size} edges, "
        f"{sum(1 for n in graph.eligible if n == 0)} orders with no eligible technician"
    )
    print(f"build (ranking top-k for every order): {build * 1000:.0f} ms")
    print(
        f"solve sparse (min_weight_full_bipartite_matching): "
        f"best {min(timings) * 1000:.1f} ms, median {sorted(timings)[2] * 1000:.1f} ms"
    )
    print(f"assigned {result.assigned_count} of {len(orders)}, total cost {result.cost:.3f}")
    if not arguments.no_dense:
        started = time.perf_counter()
        dense = solve(**arguments_for_solve, method="dense")
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"solve dense (linear_sum_assignment): {elapsed:.0f} ms, "
            f"assigned {dense.assigned_count}, total cost {dense.cost:.3f}"
        )
    started = time.perf_counter()
    sequence = sorted(
        range(len(orders)),
        key=lambda index: ["urgent", "high", "normal", "low"].index(orders[index].priority),
    )
    chosen, greedy_cost = greedy(
        order_count=len(orders),
        order_index=graph.order_index,
        technician_index=graph.technician_index,
        cost=graph.cost,
        remaining=remaining,
        slot_step=step,
        order_sequence=sequence,
    )
    greedy_assigned = int((chosen >= 0).sum())
    print(
        f"greedy baseline (urgent first, cheapest free technician): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms, assigned {greedy_assigned}, "
        f"total cost {greedy_cost:.3f}"
    )
    if greedy_assigned == result.assigned_count and greedy_cost:
        print(f"batch saves {100 * (1 - result.cost / greedy_cost):.1f}% of the greedy cost")
    else:
        print(f"batch serves {result.assigned_count - greedy_assigned} more orders than greedy")


if __name__ == "__main__":
    main()
