"""Many customers book the last bays of one workshop slot at the same moment.

Each thread has its own database connection (Django opens one per thread) and all start
together behind a barrier. Exactly ``capacity`` bookings must win; the others get ``SlotFull``;
the counter row and the booking rows agree. Runs on SQLite and, with DATABASE_URL pointing at
PostgreSQL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from shouhou.core.errors import DomainError
from shouhou.core.testing.factories import (
    OpeningHoursFactory,
    OrganizationFactory,
    OutletFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.models import OutletSlot, SlotBooking
from shouhou.dispatch.slots import SlotFull, slot_book

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = 6
BAYS = 2


def test_concurrent_bookings_never_overbook_a_slot():
    # given: a two-bay workshop and six carry-in orders wanting the same slot
    org = OrganizationFactory()
    outlet = OutletFactory(organization=org, service_bays=BAYS)
    for day in range(7):
        OpeningHoursFactory(outlet=outlet, weekday=day, opens_at=dt.time(9), closes_at=dt.time(18))
    orders = [
        WorkOrderFactory(organization=org, fulfilment_mode="carry_in", outlet=outlet)
        for _ in range(CUSTOMERS)
    ]
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=2), dt.time(10)))
    barrier = threading.Barrier(CUSTOMERS)
    won: list[int] = []
    refused: list[DomainError] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def book(order_id: int) -> None:
        order = WorkOrderFactory._meta.model.objects.get(pk=order_id)
        try:
            barrier.wait(timeout=30)
            slot_book(work_order=order, start=start)
            with lock:
                won.append(order_id)
        except SlotFull as error:
            with lock:
                refused.append(error)
        except BaseException as error:  # reported by the assertion below
            with lock:
                unexpected.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=book, args=(order.pk,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert unexpected == []
    assert len(won) == BAYS
    assert len(refused) == CUSTOMERS - BAYS
    assert {str(error) for error in refused} == {
        "该时间已约满，请选择其他时间。"  # zh-hans, the default language
    }
    slot = OutletSlot.objects.get(outlet=outlet, start=start)
    assert (slot.capacity, slot.booked) == (BAYS, BAYS)
    assert sorted(SlotBooking.objects.values_list("work_order_id", flat=True)) == sorted(won)
    assert SlotBooking.objects.filter(slot=slot).count() == BAYS
