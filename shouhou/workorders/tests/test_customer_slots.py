"""The customer's outlet comparison, slot picker at 报修, and moving a booked time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import BrandFactory, OpeningHoursFactory, OutletFactory
from shouhou.dispatch.models import OutletSlot, SlotBooking
from shouhou.dispatch.slots import slot_book
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.tests.test_customer_pages import (
    _media,  # noqa: F401 - autouse fixture
    counts,
    english,
    intake_data,
    make_order,
    request_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    return english(client)


def next_monday_at(hour: int) -> dt.datetime:
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday())
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def shops(world):
    """The world's outlet (near, no hours recorded) and two workshops with hours."""
    model = world.product_model
    near = OutletFactory(
        organization=world.org,
        name="近店",
        service_bays=1,
        latitude=Decimal("30.290000"),
        longitude=Decimal("120.130000"),
    )
    far = OutletFactory(
        organization=world.org,
        name="远店",
        latitude=Decimal("30.400000"),
        longitude=Decimal("120.130000"),
    )
    unauthorised = OutletFactory(organization=world.org, name="无授权店")
    for outlet in (near, far, unauthorised):
        for weekday in range(7):
            OpeningHoursFactory(outlet=outlet, weekday=weekday)  # 09:00–18:00
        outlet.categories.add(model.category)
    near.authorised_brands.add(model.brand)
    far.authorised_brands.add(model.brand)
    unauthorised.authorised_brands.add(BrandFactory(organization=world.org))
    return {"near": near, "far": far}


def test_outlet_comparison_ranks_authorised_outlets_by_distance(world, web, shops):
    # when the form asks for outlets for the model, from a position near 近店
    answer = web.get(
        "/report/org-a/outlets/",
        {
            "product_model": world.product_model.pk,
            "fault_type": world.fault_type.pk,
            "latitude": "30.280000",
            "longitude": "120.130000",
        },
        HTTP_HX_REQUEST="true",
    )

    # then 近店 comes before 远店; the unauthorised outlet is not offered
    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.index("近店") < html.index("远店")
    assert "无授权店" not in html
    assert "1.1 km" in html
    assert "¥80–230" in html
    assert "Nearest first" in html


def test_choosing_an_outlet_shows_its_free_slots(world, web, shops):
    answer = web.get(
        "/report/org-a/outlets/",
        {"product_model": world.product_model.pk, "outlet": shops["near"].pk},
        HTTP_HX_REQUEST="true",
    )

    html = answer.content.decode()
    assert "When will you bring it?" in html
    assert f'value="{next_monday_at(10).isoformat()}"' in html
    assert "1 bay free" in html


def test_carry_in_report_books_the_chosen_slot(
    world, web, shops, django_capture_on_commit_callbacks
):
    code = request_code(web, django_capture_on_commit_callbacks)
    start = next_monday_at(10)

    answer = web.post(
        "/report/org-a/",
        intake_data(
            world,
            code=code,
            fulfilment_mode="carry_in",
            outlet=shops["near"].pk,
            slot_start=start.isoformat(),
            date="",
            slot="",
        ),
    )

    assert answer.status_code == 302
    order = WorkOrder.objects.get(organization=world.org)
    assert (order.outlet, order.preferred_start, order.preferred_end) == (
        shops["near"],
        start,
        next_monday_at(11),
    )
    assert SlotBooking.objects.get().work_order == order
    assert OutletSlot.objects.get().booked == 1


def test_carry_in_report_into_a_full_slot_creates_nothing(
    world, web, shops, django_capture_on_commit_callbacks
):
    # given the one bay of 近店 at ten is taken
    start = next_monday_at(10)
    taken = make_order(world, fulfilment_mode="carry_in", outlet=shops["near"], address=None)
    slot_book(work_order=taken, start=start)
    before = counts()
    code = request_code(web, django_capture_on_commit_callbacks)

    # when
    answer = web.post(
        "/report/org-a/",
        intake_data(
            world,
            code=code,
            fulfilment_mode="carry_in",
            outlet=shops["near"].pk,
            slot_start=start.isoformat(),
        ),
    )

    # then
    assert answer.status_code == 409
    assert "This time is fully booked. Please choose another time." in answer.content.decode()
    assert counts() == before
    assert OutletSlot.objects.get().booked == 1


def test_carry_in_report_needs_a_time(world, web, shops, django_capture_on_commit_callbacks):
    code = request_code(web, django_capture_on_commit_callbacks)

    answer = web.post(
        "/report/org-a/",
        intake_data(world, code=code, fulfilment_mode="carry_in", outlet=shops["near"].pk, date=""),
    )

    assert answer.status_code == 400
    assert "Choose when you will bring it in." in answer.content.decode()


def test_customer_moves_a_booked_time_to_another_free_slot(world, web, customer, shops):
    order = make_order(world, fulfilment_mode="carry_in", outlet=shops["near"], address=None)
    slot_book(work_order=order, start=next_monday_at(10))
    web.force_login(customer)

    page = web.get(f"/my/orders/{order.number}/")
    answer = web.post(
        f"/my/orders/{order.number}/reschedule/", {"slot_start": next_monday_at(15).isoformat()}
    )

    assert "Free times" in page.content.decode()
    assert f'value="{next_monday_at(10).isoformat()}"' not in page.content.decode()  # full
    assert answer.status_code == 302
    assert SlotBooking.objects.get().start == next_monday_at(15)
    order.refresh_from_db()
    assert order.preferred_start == next_monday_at(15)


def test_moving_into_a_full_slot_keeps_the_old_time(world, web, customer, shops):
    mine = make_order(world, fulfilment_mode="carry_in", outlet=shops["near"], address=None)
    other = make_order(world, fulfilment_mode="carry_in", outlet=shops["near"], address=None)
    slot_book(work_order=mine, start=next_monday_at(10))
    slot_book(work_order=other, start=next_monday_at(15))
    web.force_login(customer)

    answer = web.post(
        f"/my/orders/{mine.number}/reschedule/", {"slot_start": next_monday_at(15).isoformat()}
    )

    assert answer.status_code == 409
    assert SlotBooking.objects.get(work_order=mine).start == next_monday_at(10)


def test_the_report_form_shows_when_engineers_are_free(world, web):
    from shouhou.dispatch.models import DayOff, Shift

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    for weekday in range(7):
        Shift.objects.create(
            technician=world.technician,
            weekday=weekday,
            starts_at=dt.time(9),
            ends_at=dt.time(17),
        )

    html = web.get("/report/org-a/").content.decode()
    DayOff.objects.create(technician=world.technician, day=tomorrow)
    without = web.get("/report/org-a/").content.decode()

    assert f'data-fill-date="{tomorrow.isoformat()}" data-fill-slot="10"' in html
    assert f'data-fill-date="{tomorrow.isoformat()}" data-fill-slot="08"' not in html
    assert f'data-fill-date="{tomorrow.isoformat()}"' not in without
