"""Outlet matching: authorisation by category, brand and model; opening hours; distance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouhou.core.testing.factories import (
    BrandFactory,
    CategoryFactory,
    FaultTypeFactory,
    FaultTypeLineFactory,
    OpeningHoursFactory,
    OrganizationFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
)
from shouhou.dispatch.outlets import outlet_options

pytestmark = pytest.mark.django_db

MONDAY_10 = timezone.make_aware(dt.datetime(2030, 1, 7, 10, 0))  # a Monday, 10:00 local
HERE = (22.5431, 114.0579)


def _outlet(org, name, *, km_north=0.0, categories=(), brands=(), weekdays=range(7), **fields):
    outlet = OutletFactory(
        organization=org,
        name=name,
        latitude=Decimal(str(round(HERE[0] + km_north / 111.2, 6))),
        longitude=Decimal(str(HERE[1])),
        **fields,
    )
    outlet.categories.add(*categories)
    outlet.authorised_brands.add(*brands)
    for day in weekdays:
        OpeningHoursFactory(outlet=outlet, weekday=day)  # 09:00–18:00
    return outlet


@pytest.fixture
def catalog(org_a):
    phone = CategoryFactory(organization=org_a, name="手机", code="phone")
    smartphone = CategoryFactory(organization=org_a, name="智能手机", code="smart", parent=phone)
    appliance = CategoryFactory(organization=org_a, name="家电", code="appliance")
    huawei = BrandFactory(organization=org_a, name="华为", code="huawei")
    xiaomi = BrandFactory(organization=org_a, name="小米", code="xiaomi")
    model = ProductModelFactory(
        organization=org_a, brand=huawei, category=smartphone, name="Mate 60"
    )
    return {
        "phone": phone,
        "smartphone": smartphone,
        "appliance": appliance,
        "huawei": huawei,
        "xiaomi": xiaomi,
        "model": model,
    }


def test_only_outlets_serving_the_category_and_authorised_for_the_brand_are_offered(org_a, catalog):
    # given
    c = catalog
    near = _outlet(org_a, "近", km_north=1, categories=[c["smartphone"]], brands=[c["huawei"]])
    parent = _outlet(org_a, "父类", km_north=3, categories=[c["phone"]], brands=[c["huawei"]])
    _outlet(org_a, "别的品牌", km_north=0.5, categories=[c["smartphone"]], brands=[c["xiaomi"]])
    _outlet(org_a, "家电", km_north=0.2, categories=[c["appliance"]], brands=[c["huawei"]])
    _outlet(
        org_a, "停业", km_north=0.1, categories=[c["phone"]], brands=[c["huawei"]], is_active=False
    )
    other_network = OrganizationFactory()
    _outlet(other_network, "外网", km_north=0.1, categories=[c["phone"]], brands=[c["huawei"]])

    # when: the model brings its brand (华为) and category (智能手机, under 手机)
    options = outlet_options(
        organization=org_a,
        product_model=c["model"],
        latitude=HERE[0],
        longitude=HERE[1],
        at=MONDAY_10,
    )

    # then
    assert [option.outlet for option in options] == [near, parent]
    assert [option.distance_km for option in options] == [
        pytest.approx(1.0, abs=0.02),
        pytest.approx(3.0, abs=0.02),
    ]


def test_a_partner_outlet_of_the_network_is_offered(org_a, catalog):
    merchant = OrganizationFactory(parent=org_a, kind="merchant")
    outlet = _outlet(merchant, "合作店", categories=[catalog["phone"]], brands=[catalog["huawei"]])

    options = outlet_options(organization=org_a, brand=catalog["huawei"], at=MONDAY_10)

    assert [option.outlet for option in options] == [outlet]


def test_outlets_are_ordered_by_distance_whatever_their_rating(org_a, catalog):
    c = catalog
    far = _outlet(org_a, "远", km_north=9, categories=[c["phone"]], brands=[c["huawei"]])
    far.rating_total, far.rating_count = Decimal("10"), 2
    far.save()
    middle = _outlet(org_a, "中", km_north=-4, categories=[c["phone"]], brands=[c["huawei"]])
    near = _outlet(org_a, "近", km_north=2, categories=[c["phone"]], brands=[c["huawei"]])

    options = outlet_options(
        organization=org_a, category=c["smartphone"], latitude=HERE[0], longitude=HERE[1]
    )

    assert [option.outlet for option in options] == [near, middle, far]
    assert options[2].rating == Decimal("5.00")
    assert options[2].rating_count == 2


def test_without_a_position_the_best_rated_comes_first(org_a, catalog):
    c = catalog
    plain = _outlet(org_a, "A", categories=[c["phone"]])
    rated = _outlet(org_a, "B", categories=[c["phone"]])
    rated.rating_total, rated.rating_count = Decimal("4.50"), 1
    rated.save()

    options = outlet_options(organization=org_a, category=c["phone"], at=MONDAY_10)

    assert [option.outlet for option in options] == [rated, plain]
    assert [option.distance_km for option in options] == [None, None]


def test_open_now_and_next_opening_follow_the_opening_hours(org_a, catalog):
    # given: open on Mondays, open only on Tuesdays, and no hours recorded
    c = catalog
    monday = _outlet(org_a, "周一", categories=[c["phone"]], weekdays=[0])
    tuesday = _outlet(org_a, "周二", km_north=1, categories=[c["phone"]], weekdays=[1])
    no_hours = _outlet(org_a, "没登记", km_north=2, categories=[c["phone"]], weekdays=[])

    # when
    options = outlet_options(
        organization=org_a, category=c["phone"], latitude=HERE[0], longitude=HERE[1], at=MONDAY_10
    )
    open_only = outlet_options(
        organization=org_a,
        category=c["phone"],
        latitude=HERE[0],
        longitude=HERE[1],
        at=MONDAY_10,
        open_now=True,
    )

    # then
    assert [option.outlet for option in options] == [monday, tuesday, no_hours]
    assert (options[2].is_open_now, options[2].next_opening) == (False, None)
    assert options[0].is_open_now is True
    assert options[0].closes_at == timezone.make_aware(dt.datetime(2030, 1, 7, 18, 0))
    assert options[0].next_opening is None
    assert options[1].is_open_now is False
    assert options[1].next_opening == timezone.make_aware(dt.datetime(2030, 1, 8, 9, 0))
    assert [option.outlet for option in open_only] == [monday]


def test_after_closing_the_next_opening_is_the_next_morning(org_a, catalog):
    outlet = _outlet(org_a, "A", categories=[catalog["phone"]])

    evening = MONDAY_10.replace(hour=19)
    (option,) = outlet_options(organization=org_a, category=catalog["phone"], at=evening)

    assert option.outlet == outlet
    assert option.is_open_now is False
    assert option.next_opening == timezone.make_aware(dt.datetime(2030, 1, 8, 9, 0))


def test_every_option_carries_the_price_estimate_of_the_fault(org_a, catalog):
    c = catalog
    _outlet(org_a, "A", categories=[c["phone"]], brands=[c["huawei"]])
    fault = FaultTypeFactory(organization=org_a, category=c["smartphone"])
    FaultTypeLineFactory(fault_type=fault, item_code="screen", quantity=Decimal("1"))
    FaultTypeLineFactory(fault_type=fault, item_code="film", is_optional=True)
    PriceListItemFactory(organization=org_a, code="screen", unit_price=Decimal("899.00"))
    PriceListItemFactory(organization=org_a, code="film", unit_price=Decimal("30.00"))

    (option,) = outlet_options(
        organization=org_a, product_model=c["model"], fault_type=fault, at=MONDAY_10
    )

    assert (option.price_low, option.price_high) == (Decimal("899.00"), Decimal("929.00"))


def test_an_outlet_without_categories_or_brands_recorded_is_not_restricted(org_a, catalog):
    general = _outlet(org_a, "综合店")

    options = outlet_options(organization=org_a, product_model=catalog["model"], at=MONDAY_10)

    assert [option.outlet for option in options] == [general]
