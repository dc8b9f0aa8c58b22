"""Intake under load (issue 3, item 10) — a benchmark, not a test.

Starts a production-style server (granian, the web process of deploy/Procfile: several
processes, DEBUG off; --server gunicorn for the alternative) on a fresh PostgreSQL database
with the appliance demo data, then lets N concurrent clients create work orders through the
API (each waits 1–3 s between requests unless --think says otherwise) and prints orders per
second, latency percentiles and errors. Every created order is counted in the database
afterwards.

    .venv/bin/python bench/intake_load.py                 # 300 clients, 60 s, 4 x 2
    .venv/bin/python bench/intake_load.py --server gunicorn --workers 3 --threads 2

Target (issue 3): 0 errors and p99 <= 300 ms with 300 clients on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
AGENT_PHONE = "+8613800000002"  # the demo agent of the appliance brand
SLICE_SECONDS = 20
CHECKPOINTS = "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"


def sh(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(
        args,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def prepare(database: str, env: dict[str, str]) -> None:
    with psycopg.connect(
        "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
        connection.execute(f'CREATE DATABASE "{database}"')
    sh([PYTHON, "-m", "shouhou", "migrate", "--no-input", "-v0"], env)
    sh([PYTHON, "-m", "shouhou", "demo", "--vertical", "appliance"], env)


def api_token(env: dict[str, str]) -> str:
    out = sh([PYTHON, "-m", "shouhou", "drf_create_token", AGENT_PHONE], env)
    return out.strip().split()[2]


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until_up(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not come up")


class HttpConnection:
    """One client's keep-alive HTTP/1.1 connection, written on asyncio streams.

    A general client library spent about 1 ms of CPU per request here, on the same two
    cores as the server it measures; this one spends a fraction of that. It speaks only what
    the bench needs: a POST with a JSON body, an answer with Content-Length. When the server
    has closed an idle connection (gunicorn keeps them 2 s), it connects again.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.reader.at_eof():
            await self._connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, body

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [f"Content-Length: {len(body)}", "", ""]
        request = "\r\n".join(lines).encode() + body
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed the connection as this request went out: send it again on a
            # new one. The Idempotency-Key makes the retry safe (one order, never two).
            await self._connect()
            return await self._exchange(request)


async def client(
    index: int,
    base: str,
    token: str,
    catalog: dict,
    stop_at: float,
    think: tuple[float, float],
    results: list,
) -> None:
    rng = random.Random(index)
    host, _, port = base.removeprefix("http://").partition(":")
    connection = HttpConnection(host, int(port))
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    sequence = 0
    if think[1] > 0:
        await asyncio.sleep(rng.uniform(0, think[1]))  # spread the start
    while time.monotonic() < stop_at:
        sequence += 1
        body = {
            "customer": {
                "name": f"压测客户{index}",
                "phone": f"1{rng.choice('3589')}{index:04d}{sequence % 100000:05d}"[:11],
            },
            "address": {
                "city": "杭州市",
                "district": "西湖区",
                "address": f"文三路 {rng.randint(1, 500)} 号",
                "latitude": f"{30.25 + rng.random() / 10:.6f}",
                "longitude": f"{120.10 + rng.random() / 10:.6f}",
            },
            "service_type": catalog["service_type"],
            "fault_type": rng.choice(catalog["fault_types"]),
            "description": "空调不制冷,外机不转",
            "fulfilment_mode": "on_site",
            "channel": "app",
        }
        started = time.perf_counter()
        try:
            status, _answer = await asyncio.wait_for(
                connection.post(
                    "/api/v1/work-orders/",
                    json.dumps(body).encode(),
                    {**headers, "Idempotency-Key": secrets.token_hex(8)},
                ),
                timeout=30,
            )
            results.append((time.perf_counter() - started, status, started))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            connection.close()
            results.append((time.perf_counter() - started, type(error).__name__, started))
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))
    connection.close()


