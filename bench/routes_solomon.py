"""Route quality on public VRPTW benchmarks: PyVRP (our solver) against OR-Tools.

Reads the Solomon and Gehring-Homberger instances and the best-known solutions from the shared
data directory (``../shared/data/vrptw`` from the repository root; see SOURCE.md there) — the
instance files are never copied into the project. Prints, per instance and solver: distance,
vehicles used, the best-known distance, and the gap in per cent.

Distances are Euclidean in double precision, as the ``*_distance`` keys of BKS.json are (the
distance-only best-known values for the Solomon instances). The 200-customer instances have only
hierarchical best-known values (fewest vehicles first, then distance) in BKS.json; a
distance-only solution may beat those, so a negative gap there is possible and honest.

The solvers get integer matrices (coordinates ×1000, rounded); the distance printed is
recomputed in floats along the returned routes, and each route's schedule is re-checked in
floats (time windows, depot closing time, capacity) — ``feasible`` says whether it held.

    python bench/routes_solomon.py                      # PyVRP and (if installed) OR-Tools, 5 s
    python bench/routes_solomon.py --solver pyvrp --seconds 1
    python bench/routes_solomon.py --data /path/to/vrptw --instances R101 c1_2_1
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "vrptw"
DEFAULT_INSTANCES = ["R101", "C101", "RC101", "R201", "C201", "RC201", "c1_2_1"]
SCALE = 1000  # integer units per coordinate unit given to the solvers


@dataclass
class Instance:
    name: str
    vehicles: int
    capacity: int
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def size(self) -> int:
        return len(self.x)

    def euclid(self) -> np.ndarray:
        dx = self.x[:, None] - self.x[None, :]
        dy = self.y[:, None] - self.y[None, :]
        return np.sqrt(dx * dx + dy * dy)


def find_instance(data: Path, name: str) -> Path:
    for folder in ("solomon", "homberger_200", "homberger_400", "homberger_1000"):
        for candidate in (name, name.upper(), name.lower()):
            path = data / folder / f"{candidate}.txt"
            if path.exists():
                return path
    raise SystemExit(f"instance {name} not found under {data}")


def read_instance(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    vehicles = capacity = 0
    rows: list[list[float]] = []
    for i, line in enumerate(lines):
        if line.strip().startswith("NUMBER"):
            vehicles, capacity = (int(v) for v in lines[i + 1].split()[:2])
        parts = line.split()
        if len(parts) == 7 and all(p.replace(".", "", 1).isdigit() for p in parts):
            rows.append([float(p) for p in parts])
    table = np.array(rows)
    return Instance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        x=table[:, 1],
        y=table[:, 2],
        demand=table[:, 3].astype(int),
        ready=table[:, 4],
        due=table[:, 5],
        service=table[:, 6],
    )


def best_known(data: Path, name: str) -> tuple[float, str]:
    bks = json.loads((data / "BKS.json").read_text())
    for key in (f"{name}_distance", f"{name.upper()}_distance"):
        if key in bks:
            return bks[key]["best_known_cost"], "distance-only"
    for key in (name, name.upper(), name.lower()):
        if key in bks:
            return bks[key]["best_known_cost"], "hierarchical"
    raise SystemExit(f"no best-known value for {name}")


def check_routes(inst: Instance, routes: list[list[int]]) -> tuple[float, bool]:
    """Float distance of the routes, and whether every schedule holds in floats."""
    dist = inst.euclid()
    total = 0.0
    feasible = sorted(c for r in routes for c in r) == list(range(1, inst.size))
    for route in routes:
        time_now, previous, load = 0.0, 0, 0
        for client in route:
            total += dist[previous, client]
            time_now = max(time_now + dist[previous, client], inst.ready[client])
            feasible &= time_now <= inst.due[client] + 1e-6
            time_now += inst.service[client]
            load += inst.demand[client]
            previous = client
        total += dist[previous, 0]
        feasible &= time_now + dist[previous, 0] <= inst.due[0] + 1e-6
        feasible &= load <= inst.capacity
    return total, bool(feasible)


def solve_pyvrp(inst: Instance, seconds: float, seed: int) -> list[list[int]]:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    matrix = np.rint(inst.euclid() * SCALE).astype(np.int64)
    locations = [
        pyvrp.Location(x=float(x), y=float(y)) for x, y in zip(inst.x, inst.y, strict=True)
    ]
    depot = pyvrp.Depot(
        location=0, tw_early=int(inst.ready[0] * SCALE), tw_late=int(inst.due[0] * SCALE)
    )
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[int(inst.demand[i])],
            service_duration=int(inst.service[i] * SCALE),
            tw_early=int(inst.ready[i] * SCALE),
            tw_late=int(inst.due[i] * SCALE),
        )
        for i in range(1, inst.size)
    ]
    vehicle = pyvrp.VehicleType(
        num_available=inst.vehicles,
        capacity=[inst.capacity],
        tw_early=int(inst.ready[0] * SCALE),
        tw_late=int(inst.due[0] * SCALE),
    )
    data = pyvrp.ProblemData(locations, clients, [depot], [vehicle], [matrix], [matrix])
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=seed, display=False)
    routes = []
    for route in result.best.routes():
        # a client activity's idx indexes the client list; the client knows its location
        clients_ = data.clients()
        routes.append([clients_[a.idx].location for a in route.schedule() if a.is_client()])
    return routes


def solve_ortools(inst: Instance, seconds: float, seed: int) -> list[list[int]]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    matrix = np.rint(inst.euclid() * SCALE).astype(np.int64)
    service = (inst.service * SCALE).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(inst.size, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i), manager.IndexToNode(j)])

    def travel_and_service(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return int(matrix[a, b] + service[a])

    dist_cb = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    time_cb = routing.RegisterTransitCallback(travel_and_service)
    horizon = int(inst.due[0] * SCALE)
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node in range(1, inst.size):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(inst.ready[node] * SCALE), int(inst.due[node] * SCALE)
        )
    demand_cb = routing.RegisterUnaryTransitCallback(
        lambda i: int(inst.demand[manager.IndexToNode(i)])
    )
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [inst.capacity] * inst.vehicles, True, "load"
    )
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return []
    routes = []
    for vehicle in range(inst.vehicles):
        index = routing.Start(vehicle)
        route = []
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


SOLVERS = {"pyvrp": solve_pyvrp, "ortools": solve_ortools}


def available(solver: str) -> bool:
    try:
        __import__({"pyvrp": "pyvrp", "ortools": "ortools"}[solver])
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--instances", nargs="+", default=DEFAULT_INSTANCES)
    parser.add_argument("--solver", choices=["all", *SOLVERS], default="all")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    solvers = list(SOLVERS) if args.solver == "all" else [args.solver]
    print(f"data: {args.data} (see SOURCE.md there); {args.seconds:g} s per solve, 1 core")
    header = (
        f"{'instance':9} {'solver':8} {'distance':>9} {'veh':>4} {'best-known':>10} {'gap %':>7}"
    )
    print(f"{header} {'kind of BKS':14} feasible  wall s")
    gaps: dict[str, list[float]] = {s: [] for s in solvers}
    for name in args.instances:
        inst = read_instance(find_instance(args.data, name))
        bks, kind = best_known(args.data, inst.name)
        for solver in solvers:
            if not available(solver):
                print(f"{inst.name:9} {solver:8} skipped: not installed (pip install {solver})")
                continue
            started = time.perf_counter()
            routes = SOLVERS[solver](inst, args.seconds, args.seed)
            wall = time.perf_counter() - started
            distance, feasible = check_routes(inst, routes)
            gap = (distance - bks) / bks * 100 if routes else math.nan
            if abs(gap) < 0.005:
                gap = 0.0  # BKS.json rounds to two decimals: equal, not better
            gaps[solver].append(gap)
            print(
                f"{inst.name:9} {solver:8} {distance:9.2f} {len(routes):4d} {bks:10.2f} "
                f"{gap:7.2f} {kind:14} {feasible!s:8} {wall:6.1f}"
            )
    for solver, values in gaps.items():
        if values:
            print(
                f"mean gap {solver}: {sum(values) / len(values):.2f}% over {len(values)} instances"
            )


if __name__ == "__main__":
    main()
