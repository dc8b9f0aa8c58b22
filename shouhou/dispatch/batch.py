"""Peak batch: give many waiting orders to technicians at once, at the least total cost.

Ranking one order at a time (``matching.rank``) is greedy: at a peak the first order takes the
technician the fifth order needed most. Here the whole batch is one min-cost bipartite matching:

1. **Candidate graph.** For each order, its best ``k`` technicians by exactly the ranking's
   score (``rank`` with ``limit=k``): every hard constraint applies (skills, shift and days
   off, service area, on duty, under capacity) and each edge keeps the ranking's breakdown,
   which becomes the assignment's explanation.
2. **Capacity slots.** A technician with ``r`` jobs left today becomes ``r`` columns (only as
   many as orders point at them). Slot ``s`` costs the order's score plus ``s`` steps of the
   load term (``weight_load ÷ capacity``): the score the order would get if the ranking were
   re-run after the technician took ``s`` more jobs of this batch. The step grows with ``s``,
   so an optimal matching always fills a technician's cheaper slots first.
3. **Unassigned columns.** Each order also has its own "unassigned" column whose cost is far
   above any path of real edges, so the matching first assigns as many orders as possible,
   then prefers urgent orders, then minimises the total score; an order nobody can take stays
   unassigned instead of making the problem infeasible.
4. **Solve** with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` (LAPJVsp) on the
   sparse graph, or ``scipy.optimize.linear_sum_assignment`` on the same graph as a dense
   matrix (small batches, and to cross-check).

Approximation, stated plainly: only the top ``k`` technicians of each order are candidates,
so an order can stay unassigned when its ``k`` best are all taken although a worse one was
free (raise ``k``); travel is from each technician's current position, not from the previous
job of the batch (routes are a later step).

Everything here is pure: arrays and pool snapshots in, an assignment out; no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from shouhou.dispatch.matching import Candidate, TechnicianPool, TravelTimeProvider, Weights, rank

DEFAULT_CANDIDATES = 10
# How much more it costs to leave an order of this priority unassigned (see unassigned_costs).
PRIORITY_STAKE = {"low": 1.0, "normal": 1.0, "high": 1.25, "urgent": 1.5}

Method = Literal["sparse", "dense"]


@dataclass(frozen=True)
class Assignment:
    """The solver's answer: for each order the technician row (``-1``: unassigned) and the
    capacity slot it used (0 for the technician's first job of the batch)."""

    technician: npt.NDArray[np.int64]
    slot: npt.NDArray[np.int64]
    edge: npt.NDArray[np.int64]  # index of the chosen edge in the graph, -1 when unassigned
    cost: float  # sum of the assigned orders' costs, slots included
    objective: float  # cost + the unassigned orders' costs

    @property
    def assigned_count(self) -> int:
        return int((self.technician >= 0).sum())


def solve(
    *,
    order_count: int,
    order_index: npt.NDArray[np.int64],
    technician_index: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    remaining: npt.NDArray[np.int64],
    slot_step: npt.NDArray[np.float64] | float = 0.0,
    unassigned_cost: npt.NDArray[np.float64] | float | None = None,
    method: Method = "sparse",
) -> Assignment:
    """Min-cost assignment of orders to technicians under capacity.

    ``order_index[e], technician_index[e], cost[e]`` are the edges (each pair at most once);
    ``remaining[t]`` is how many more jobs technician row ``t`` may take; the ``s``-th extra job
    of a technician (from 0) costs ``cost + s * slot_step[t]``. ``unassigned_cost[o]`` is the
    price of leaving order ``o`` unassigned; the default (``unassigned_costs``) makes the solver
    assign as many orders as it can before it looks at scores.
    """
    # SciPy loads in a few hundred milliseconds: only when a batch runs, not at every start.
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    order_index = np.asarray(order_index, dtype=np.int64)
    technician_index = np.asarray(technician_index, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    remaining = np.asarray(remaining, dtype=np.int64)
    steps = np.broadcast_to(np.asarray(slot_step, dtype=np.float64), remaining.shape)
    if unassigned_cost is None:
        unassigned_cost = unassigned_costs(order_count, cost, remaining, slot_step=steps)
    unassigned = np.broadcast_to(np.asarray(unassigned_cost, dtype=np.float64), (order_count,))
    nothing = np.full(order_count, -1, dtype=np.int64)
    if order_count == 0:
        return Assignment(nothing, nothing.copy(), nothing.copy(), 0.0, 0.0)

    # Slot columns: a technician gets min(remaining, orders pointing at them) columns.
    technicians, inverse, degree = np.unique(
        technician_index, return_inverse=True, return_counts=True
    )
    slots = np.minimum(np.maximum(remaining[technicians], 0), degree).astype(np.int64)
    first_column = np.concatenate(([0], np.cumsum(slots)[:-1])).astype(np.int64)
    slot_columns = int(slots.sum())
    per_edge = slots[inverse.reshape(-1)]
    expanded = np.repeat(np.arange(order_index.size, dtype=np.int64), per_edge)
    offsets = np.arange(expanded.size, dtype=np.int64) - np.repeat(
        np.cumsum(per_edge) - per_edge, per_edge
    )
    rows = order_index[expanded]
    columns = first_column[inverse[expanded]] + offsets
    weights = cost[expanded] + offsets * steps[technician_index[expanded]]
    # Column slot_columns + o is order o's own "unassigned" column.
    all_rows = np.concatenate((rows, np.arange(order_count, dtype=np.int64)))
    all_columns = np.concatenate((columns, slot_columns + np.arange(order_count, dtype=np.int64)))
    all_weights = np.concatenate((weights, unassigned))
    shape = (order_count, slot_columns + order_count)

    if method == "sparse":
        # The sparse solver reads a stored zero as "no edge": shift every weight by the same
        # positive constant. Every order takes exactly one column, so the optimum is unchanged.
        shift = 1.0 - min(0.0, float(all_weights.min()))
        graph = csr_matrix((all_weights + shift, (all_rows, all_columns)), shape=shape)
        matched_rows, matched_columns = min_weight_full_bipartite_matching(graph)
    elif method == "dense":
        dense = np.full(shape, np.inf)
        dense[all_rows, all_columns] = all_weights
        matched_rows, matched_columns = linear_sum_assignment(dense)
    else:
        raise ValueError(f"unknown method {method!r}")

    # Map each chosen slot column back to its technician, slot and edge.
    column_of_order = np.full(order_count, slot_columns, dtype=np.int64)
    column_of_order[matched_rows] = matched_columns
    assigned = column_of_order < slot_columns
    orders_assigned = np.flatnonzero(assigned)
    chosen_columns = column_of_order[assigned]
    owner = np.searchsorted(first_column, chosen_columns, side="right") - 1
    technician = nothing.copy()
    slot = nothing.copy()
    technician[assigned] = technicians[owner]
    slot[assigned] = chosen_columns - first_column[owner]
    # (order, technician) is unique per edge: find the chosen edges by a sorted key.
    stride = int(remaining.size) + 1
    keys = order_index * stride + technician_index
    by_key = np.argsort(keys, kind="stable")
    found = np.searchsorted(keys[by_key], orders_assigned * stride + technician[assigned])
    chosen_edge = nothing.copy()
    chosen_edge[assigned] = by_key[found]
    total = float(
        (cost[chosen_edge[assigned]] + slot[assigned] * steps[technician[assigned]]).sum()
    )
    left = float(unassigned[~assigned].sum())
    return Assignment(technician, slot, chosen_edge, total, total + left)


def unassigned_costs(
    order_count: int,
    cost: npt.NDArray[np.float64],
    remaining: npt.NDArray[np.int64],
    priorities: Sequence[str] | None = None,
    slot_step: npt.NDArray[np.float64] | float = 0.0,
) -> npt.NDArray[np.float64]:
    """The price of leaving each order unassigned: more than any chain of real edges can cost
    (so one more assigned order always wins), times the priority's stake (so at equal counts an
    urgent order is served before a normal one)."""
    # The dearest real edge: its score plus the steps of the last slot it could take.
    largest = float(np.max(np.abs(cost))) if np.size(cost) else 0.0
    steps = np.broadcast_to(np.asarray(slot_step, dtype=np.float64), np.shape(remaining))
    slots = np.minimum(np.maximum(np.asarray(remaining) - 1, 0), max(order_count - 1, 0))
    extra = float(np.max(np.abs(steps) * slots)) if np.size(slots) else 0.0
    # An augmenting path that serves one more order swaps at most order_count real edges, so
    # it changes the real cost by less than (order_count + 1) × the dearest edge.
    base = (largest + extra + 1.0) * (order_count + 1)
    stakes = np.ones(order_count, dtype=np.float64)
    if priorities is not None:
        stakes = np.array([PRIORITY_STAKE.get(p, 1.0) for p in priorities], dtype=np.float64)
    return base * stakes


# --- from orders to a plan --------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOrder:
    """What the batch needs to know about one waiting order."""

    key: int  # the caller's id for it (a work-order pk)
    latitude: float | None
    longitude: float | None
    required_skills: tuple[str, ...] = ()
    fault_code: str | None = None
    priority: str = "normal"
    excluded_technicians: frozenset[int] = frozenset()  # ids that declined this order


@dataclass(frozen=True)
class CandidateGraph:
    """Edges (order row, technician row, score) with the ranking's candidate behind each."""

    order_index: npt.NDArray[np.int64]
    technician_index: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]
    candidates: list[Candidate]  # one per edge
    places: npt.NDArray[np.int64]  # the edge's place in its order's ranking (1 = best)
    eligible: list[int]  # per order: how many technicians met every hard constraint
    excluded: list[dict[str, int]]  # per order: which constraint left how many out


def candidate_graph(
    pool: TechnicianPool,
    orders: Sequence[BatchOrder],
    *,
    k: int = DEFAULT_CANDIDATES,
    weights: Weights | None = None,
    travel: TravelTimeProvider | None = None,
) -> CandidateGraph:
    """Each order's best ``k`` technicians by the ranking's own score and constraints."""
    row_of = {int(technician_id): row for row, technician_id in enumerate(pool.ids.tolist())}
    order_rows: list[int] = []
    technician_rows: list[int] = []
    costs: list[float] = []
    candidates: list[Candidate] = []
    places: list[int] = []
    eligible: list[int] = []
    excluded: list[dict[str, int]] = []
    for index, order in enumerate(orders):
        ranking = rank(
            pool,
            latitude=order.latitude,
            longitude=order.longitude,
            required_skills=order.required_skills,
            fault_code=order.fault_code,
            priority=order.priority,
            weights=weights,
            limit=k + len(order.excluded_technicians),
            travel=travel,
        )
        left_out = dict(ranking.excluded)
        kept = [c for c in ranking.candidates if c.technician_id not in order.excluded_technicians][
            :k
        ]
        declined = len(ranking.candidates) - len(kept)
        if declined and len(ranking.candidates) <= k + len(order.excluded_technicians):
            left_out["declined"] = sum(
                1 for c in ranking.candidates if c.technician_id in order.excluded_technicians
            )
        eligible.append(
            ranking.considered - sum(ranking.excluded.values()) - left_out.get("declined", 0)
        )
        excluded.append(left_out)
        for place, candidate in enumerate(kept, 1):
            order_rows.append(index)
            technician_rows.append(row_of[candidate.technician_id])
            costs.append(candidate.score)
            candidates.append(candidate)
            places.append(place)
    return CandidateGraph(
        order_index=np.array(order_rows, dtype=np.int64),
        technician_index=np.array(technician_rows, dtype=np.int64),
        cost=np.array(costs, dtype=np.float64),
        candidates=candidates,
        places=np.array(places, dtype=np.int64),
        eligible=eligible,
        excluded=excluded,
    )


@dataclass(frozen=True)
class PlannedOrder:
    """One order's outcome: a technician with the explanation, or the reason it stays."""

    key: int
    technician_id: int | None = None
    explanation: dict[str, object] = field(default_factory=dict)
    reason: str = ""  # "no_eligible_technician" or "capacity_taken" when unassigned
    excluded: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchPlan:
    orders: list[PlannedOrder]
    assignment: Assignment
    technicians_considered: int

    @property
    def assigned(self) -> list[PlannedOrder]:
        return [order for order in self.orders if order.technician_id is not None]

    @property
    def unassigned(self) -> list[PlannedOrder]:
        return [order for order in self.orders if order.technician_id is None]


def plan_batch(
    pool: TechnicianPool,
    orders: Sequence[BatchOrder],
    *,
    k: int = DEFAULT_CANDIDATES,
    weights: Weights | None = None,
    travel: TravelTimeProvider | None = None,
    method: Method = "sparse",
) -> BatchPlan:
    """The optimal batch under the ranking's score, each assignment with its explanation."""
    weights = weights or Weights()
    graph = candidate_graph(pool, orders, k=k, weights=weights, travel=travel)
    remaining = np.maximum(pool.capacity - pool.load, 0).astype(np.int64)
    # Not on duty or not on shift: no slot at all (rank already keeps them out of the graph).
    available, _excluded = pool.availability()
    remaining[~available] = 0
    step = np.float64(weights.load) / np.maximum(pool.capacity.astype(np.float64), 1.0)
    assignment = solve(
        order_count=len(orders),
        order_index=graph.order_index,
        technician_index=graph.technician_index,
        cost=graph.cost,
        remaining=remaining,
        slot_step=step,
        unassigned_cost=unassigned_costs(
            len(orders),
            graph.cost,
            remaining,
            [order.priority for order in orders],
            slot_step=step,
        ),
        method=method,
    )
    planned: list[PlannedOrder] = []
    for index, order in enumerate(orders):
        edge = int(assignment.edge[index])
        if edge < 0:
            planned.append(
                PlannedOrder(
                    key=order.key,
                    reason="capacity_taken" if graph.eligible[index] else "no_eligible_technician",
                    excluded=graph.excluded[index],
                )
            )
            continue
        candidate = graph.candidates[edge]
        slot = int(assignment.slot[index])
        technician_row = int(assignment.technician[index])
        planned.append(
            PlannedOrder(
                key=order.key,
                technician_id=candidate.technician_id,
                explanation={
                    "place": int(graph.places[edge]),
                    "of": graph.eligible[index],
                    "score": candidate.score,
                    **candidate.breakdown,
                    "batch": {
                        "orders": len(orders),
                        "job_in_batch": slot + 1,
                        "cost": round(candidate.score + slot * float(step[technician_row]), 4),
                    },
                },
            )
        )
    return BatchPlan(planned, assignment, len(pool))


def greedy(
    *,
    order_count: int,
    order_index: npt.NDArray[np.int64],
    technician_index: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    remaining: npt.NDArray[np.int64],
    slot_step: npt.NDArray[np.float64] | float = 0.0,
    order_sequence: Iterable[int] | None = None,
) -> tuple[npt.NDArray[np.int64], float]:
    """The baseline a dispatcher gets by ranking orders one after another: each order, in
    sequence, takes its cheapest technician with capacity left. Returns (technician per order,
    total cost of the assigned). For comparison only (``bench/dispatch_batch.py``)."""
    left = np.asarray(remaining, dtype=np.int64).copy()
    steps = np.broadcast_to(np.asarray(slot_step, dtype=np.float64), left.shape)
    taken = np.zeros(left.shape, dtype=np.int64)
    order_of_edges = np.argsort(order_index, kind="stable")
    boundaries = np.searchsorted(order_index[order_of_edges], np.arange(order_count + 1))
    by_order: Mapping[int, npt.NDArray[np.int64]] = {
        o: order_of_edges[boundaries[o] : boundaries[o + 1]] for o in range(order_count)
    }
    chosen = np.full(order_count, -1, dtype=np.int64)
    total = 0.0
    for o in order_sequence if order_sequence is not None else range(order_count):
        edges = by_order[o]
        if edges.size == 0:
            continue
        techs = technician_index[edges]
        prices = cost[edges] + taken[techs] * steps[techs]
        prices = np.where(left[techs] > 0, prices, np.inf)
        best = int(np.argmin(prices))
        if not np.isfinite(prices[best]):
            continue
        t = int(techs[best])
        chosen[o] = t
        total += float(prices[best])
        left[t] -= 1
        taken[t] += 1
    return chosen, total
