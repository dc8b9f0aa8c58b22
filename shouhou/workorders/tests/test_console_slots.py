"""The console's outlet comparison when assigning, and free slots when scheduling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import (
    BrandFactory,
    OpeningHoursFactory,
    OutletFactory,
    TechnicianFactory,
    UserFactory,
)
from shouhou.dispatch.models import OutletSlot, Shift, SlotBooking
from shouhou.dispatch.slots import slot_book
from shouhou.workorders import services
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.test_console_pages import (
    client_for,
    detail_url,
    new_order,
    snapshot,
)

pytestmark = pytest.mark.django_db


def next_monday_at(hour: int) -> dt.datetime:
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday())
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def workshop(world):
    outlet = OutletFactory(
        organization=world.org,
        name="授权修理厂",
        service_bays=2,
        latitude=Decimal("30.281000"),
        longitude=Decimal("120.130000"),
    )
    for weekday in range(7):
        OpeningHoursFactory(outlet=outlet, weekday=weekday)  # 09:00–18:00
    outlet.categories.add(world.product_model.category)
    outlet.authorised_brands.add(world.product_model.brand)
    # the world's outlet is authorised for another brand only
    world.outlet.authorised_brands.add(BrandFactory(organization=world.org))
    return outlet


def carry_in(world, agent, **overrides):
    order = new_order(
        world,
        agent,
        fulfilment_mode="carry_in",
        address=None,
        product_model=world.product_model,
        fault_type=world.fault_type,
        **overrides,
    )
    services.workorder_accept(work_order=order, actor=Actor(user=agent, role="agent"))
    return order


def test_assigning_an_outlet_compares_the_authorised_ones(world, agent, workshop):
    order = carry_in(world, agent)

    body = client_for(agent).get(detail_url(order)).content.decode()

    start = body.index('class="table outlet-matches"')
    table = body[start : body.index("</table>", start)]
    assert "授权修理厂" in table
    assert "西湖服务中心" not in table
    assert "¥80–230" in table
    assert "西湖服务中心 · not authorised for this product" in body


def test_scheduling_offers_the_outlets_free_slots_and_books_one(world, agent, workshop):
    order = carry_in(world, agent)
    actor = Actor(user=agent, role="agent")
    services.workorder_assign_outlet(work_order=order, outlet=workshop, actor=actor)
    client = client_for(agent)
    start = next_monday_at(10)

    page = client.get(detail_url(order)).content.decode()
    answer = client.post(detail_url(order, "schedule"), {"slot_start": start.isoformat()})

    assert "Free outlet slots (bays left)" in page
    assert f'value="{start.isoformat()}"' in page
    assert answer.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.appointment_start, order.appointment_end) == (
        "scheduled",
        start,
        next_monday_at(11),
    )
    assert SlotBooking.objects.get().work_order == order
    assert OutletSlot.objects.get().booked == 1


def test_a_typed_time_moves_a_held_bay_and_a_full_slot_is_refused(world, agent, workshop):
    # given an order holding a bay at ten, and the two bays at eleven taken
    actor = Actor(user=agent, role="agent")
    order = carry_in(world, agent)
    services.workorder_assign_outlet(work_order=order, outlet=workshop, actor=actor)
    slot_book(work_order=order, start=next_monday_at(10))
    for _ in range(2):
        other = carry_in(world, agent)
        services.workorder_assign_outlet(work_order=other, outlet=workshop, actor=actor)
        slot_book(work_order=other, start=next_monday_at(11))
    client = client_for(agent)
    local = "%Y-%m-%dT%H:%M"

    full = client.post(
        detail_url(order, "schedule"),
        {
            "start": timezone.localtime(next_monday_at(11)).strftime(local),
            "end": timezone.localtime(next_monday_at(12)).strftime(local),
        },
    )
    moved = client.post(
        detail_url(order, "schedule"),
        {
            "start": timezone.localtime(next_monday_at(14)).strftime(local),
            "end": timezone.localtime(next_monday_at(15)).strftime(local),
        },
    )

    assert full.status_code == 409
    assert "This time is fully booked" in full.content.decode()
    assert moved.status_code == 302
    assert SlotBooking.objects.get(work_order=order).start == next_monday_at(14)
    assert dict(OutletSlot.objects.values_list("start", "booked")) == {
        next_monday_at(10): 0,
        next_monday_at(11): 2,
        next_monday_at(14): 1,
    }


def test_on_site_scheduling_offers_the_engineers_free_windows(world, agent):
    engineer = TechnicianFactory(organization=world.org, user=UserFactory())
    Shift.objects.create(technician=engineer, weekday=0, starts_at=dt.time(9), ends_at=dt.time(17))
    order = new_order(world, agent)
    actor = Actor(user=agent, role="agent")
    services.workorder_accept(work_order=order, actor=actor)
    services.workorder_assign_technician(work_order=order, technician=engineer, actor=actor)

    page = client_for(agent).get(detail_url(order)).content.decode()

    assert "Free engineer windows" in page
    assert f'value="{next_monday_at(10).isoformat()}"' in page
    assert f'value="{next_monday_at(8).isoformat()}"' not in page


def test_another_organisation_cannot_schedule_or_see_the_order(
    world, agent, workshop, other_org_user
):
    order = carry_in(world, agent)
    services.workorder_assign_outlet(
        work_order=order, outlet=workshop, actor=Actor(user=agent, role="agent")
    )
    before = snapshot(order)
    client = client_for(other_org_user)

    page = client.get(detail_url(order))
    answer = client.post(
        detail_url(order, "schedule"), {"slot_start": next_monday_at(10).isoformat()}
    )

    assert (page.status_code, answer.status_code) == (404, 404)
    assert snapshot(order) == before
    assert SlotBooking.objects.count() == 0
