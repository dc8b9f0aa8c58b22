"""Kill a real worker with SIGKILL in the middle of deliveries: nothing is lost or doubled.

Runs real ``shouhou worker`` processes (database task backend, scheduler with the sweeper)
against the test database: on PostgreSQL the one pytest-django made; on SQLite, whose test
database lives in memory, a file copy of it made with ``VACUUM INTO`` once the events exist.
Two slow probe consumers (``notifications.probe``) record their side effect under a unique key:
one idempotent (effect outside the claim's transaction), one atomic.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.tests.conftest import REDIS_URL
from shouhou.workorders.services import Actor, workorder_add_note

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 30
PROBES = ("probe.atomic", "probe.idempotent")
# every consumer the worker has (webhooks: no endpoint; notifications: notes tell nobody)
CONSUMERS = (*PROBES, "webhooks", "notifications")
PROJECT_DIR = Path(django_settings.BASE_DIR).parent
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _database(tmp_path: Path) -> tuple[str, Callable[[str], list[tuple]]]:
    """The DATABASE_URL workers use, and a function that runs a query against that database."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "worker.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])

        def query(sql: str) -> list[tuple]:
            db = sqlite3.connect(path, timeout=20)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()

        return f"sqlite:///{path}", query
    assert connection.vendor == "postgresql"
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    url = f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"

    def query(sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    return url, query


def _start_worker(database_url: str, log: Path, backend: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shouhou.settings_test",
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
        "DATABASE_URL": database_url,
        "TASK_BACKEND": backend,
        "REDIS_URL": REDIS_URL,
        "SHOUHOU_PROBE_CONSUMERS": "1",
        "SHOUHOU_PROBE_SLEEP": "0.1",
        "EVENT_DELIVERY_LEASE_SECONDS": "3",
        "EVENT_SWEEP_AFTER_SECONDS": "2",
        "EVENT_SWEEP_INTERVAL_SECONDS": "1",
        "SCHEDULER_TICK_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shouhou", "worker", "--interval", "0.1"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we kill RQ's forked child with it
        )


def _stop(worker: subprocess.Popen) -> None:
    """Wait for a terminated worker; kill its process group if it has not stopped in 30 s.

    RQ's warm shutdown can miss a SIGTERM that lands as a job finishes; a worker left running
    would take the Redis jobs of later tests.
    """
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_sigkilled_worker_loses_nothing_and_delivers_each_event_once(
    backend, settings, tmp_path, request
):
    # given events whose delivery tasks are queued (in the database, or in Redis)
    if backend == "redis":
        request.getfixturevalue("rq_queue")
    else:
        settings.TASKS = DB_TASKS
    work_order = WorkOrderFactory()
    event_ids = [
        workorder_add_note(work_order=work_order, actor=Actor.system(), text=f"note {n}").pk
        for n in range(EVENTS)
    ]
    database_url, query = _database(tmp_path)
    if backend == "database":
        assert query("SELECT COUNT(*) FROM django_tasks_database_dbtaskresult")[0][0] == EVENTS
    log = tmp_path / "worker.log"

    def effects_made() -> int:
        return query("SELECT COUNT(*) FROM notifications_probe_deliveryprobe")[0][0]

    def running() -> int:
        return query("SELECT COUNT(*) FROM notifications_eventdelivery WHERE state = 'running'")[0][
            0
        ]

    # when a worker is killed with SIGKILL while it is delivering (the kill can land in the
    # few milliseconds between two deliveries; then another worker is started and killed)
    interrupted: list[tuple] = []
    for _ in range(5):
        worker = _start_worker(database_url, log, backend)
        try:
            _wait_for(
                lambda: effects_made() >= 6 and running() > 0,
                seconds=60,
                what="a worker to be mid-delivery, some deliveries done",
                log=log,
            )
            os.killpg(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        interrupted = query(
            "SELECT event_id, consumer FROM notifications_eventdelivery WHERE state = 'running'"
        )
        if interrupted:
            break
    assert len(interrupted) == 1  # one delivery was cut off half-way

    # and two new workers take over (their schedulers sweep up the lost delivery)
    workers = [_start_worker(database_url, log, backend) for _ in range(2)]
    try:
        _wait_for(
            lambda: (
                query("SELECT COUNT(*) FROM workorders_workorderevent WHERE delivered_at IS NULL")[
                    0
                ][0]
                == 0
            ),
            seconds=180,
            what="every event to be delivered",
            log=log,
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            _stop(worker)

    # then every (event, consumer) was delivered exactly once
    deliveries = query(
        "SELECT event_id, consumer, state, attempts FROM notifications_eventdelivery"
    )
    assert sorted((e, c) for e, c, _, _ in deliveries) == sorted(
        (e, c) for e in event_ids for c in CONSUMERS
    )
    assert {state for _, _, state, _ in deliveries} == {"delivered"}
    retried = [(e, c) for e, c, _, attempts in deliveries if attempts > 1]
    assert retried == [tuple(interrupted[0])]
    effects = query("SELECT event_id, consumer, runs FROM notifications_probe_deliveryprobe")
    assert sorted((e, c) for e, c, _ in effects) == sorted(
        (e, c) for e in event_ids for c in PROBES
    )
    # the atomic consumer's effect committed exactly once: its cut-off run rolled back
    assert {runs for _, c, runs in effects if c == "probe.atomic"} == {1}
    # the idempotent one may have run twice for the cut-off delivery, with one effect
    runs = {(e, c): r for e, c, r in effects if c == "probe.idempotent"}
    assert sum(runs.values()) in (EVENTS, EVENTS + 1)
