"""The batch solver: optimal against brute force, capacity, infeasible orders, explanations."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from shouhou.dispatch.batch import (
    BatchOrder,
    greedy,
    plan_batch,
    solve,
    unassigned_costs,
)
from shouhou.dispatch.matching import build_pool
from shouhou.dispatch.tests.test_matching import JOB, tech


def brute_force(order_count, edges, remaining, step, unassigned):
    """Every way to give each order one of its technicians or nothing (itertools.permutations
    over capacity slots and per-order "nothing" columns), cheapest objective wins."""
    cost = {(o, t): c for o, t, c in edges}
    columns = [("slot", t, s) for t in range(len(remaining)) for s in range(remaining[t])]
    columns += [("none", o, 0) for o in range(order_count)]
    best = None
    for chosen in itertools.permutations(columns, order_count):
        total = 0.0
        for order, (kind, who, slot) in enumerate(chosen):
            if kind == "none":
                if who != order:
                    break
                total += unassigned[order]
            else:
                if (order, who) not in cost:
                    break
                total += cost[(order, who)] + slot * step[who]
        else:
            # a technician's slot s used without slot s-1 costs more than the same with s-1:
            # such a permutation is never cheaper than its reordering, so it needs no filter.
            best = total if best is None else min(best, total)
    return best


def random_case(rng, orders, technicians, density=0.6):
    edges = [
        (o, t, round(rng.uniform(0.05, 1.5), 4))
        for o in range(orders)
        for t in range(technicians)
        if rng.random() < density
    ]
    remaining = [rng.randint(0, 2) for _ in range(technicians)]
    step = [round(rng.uniform(0, 0.1), 3) for _ in range(technicians)]
    return edges, remaining, step


def run(order_count, edges, remaining, step, unassigned=None, method="sparse"):
    return solve(
        order_count=order_count,
        order_index=np.array([e[0] for e in edges], dtype=np.int64),
        technician_index=np.array([e[1] for e in edges], dtype=np.int64),
        cost=np.array([e[2] for e in edges], dtype=np.float64),
        remaining=np.array(remaining, dtype=np.int64),
        slot_step=np.array(step, dtype=np.float64),
        unassigned_cost=unassigned,
        method=method,
    )


@pytest.mark.parametrize("method", ["sparse", "dense"])
@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_on_small_cases(seed, method):
    # given
    rng = random.Random(seed)
    order_count = rng.randint(1, 4)
    edges, remaining, step = random_case(rng, order_count, rng.randint(1, 3))
    unassigned = [rng.uniform(2, 4) for _ in range(order_count)]
    # when
    result = run(order_count, edges, remaining, step, unassigned, method)
    # then
    expected = brute_force(order_count, edges, remaining, step, unassigned)
    assert result.objective == pytest.approx(expected, abs=1e-9)


def test_beats_greedy_when_the_first_order_takes_the_only_technician_of_the_second():
    # order 0 likes technician 0 a bit better than technician 1; order 1 can only use 0
    edges = [(0, 0, 0.2), (0, 1, 0.3), (1, 0, 0.5)]
    result = run(2, edges, [1, 1], [0, 0])
    chosen, greedy_cost = greedy(
        order_count=2,
        order_index=np.array([0, 0, 1]),
        technician_index=np.array([0, 1, 0]),
        cost=np.array([0.2, 0.3, 0.5]),
        remaining=np.array([1, 1]),
    )
    assert result.technician.tolist() == [1, 0]
    assert result.cost == pytest.approx(0.8)
    assert chosen.tolist() == [0, -1]  # greedy strands the second order
    assert greedy_cost == pytest.approx(0.2)


def test_capacity_is_respected_and_slots_cost_more():
    # five orders all prefer technician 0 who has two jobs left; technician 1 has three
    edges = [(o, 0, 0.1) for o in range(5)] + [(o, 1, 0.4) for o in range(5)]
    result = run(5, edges, [2, 3], [0.05, 0.05])
    counts = np.bincount(result.technician[result.technician >= 0], minlength=2)
    assert counts.tolist() == [2, 3]
    assert sorted(result.slot[result.technician == 0].tolist()) == [0, 1]
    assert result.cost == pytest.approx(2 * 0.1 + 0.05 + 3 * 0.4 + 0.05 + 0.1)


def test_infeasible_order_stays_unassigned_and_the_rest_are_served():
    edges = [(0, 0, 0.3), (2, 0, 0.2)]  # order 1 has no candidate; 0 has one slot
    result = run(3, edges, [1], [0.0])
    assert result.technician.tolist().count(0) == 1
    assert result.technician[1] == -1
    assert result.assigned_count == 1


def test_assigns_as_many_as_possible_before_minimising_score():
    # the cheap pair (0→0, 1→1 impossible) versus serving both: both must be served
    edges = [(0, 0, 0.01), (0, 1, 1.4), (1, 0, 1.5)]
    result = run(2, edges, [1, 1], [0, 0])
    assert result.technician.tolist() == [1, 0]


def test_urgent_order_wins_the_last_slot():
    edges = [(0, 0, 0.1), (1, 0, 0.6)]
    costs = unassigned_costs(2, np.array([0.1, 0.6]), np.array([1]), ["normal", "urgent"])
    result = run(2, edges, [1], [0.0], costs)
    assert result.technician.tolist() == [-1, 0]


def test_no_orders_and_no_edges():
    assert run(0, [], [1], [0]).assigned_count == 0
    empty = run(2, [], [1], [0])
    assert empty.technician.tolist() == [-1, -1]


# --- plan_batch: the ranking's score, constraints and explanation ----------------------------


def test_plan_uses_the_ranking_and_explains_each_assignment():
    # given: two technicians with room for one job each, three orders near them
    pool = build_pool(
        [
            tech(1, north_km=1, load=5, capacity=6),
            tech(2, north_km=6, load=0, capacity=1),
            tech(3, north_km=2, on_duty=False),
        ]
    )
    orders = [
        BatchOrder(key=10, latitude=JOB[0], longitude=JOB[1], required_skills=("cooling",)),
        BatchOrder(key=11, latitude=JOB[0], longitude=JOB[1], required_skills=("cooling",)),
        BatchOrder(key=12, latitude=JOB[0], longitude=JOB[1], required_skills=("washing",)),
    ]
    # when
    plan = plan_batch(pool, orders)
    # then
    assert sorted(o.technician_id for o in plan.assigned) == [1, 2]
    assert [o.key for o in plan.unassigned] == [12]
    assert plan.unassigned[0].reason == "no_eligible_technician"
    assert plan.unassigned[0].excluded == {"off_duty": 1, "missing_skill": 2}
    first = plan.assigned[0].explanation
    assert set(first) >= {"place", "of", "score", "terms", "distance_km", "batch"}
    assert first["of"] == 2
    assert first["batch"]["orders"] == 3


def test_plan_leaves_an_order_when_capacity_runs_out_and_says_why():
    pool = build_pool([tech(1, load=5, capacity=6)])
    orders = [BatchOrder(key=k, latitude=JOB[0], longitude=JOB[1]) for k in (1, 2)]
    plan = plan_batch(pool, orders)
    assert len(plan.assigned) == 1
    assert plan.unassigned[0].reason == "capacity_taken"


def test_plan_skips_a_technician_who_declined_the_order():
    pool = build_pool([tech(1, north_km=1), tech(2, north_km=5)])
    orders = [
        BatchOrder(key=1, latitude=JOB[0], longitude=JOB[1], excluded_technicians=frozenset({1}))
    ]
    plan = plan_batch(pool, orders)
    assert plan.assigned[0].technician_id == 2


def test_plan_spreads_load_like_repeated_ranking():
    # two equally placed technicians, four orders: two each (slot cost = the load term)
    pool = build_pool([tech(1, north_km=1), tech(2, north_km=1, longitude=JOB[1])])
    orders = [BatchOrder(key=k, latitude=JOB[0], longitude=JOB[1]) for k in range(4)]
    plan = plan_batch(pool, orders)
    counts = sorted(sum(1 for o in plan.assigned if o.technician_id == t) for t in (1, 2))
    assert counts == [2, 2]


def test_sparse_and_dense_agree_on_a_larger_random_batch():
    rng = random.Random(7)
    rows = [
        tech(
            i,
            north_km=rng.uniform(-10, 10),
            load=rng.randint(0, 5),
            skills={code: rng.randint(1, 5) for code in rng.sample(["a", "b", "c"], 2)},
        )
        for i in range(60)
    ]
    pool = build_pool(rows)
    orders = [
        BatchOrder(
            key=k,
            latitude=JOB[0] + rng.uniform(-0.08, 0.08),
            longitude=JOB[1] + rng.uniform(-0.08, 0.08),
            required_skills=tuple(rng.sample(["a", "b", "c"], 1)),
        )
        for k in range(80)
    ]
    sparse = plan_batch(pool, orders, k=8, method="sparse")
    dense = plan_batch(pool, orders, k=8, method="dense")
    assert sparse.assignment.objective == pytest.approx(dense.assignment.objective, abs=1e-6)
    assert sparse.assignment.assigned_count == dense.assignment.assigned_count
    per_technician = np.bincount(
        sparse.assignment.technician[sparse.assignment.technician >= 0], minlength=len(pool)
    )
    assert (per_technician <= (pool.capacity - pool.load)).all()


def test_default_unassigned_cost_outweighs_even_steep_slot_steps():
    # both orders can only use technician 0, whose second job costs 100 more: still served
    result = run(2, [(0, 0, 0.1), (1, 0, 0.1)], [2], [100.0])
    assert result.assigned_count == 2
    assert result.cost == pytest.approx(100.2)