async def run_load(
    base: str, token: str, catalog: dict, clients: int, seconds: float, think: tuple[float, float]
) -> tuple[list, float]:
    results: list = []
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(
        *(client(index, base, token, catalog, stop_at, think, results) for index in range(clients))
    )
    elapsed = time.monotonic() - started
    return results, elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the web server (master and workers) and by the PostgreSQL
    backends serving the bench database, read from /proc."""
    server = database_cpu = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = int(
            next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1]
        )
        if pid == server_pid or parent == server_pid:
            server += _cpu_seconds(pid)
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            database_cpu += _cpu_seconds(pid)
    client = sum(os.times()[:2])
    # Backends that closed during the run (connection max age) take their CPU time with them,
    # so the database figure is a lower bound.
    return {"server": server, "database (lower bound)": database_cpu, "load generator": client}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-think", action="store_true", help="no pause between requests")
    parser.add_argument(
        "--think",
        default="1-3",
        help="seconds each client waits between requests, MIN-MAX (default 1-3)",
    )
    parser.add_argument(
        "--tasks",
        choices=["redis", "database"],
        default="redis",
        help="task broker of the server: redis (production, REDIS_URL 127.0.0.1:6379) or database",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--keep-setup-wal",
        action="store_true",
        help="do not CHECKPOINT after the set-up (its WAL then triggers one during the run)",
    )
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    arguments = parser.parse_args()

    database = "shouhou_bench_intake"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SMS_BACKEND": "shouhou.core.sms.FakeSmsBackend",
        "LOG_LEVEL": "WARNING",
    }
    if arguments.tasks == "redis":
        env.update({"TASK_BACKEND": "redis", "REDIS_URL": "redis://127.0.0.1:6379/9"})
    low, _, high = arguments.think.partition("-")
    think = (0.0, 0.0) if arguments.no_think else (float(low), float(high or low))
    print(f"preparing {database} (migrate + appliance demo data) ...", flush=True)
    prepare(database, env)
    token = api_token(env)
    base = f"http://127.0.0.1:{arguments.port}"
    if arguments.server == "granian":
        command = [
            PYTHON,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(arguments.port),
            "--workers",
            str(arguments.workers),
            "--blocking-threads",
            str(arguments.threads),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "shouhou.wsgi:application",
        ]
    else:
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "shouhou.wsgi",
            "--bind",
            f"127.0.0.1:{arguments.port}",
            "--workers",
            str(arguments.workers),
            "--threads",
            str(arguments.threads),
            "--worker-class",
            "gthread",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_until_up(base)
        service_types = get_json(f"{base}/api/v1/service-types/?kind=repair", token)["results"]
        organization = service_types[0]["organization"]
        faults = get_json(
            f"{base}/api/v1/fault-types/?organization={organization}&page_size=200", token
        )["results"]
        catalog = {
            "service_type": service_types[0]["id"],
            "fault_types": [fault["id"] for fault in faults],
        }
        # warm every worker's connections and code paths (enough clients that each process
        # and thread has served requests: a cold one spends a second on its first)
        warm = 4 * arguments.workers * arguments.threads
        asyncio.run(run_load(base, token, catalog, warm, 4, think=(0.0, 0.0)))
        with psycopg.connect(
            env["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True
        ) as db:
            before = db.execute("SELECT count(*) FROM workorders_workorder").fetchone()[0]
            checkpoints = db.execute(CHECKPOINTS).fetchone()[0]
            if not arguments.keep_setup_wal:
                # Write out what the set-up (a new database, migrations, demo data) left in
                # the WAL, so that its checkpoint does not land in the measured window.
                db.execute("CHECKPOINT")
                checkpoints += 1
        print(
            f"load: {arguments.clients} clients for {arguments.seconds:.0f} s, "
            f"think time {think[0]:g}-{think[1]:g} s, {arguments.server} "
            f"{arguments.workers} processes x {arguments.threads} threads, tasks on "
            f"{arguments.tasks}",
            flush=True,
        )
        cpu_before = cpu_snapshot(server.pid, database)
        results, elapsed = asyncio.run(
            run_load(base, token, catalog, arguments.clients, arguments.seconds, think)
        )
        cpu_after = cpu_snapshot(server.pid, database)
        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
            after = db.execute("SELECT count(*) FROM workorders_workorder").fetchone()[0]
            checkpoints = db.execute(CHECKPOINTS).fetchone()[0] - checkpoints
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if arguments.tasks == "redis":  # nobody runs the enqueued deliveries: drop them
            import redis

            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    latencies = [latency * 1000 for latency, code, _ in results if code == 201]
    errors = [code for _latency, code, _ in results if code != 201]
    print(
        f"requests: {len(results)}  created: {len(latencies)}  errors: {len(errors)}"
        + (f" {sorted(set(map(str, errors)))}" if errors else "")
    )
    print(f"orders in database: {after - before}")
    print(f"PostgreSQL checkpoints during the run: {checkpoints}")
    if latencies:
        print(f"throughput: {len(latencies) / elapsed:.1f} orders/s over {elapsed:.1f} s")
        print(
            f"latency ms: p50 {statistics.median(latencies):.1f}  "
            f"p90 {percentile(latencies, 0.90):.1f}  p99 {percentile(latencies, 0.99):.1f}  "
            f"max {max(latencies):.1f}"
        )
        # The tail over time: p99 of each slice of the run (a slow stretch shows here even
        # when the whole run's p99 hides it).
        first = min(start for _, _, start in results)
        slices: dict[int, list[float]] = {}
        for latency, code, start in results:
            if code == 201:
                slices.setdefault(int((start - first) // SLICE_SECONDS), []).append(latency * 1000)
        print(
            f"p99 per {SLICE_SECONDS} s: "
            + " ".join(f"{percentile(values, 0.99):.0f}" for _, values in sorted(slices.items()))
            + " ms"
        )
        spent = {name: cpu_after[name] - cpu_before[name] for name in cpu_before}
        print(
            "CPU ms per request: "
            + "  ".join(
                f"{name} {seconds * 1000 / len(results):.2f}" for name, seconds in spent.items()
            )
            + f"  (machine: {os.cpu_count()} cores, {elapsed:.0f} s)"
        )


if __name__ == "__main__":
    main()
