"""The periodic scheduler: due jobs run once per period, whatever the number of workers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouhou.core.models import PeriodicJobState
from shouhou.core.scheduler import PeriodicJob, job_try_run, registered_jobs

pytestmark = pytest.mark.django_db


def _job(calls: list[str], *, fail: bool = False) -> PeriodicJob:
    def func() -> None:
        calls.append("ran")
        if fail:
            raise RuntimeError("job broke")

    return PeriodicJob(
        name="test.job", every=dt.timedelta(minutes=1), func=func, lease=dt.timedelta(minutes=5)
    )


def test_a_due_job_runs_once_per_period_across_workers():
    calls: list[str] = []
    job = _job(calls)
    assert job_try_run(job=job, worker_id="w1") is True
    assert job_try_run(job=job, worker_id="w2") is False
    state = PeriodicJobState.objects.get(name="test.job")
    assert calls == ["ran"] and state.runs == 1 and state.locked_until is None
    assert state.next_run_at == state.last_started_at + dt.timedelta(minutes=1)


def test_a_job_leased_by_another_worker_does_not_run():
    calls: list[str] = []
    PeriodicJobState.objects.create(
        name="test.job",
        next_run_at=timezone.now(),
        locked_by="w1",
        locked_until=timezone.now() + dt.timedelta(minutes=1),
    )
    assert job_try_run(job=_job(calls), worker_id="w2") is False
    assert calls == []


def test_an_expired_lease_lets_another_worker_run_the_job():
    calls: list[str] = []
    PeriodicJobState.objects.create(
        name="test.job",
        next_run_at=timezone.now() - dt.timedelta(minutes=10),
        locked_by="dead",
        locked_until=timezone.now() - dt.timedelta(seconds=1),
    )
    assert job_try_run(job=_job(calls), worker_id="w2") is True
    assert calls == ["ran"]


def test_a_failing_job_records_its_error_and_still_moves_on():
    calls: list[str] = []
    assert job_try_run(job=_job(calls, fail=True), worker_id="w1") is True
    state = PeriodicJobState.objects.get(name="test.job")
    assert "job broke" in state.last_error and state.next_run_at > timezone.now()
    assert state.locked_until is None


def test_apps_register_the_sweepers_and_task_pruning():
    assert {
        "outbox.sweep",
        "tasks.prune_results",
        "webhooks.sweep",
        "dispatch.offers_expire",
    } <= set(registered_jobs())
