"""Dispatch API: ranked outlets, slots, booking; other organisations' rows answer 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouhou.core.testing.factories import (
    BrandFactory,
    CategoryFactory,
    CustomerFactory,
    OpeningHoursFactory,
    OutletFactory,
    WorkOrderFactory,
)
from shouhou.dispatch.models import OutletSlot, SlotBooking
from shouhou.dispatch.slots import slot_book

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def next_monday_at(hour: int) -> dt.datetime:
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday())
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def workshop(org, *, bays=1, **fields):
    outlet = OutletFactory(organization=org, service_bays=bays, **fields)
    for weekday in range(7):
        OpeningHoursFactory(outlet=outlet, weekday=weekday)  # 09:00–18:00
    return outlet


@pytest.fixture
def shops(org_a, org_b):
    category = CategoryFactory(organization=org_a)
    brand = BrandFactory(organization=org_a)
    near = workshop(org_a, name="近", latitude=Decimal("22.550000"), longitude=Decimal("114.0"))
    far = workshop(org_a, name="远", latitude=Decimal("22.650000"), longitude=Decimal("114.0"))
    unauthorised = workshop(org_a, name="无授权")
    for outlet in (near, far, unauthorised):
        outlet.categories.add(category)
    near.authorised_brands.add(brand)
    far.authorised_brands.add(brand)
    unauthorised.authorised_brands.add(BrandFactory(organization=org_a))
    foreign = workshop(org_b, name="乙")
    return {
        "category": category,
        "brand": brand,
        "near": near,
        "far": far,
        "foreign": foreign,
    }


def test_outlet_matches_are_public_and_ranked(org_a, shops):
    response = client_for().get(
        "/api/v1/outlet-matches/",
        {
            "organization": org_a.code,
            "category": shops["category"].pk,
            "brand": shops["brand"].pk,
            "latitude": "22.54",
            "longitude": "114.0",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert [row["name"] for row in body] == ["近", "远"]
    assert body[0]["distance_km"] == pytest.approx(1.11, abs=0.02)
    assert set(body[0]) >= {"rating", "is_open_now", "next_opening", "price_low"}


def test_outlet_matches_need_an_organisation_or_an_order():
    response = client_for().get("/api/v1/outlet-matches/")

    assert response.status_code == 400


def test_outlet_matches_for_another_organisations_order_are_404(org_a, shops, other_org_user):
    order = WorkOrderFactory(organization=org_a, fulfilment_mode="carry_in")

    response = client_for(other_org_user).get(
        "/api/v1/outlet-matches/", {"work_order": order.number}
    )

    assert response.status_code == 404


def test_outlet_matches_for_a_visible_order(org_a, shops, agent):
    order = WorkOrderFactory(
        organization=org_a,
        fulfilment_mode="carry_in",
        category=shops["category"],
        brand=shops["brand"],
    )

    response = client_for(agent).get(
        "/api/v1/outlet-matches/",
        {"work_order": order.number, "latitude": "22.66", "longitude": "114.0"},
    )

    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["远", "近"]


def test_outlet_slots_of_an_own_outlet_and_404_for_another(shops, agent):
    client = client_for(agent)

    own = client.get(f"/api/v1/outlets/{shops['near'].pk}/slots/", {"days": 2})
    foreign = client.get(f"/api/v1/outlets/{shops['foreign'].pk}/slots/")

    assert own.status_code == 200
    assert {row["capacity"] for row in own.json()} == {1}
    assert foreign.status_code == 404


def test_staff_book_a_slot_and_a_full_slot_is_409(org_a, shops, agent):
    outlet = shops["near"]
    order = WorkOrderFactory(
        organization=org_a, fulfilment_mode="carry_in", outlet=outlet, status="assigned"
    )
    rival = WorkOrderFactory(
        organization=org_a, fulfilment_mode="carry_in", outlet=outlet, status="assigned"
    )
    start = next_monday_at(10)
    client = client_for(agent)

    offered = client.get(f"/api/v1/work-orders/{order.number}/slots/", {"days": 14})
    booked = client.post(
        f"/api/v1/work-orders/{order.number}/book-slot/", {"start": start.isoformat()}
    )
    refused = client.post(
        f"/api/v1/work-orders/{rival.number}/book-slot/", {"start": start.isoformat()}
    )

    assert offered.status_code == 200
    assert start.isoformat() in [row["start"] for row in offered.json()]
    assert booked.status_code == 200
    assert booked.json()["status"] == "scheduled"
    assert refused.status_code == 409
    assert refused.json()["detail"] == "This time is fully booked. Please choose another time."
    assert OutletSlot.objects.get().booked == 1
    rival.refresh_from_db()
    assert (rival.status, rival.appointment_start) == ("assigned", None)


def test_customer_moves_their_booking_through_the_api(org_a, shops, customer):
    carol = CustomerFactory(organization=org_a, user=customer, phone=customer.phone)
    order = WorkOrderFactory(
        organization=org_a,
        customer=carol,
        fulfilment_mode="carry_in",
        outlet=shops["near"],
        status="assigned",
    )
    slot_book(work_order=order, start=next_monday_at(10))

    response = client_for(customer).post(
        f"/api/v1/work-orders/{order.number}/book-slot/",
        {"start": next_monday_at(15).isoformat()},
    )

    assert response.status_code == 200
    assert SlotBooking.objects.get().start == next_monday_at(15)


def test_booking_another_organisations_order_is_404_and_changes_nothing(
    org_a, shops, other_org_user
):
    order = WorkOrderFactory(
        organization=org_a, fulfilment_mode="carry_in", outlet=shops["near"], status="assigned"
    )
    client = client_for(other_org_user)

    slots = client.get(f"/api/v1/work-orders/{order.number}/slots/")
    booked = client.post(
        f"/api/v1/work-orders/{order.number}/book-slot/",
        {"start": next_monday_at(10).isoformat()},
    )

    assert (slots.status_code, booked.status_code) == (404, 404)
    assert OutletSlot.objects.count() == 0
    assert SlotBooking.objects.count() == 0


def test_slot_bookings_list_only_your_outlets(org_a, org_b, shops, agent, other_org_user):
    mine = WorkOrderFactory(organization=org_a, fulfilment_mode="carry_in", outlet=shops["near"])
    theirs = WorkOrderFactory(
        organization=org_b, fulfilment_mode="carry_in", outlet=shops["foreign"]
    )
    own_booking = slot_book(work_order=mine, start=next_monday_at(10))
    their_booking = slot_book(work_order=theirs, start=next_monday_at(10))
    client = client_for(agent)

    listed = client.get("/api/v1/slot-bookings/")
    foreign = client.get(f"/api/v1/slot-bookings/{their_booking.pk}/")

    assert listed.status_code == 200
    rows = listed.json()["results"] if "results" in listed.json() else listed.json()
    assert [row["id"] for row in rows] == [own_booking.pk]
    assert rows[0]["work_order"] == mine.number
    assert foreign.status_code == 404
