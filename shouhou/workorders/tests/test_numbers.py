"""Work-order numbers: the date and a daily count, unique under concurrent intakes.

PostgreSQL counts on seven sequences (no lock held while the intake transaction runs);
SQLite on an upserted counter row (SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from shouhou.workorders import services
from shouhou.workorders.models import WorkOrderNumberSequence
from shouhou.workorders.services import (
    number_sequence_name,
    workorder_number_next,
    workorder_numbers_prepare,
)


def _count(number: str) -> int:
    return int(number[8:])


@pytest.mark.django_db
def test_numbers_carry_the_local_date_and_count_up():
    # when three numbers are taken
    numbers = [workorder_number_next() for _ in range(3)]
    # then they carry today's date in Shanghai and consecutive counts
    today = timezone.localdate().strftime("%y%m%d")
    assert all(re.fullmatch(rf"WX{today}\d{{4,8}}", number) for number in numbers)
    first = _count(numbers[0])
    assert [_count(number) for number in numbers] == [first, first + 1, first + 2]


@pytest.mark.django_db
def test_sqlite_counts_on_the_day_row():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL counts on sequences")
    number = workorder_number_next()
    day = WorkOrderNumberSequence.objects.get(day=number[2:8])
    assert day.last == _count(number)


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the sequences are PostgreSQL's")


@pytest.mark.django_db
def test_tomorrow_is_prepared_once_and_starts_at_one():
    _postgresql_only()
    # given a moment well before midnight, and tomorrow's sequence used last week
    now = timezone.localtime().replace(hour=9, minute=0)
    tomorrow = now.date() + dt.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(%s, 500)", [number_sequence_name(tomorrow)])
    WorkOrderNumberSequence.objects.filter(day=tomorrow.strftime("%y%m%d")).delete()
    # when it is prepared twice
    first = workorder_numbers_prepare(day=tomorrow, now=now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [number_sequence_name(tomorrow)])
        taken = cursor.fetchone()[0]
    second = workorder_numbers_prepare(day=tomorrow, now=now)
    # then only the first restarted it at 1; the second left the count alone
    assert (first, taken, second) == (True, 1, False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [number_sequence_name(tomorrow)])
        assert cursor.fetchone()[0] == 2


@pytest.mark.django_db
def test_a_day_less_than_an_hour_away_is_never_restarted():
    _postgresql_only()
    # given a sequence in use, and a moment 40 minutes before that day starts
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    late = dt.datetime.combine(
        tomorrow, dt.time.min, tzinfo=timezone.get_current_timezone()
    ) - dt.timedelta(minutes=40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(%s, 77)", [number_sequence_name(tomorrow)])
    WorkOrderNumberSequence.objects.filter(day=tomorrow.strftime("%y%m%d")).delete()
    # when preparing is asked for then
    restarted = workorder_numbers_prepare(day=tomorrow, now=late)
    # then nothing changed: the day counts on (its numbers are still unique by their date)
    assert restarted is False
    assert not WorkOrderNumberSequence.objects.filter(day=tomorrow.strftime("%y%m%d")).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [number_sequence_name(tomorrow)])
        assert cursor.fetchone()[0] == 78


@pytest.mark.django_db
def test_the_first_number_of_the_day_prepares_tomorrow(monkeypatch):
    _postgresql_only()
    calls: list[dt.date] = []
    monkeypatch.setattr(services, "_numbers_prepared_for", None)
    monkeypatch.setattr(
        services, "workorder_numbers_prepare", lambda *, day, now: calls.append(day) or True
    )
    workorder_number_next()
    workorder_number_next()
    assert calls == [timezone.localdate() + dt.timedelta(days=1)]


@pytest.mark.django_db(transaction=True)
def test_an_open_intake_never_makes_another_wait_for_a_number():
    _postgresql_only()
    # given an intake transaction that took a number and has not committed yet
    took = threading.Event()
    release = threading.Event()
    numbers: list[str] = []
    errors: list[BaseException] = []

    def open_intake() -> None:
        try:
            with transaction.atomic():
                numbers.append(workorder_number_next())
                took.set()
                release.wait(10)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    holder = threading.Thread(target=open_intake)
    holder.start()
    assert took.wait(10)
    try:
        # when another intake takes numbers meanwhile, refusing to wait on any lock
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '500ms'")
            numbers += [workorder_number_next() for _ in range(3)]
    finally:
        release.set()
        holder.join(10)
    # then it was not blocked, and all four numbers differ
    assert errors == []
    assert len(set(numbers)) == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_distinct_numbers():
    # given eight threads taking twenty numbers each at the same moment
    barrier = threading.Barrier(8)
    numbers: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            barrier.wait(10)
            for _ in range(20):
                with transaction.atomic():
                    number = workorder_number_next()
                with lock:
                    numbers.append(number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then none is handed out twice
    assert len(numbers) == 160
    assert len(set(numbers)) == 160
