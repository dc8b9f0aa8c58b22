"""Accept → technician assigned and committed, through the real services (issue 4 target:
p99 <= 50 ms on SQLite and on PostgreSQL). A benchmark, not a test.

    .venv/bin/python bench/dispatch_assign.py --db sqlite   [--orders 300]
    .venv/bin/python bench/dispatch_assign.py --db postgres [--orders 300]
    .venv/bin/python bench/dispatch_assign.py --db both
    .venv/bin/python bench/dispatch_assign.py --db both --mode manual

``--mode auto`` (the default) sets the brand's dispatch mode to automatic and times
``workorder_accept`` alone: accepting ranks the network and assigns the best technician, with
its explanation, in the same transaction. ``--mode manual`` sets it to manual and times what a
dispatcher's click does: accept, then the ranked suggestions, then assigning the best one.

Each run starts from a fresh database (SQLite: a temporary file; PostgreSQL: the database
``shouhou_bench_assign``, dropped and created), migrates it and builds the appliance demo
(清风家电 and its providers: technicians with skills, shifts and today's jobs). Then, again and
again: create a submitted on-site order for a demo customer (not timed), and time
``workorder_accept`` (its own transaction) + ``technician_suggestions`` (the pool from the
database and the NumPy ranking) + ``workorder_assign_technician`` to the best candidate with
its explanation (its own transaction), until the commit returns. The order is then cancelled
(not timed) so technicians' capacity does not run out and every round measures the same work.

Shifts in the demo are 08:00–20:00: the ranking is asked for 10:00 today (Asia/Shanghai) so a
run at night measures the same thing as one by day (``--now`` uses the real clock).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "shouhou_bench_assign"


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(share * (len(sorted_values) - 1)))]


def prepare_environment(db: str, directory: str) -> None:
    if db == "postgres":
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        url = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
    else:
        url = f"sqlite:///{directory}/bench_assign.sqlite3"
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "shouhou.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SMS_BACKEND": "shouhou.core.sms.FakeSmsBackend",
            "LOG_LEVEL": "WARNING",
        }
    )


def run(db: str, orders: int, use_now: bool, mode: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        prepare_environment(db, directory)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from shouhou.accounts.models import Membership, Organization
        from shouhou.catalog.models import FaultType, ServiceType
        from shouhou.customers.models import Address
        from shouhou.demo.build import build_demo
        from shouhou.dispatch.models import DispatchPolicy, Technician
        from shouhou.dispatch.selectors import technician_suggestions
        from shouhou.workorders import services
        from shouhou.workorders.services import Actor

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        build_demo(verticals=["appliance"])
        print(
            f"[{db}] fresh database, migrated and appliance demo built in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        organization = Organization.objects.get(code="qingfeng")
        DispatchPolicy.objects.update_or_create(organization=organization, defaults={"mode": mode})
        agent = (
            Membership.objects.filter(organization=organization, role="agent")
            .select_related("user")
            .first()
        )
        actor = Actor(user=agent.user if agent else None, role="agent")
        service_type = ServiceType.objects.filter(organization=organization).order_by("pk")[0]
        faults = list(
            FaultType.objects.filter(organization=organization, required_skills__isnull=False)
            .distinct()
            .order_by("pk")
        )
        addresses = list(
            Address.objects.filter(
                customer__organization=organization, latitude__isnull=False
            ).select_related("customer")
        )
        technicians = Technician.objects.filter(
            organization_id__in=services.serving_organization_ids(organization), is_active=True
        ).count()
        local = timezone.localtime()
        moment = local if use_now else local.replace(hour=10, minute=0, second=0, microsecond=0)
        rng = random.Random(2611)
        print(
            f"[{db}] {technicians} technicians in the network, {len(faults)} fault types with "
            f"required skills, {len(addresses)} located addresses; ranking at "
            f"{moment:%Y-%m-%d %H:%M %Z}",
            flush=True,
        )

        def one_round() -> tuple[float, float, bool]:
            address = rng.choice(addresses)
            order = services.workorder_create(
                organization=organization,
                customer=address.customer,
                service_type=service_type,
                fault_type=rng.choice(faults),
                description="空调不制冷(基准测试)",
                channel="phone",
                fulfilment_mode="on_site",
                priority=rng.choice(["normal", "normal", "high", "urgent"]),
                address=address,
                actor=actor,
                notify_customer=False,
            ).work_order
            begin, begin_cpu = time.perf_counter(), time.process_time()
            accepted = services.workorder_accept(work_order=order, actor=actor)
            if mode == "auto":
                elapsed = (time.perf_counter() - begin) * 1000
                cpu = (time.process_time() - begin_cpu) * 1000
                services.workorder_cancel(work_order=order, actor=actor, reason="bench")
                return elapsed, cpu, accepted.technician_id is not None
            ranking = technician_suggestions(work_order=accepted, limit=5, at=moment)
            assigned = bool(ranking.candidates)
            if assigned:
                best = ranking.candidates[0]
                services.workorder_assign_technician(
                    work_order=accepted,
                    technician=Technician.objects.select_related("user", "outlet").get(
                        pk=best.technician_id
                    ),
                    actor=actor,
                    explanation={
                        "place": 1,
                        "of": ranking.considered - sum(ranking.excluded.values()),
                        "score": best.score,
                        **best.breakdown,
                    },
                )
            elapsed = (time.perf_counter() - begin) * 1000
            cpu = (time.process_time() - begin_cpu) * 1000
            services.workorder_cancel(work_order=order, actor=actor, reason="bench")
            return elapsed, cpu, assigned

        for _ in range(20):  # warm up: caches, prepared plans, NumPy
            one_round()
        timings: list[float] = []
        cpu_timings: list[float] = []
        assigned = 0
        load_before = os.getloadavg()[0]
        for _ in range(orders):
            elapsed, cpu, ok = one_round()
            timings.append(elapsed)
            cpu_timings.append(cpu)
            assigned += ok
        timings.sort()
        cpu_timings.sort()
        print(
            f"[{db}] {connection.vendor}, mode {mode}: {orders} orders accepted and assigned "
            f"({assigned} got a technician)",
            flush=True,
        )
        print(
            f"[{db}] ms per order: p50 {statistics.median(timings):.1f}  "
            f"p95 {percentile(timings, 0.95):.1f}  p99 {percentile(timings, 0.99):.1f}  "
            f"max {timings[-1]:.1f}",
            flush=True,
        )
        # On a shared machine the wall clock includes waiting for a core; the CPU time of
        # this process (without the PostgreSQL server's) shows the work itself.
        print(
            f"[{db}] CPU ms of this process per order: p50 {statistics.median(cpu_timings):.1f}  "
            f"p99 {percentile(cpu_timings, 0.99):.1f}  (load average {load_before:.1f} → "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
            flush=True,
        )
        connection.close()
        if db == "postgres":
            import psycopg

            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
            ) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--now", action="store_true", help="rank at the real time of day")
    parser.add_argument(
        "--mode",
        choices=["auto", "manual"],
        default="auto",
        help="auto: accepting assigns (ranking at the real time); manual: accept, rank, assign",
    )
    arguments = parser.parse_args()
    if arguments.db == "both":
        # One process per database: Django's settings are read once per process.
        for db in ("sqlite", "postgres"):
            command = [
                sys.executable,
                __file__,
                *("--db", db, "--orders", str(arguments.orders), "--mode", arguments.mode),
            ]
            subprocess.run([*command, *(["--now"] if arguments.now else [])], check=True)
        return
    run(arguments.db, arguments.orders, arguments.now, arguments.mode)


if __name__ == "__main__":
    main()
