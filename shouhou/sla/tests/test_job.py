"""The SLA job: in the worker's scheduler, as a command, racing itself on PostgreSQL, and its
events turned into urgent messages for the technician and staff by the notifications consumer."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone, translation

from shouhou.core.scheduler import job_try_run, registered_jobs
from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.models import Message
from shouhou.sla.choices import SlaTarget
from shouhou.sla.models import SlaClock
from shouhou.sla.services import sla_tick
from shouhou.sla.tests.conftest import STAFF, START
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrderEvent


@pytest.mark.django_db
def test_job_is_scheduled_every_minute_and_records_breaches(world, now):
    order = world.order(priority="urgent")  # built-in response target: 30 minutes
    now.advance(minutes=31)
    job = registered_jobs()["sla.tick"]
    assert job.every == dt.timedelta(seconds=60)
    assert job_try_run(job=job, worker_id="w1") is True
    assert list(
        WorkOrderEvent.objects.filter(work_order=order, type="sla_breached").values_list(
            "data__target", flat=True
        )
    ) == ["response"]
    # the lease keeps a second worker from running the same tick
    assert job_try_run(job=job, worker_id="w2") is False


@pytest.mark.django_db
def test_command_runs_the_job_once(world, now):
    world.order(priority="urgent")
    now.advance(minutes=25)  # past 80 % of 30 minutes
    out = io.StringIO()
    call_command("sla_tick", stdout=out)
    assert out.getvalue().strip() == "1 warned, 0 breached"
    out = io.StringIO()
    call_command("sla_tick", stdout=out)
    assert out.getvalue().strip() == "0 warned, 0 breached"


@pytest.mark.django_db
def test_warning_reaches_technician_and_staff_as_urgent_messages(
    world, now, alice, agent, technician, django_capture_on_commit_callbacks
):
    # given an accepted order with Tom assigned, at night (quiet hours would hold others)
    now.at = START.replace(hour=15)  # 23:00 in Beijing
    order = world.order()  # built-in normal: arrival 24 h
    services.workorder_accept(work_order=order, actor=STAFF)
    services.workorder_assign_technician(work_order=order, technician=world.technician, actor=STAFF)
    # when the job runs 20 hours later: the arrival clock (24 h, warn at 80 %) is past its
    # warning point (the response clock was met at acceptance)
    now.advance(hours=20)
    Message.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = sla_tick()
    arrival = SlaClock.objects.get(work_order=order, target="arrival")
    assert report.warned == [arrival.pk]
    inbox = Message.objects.filter(work_order=order, channel="inapp").order_by("recipient_id")
    assert {(m.kind, m.audience, m.recipient_id) for m in inbox} == {
        ("sla_warning", "technician", technician.pk),
        ("sla_warning", "staff", alice.pk),
        ("sla_warning", "staff", agent.pk),
    }
    assert all(m.urgent for m in inbox)
    tom = inbox.get(recipient=technician)
    assert tom.language == "zh-hans"
    assert tom.subject == "时效预警"
    with translation.override("zh-hans"):  # the label as the catalogue has it (or not yet)
        target = str(SlaTarget.ARRIVAL.label)
    assert tom.body == f"工单{order.number}的{target}时效即将超时（截止2026-11-24 23:00）。"
    # and nothing went to the customer
    assert not Message.objects.filter(work_order=order, audience="customer", kind="sla_warning")


@pytest.mark.django_db
def test_breach_message_says_breached_in_english(
    world, now, alice, django_capture_on_commit_callbacks
):
    alice.preferred_language = "en"
    alice.save()
    order = world.order(priority="urgent")
    now.advance(minutes=31)
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    message = Message.objects.get(work_order=order, recipient=alice, channel="inapp")
    assert message.subject == "SLA breached"
    assert message.body == (
        f"Order {order.number} (Submitted) has breached its Response target (due 2026-11-23 09:30)."
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_record_each_warning_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("threads racing on UPDATEs need PostgreSQL (SQLite serialises writers)")
    # given 10 orders whose response clocks are all past the warning point and 5 past due
    past = timezone.now() - dt.timedelta(minutes=100)
    orders = [
        WorkOrderFactory(organization=world.org, customer=world.customer, submitted_at=past)
        for _ in range(10)
    ]
    for index, order in enumerate(orders):
        due = timezone.now() + dt.timedelta(minutes=10 if index % 2 else -10)
        SlaClock.objects.create(
            work_order=order,
            target="response",
            target_minutes=120,
            started_at=past,
            warn_at=past + dt.timedelta(minutes=96),
            due_at=due,
        )
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait()
            sla_tick()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then each clock has exactly one event: a warning (not yet due) or a breach (past due)
    events = WorkOrderEvent.objects.filter(type__in=["sla_warning", "sla_breached"])
    assert events.count() == 10
    assert (
        sorted(events.values_list("type", flat=True)) == ["sla_breached"] * 5 + ["sla_warning"] * 5
    )
    assert SlaClock.objects.filter(warned_at__isnull=True).count() == 0
