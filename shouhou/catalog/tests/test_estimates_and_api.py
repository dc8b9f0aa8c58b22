"""Price estimates of fault types, the catalog's database rules, and the catalog read API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from shouhou.catalog.models import Brand, ProductCategory
from shouhou.catalog.selectors import fault_type_estimate, price_items_in_force
from shouhou.core.testing.factories import (
    BrandFactory,
    CategoryFactory,
    FaultTypeFactory,
    FaultTypeLineFactory,
    OpeningHoursFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
    ServiceTypeFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def _price(org, code, price, *, valid_from=dt.date(2026, 1, 1), valid_to=None, **extra):
    return PriceListItemFactory(
        organization=org,
        code=code,
        name=extra.pop("name", code),
        unit_price=Decimal(price),
        valid_from=valid_from,
        valid_to=valid_to,
        **extra,
    )


def _fault(org, *lines):
    """A fault type with typical lines given as (code, quantity, optional)."""
    fault = FaultTypeFactory(organization=org)
    for code, quantity, optional in lines:
        FaultTypeLineFactory(
            fault_type=fault, item_code=code, quantity=Decimal(quantity), is_optional=optional
        )
    return fault


def _by_code(estimate):
    return {line.code: (line.quantity, line.unit_price, line.amount) for line in estimate.lines}


# --- fault_type_estimate -------------------------------------------------------------------------


def test_low_counts_required_lines_and_high_counts_all(org_a):
    # given a fault with labour and parts always needed, and refrigerant only sometimes
    fault = _fault(org_a, ("labour", "1", False), ("part", "2", False), ("gas", "1.5", True))
    _price(org_a, "labour", "80.00", kind="labour")
    _price(org_a, "part", "35.50", kind="part")
    _price(org_a, "gas", "120.00", kind="material")
    # when it is priced
    estimate = fault_type_estimate(fault_type=fault, on=DAY)
    # then low is the required lines, high all of them
    assert estimate.low == Decimal("151.00")
    assert estimate.high == Decimal("331.00")
    assert estimate.missing_codes == ()
    assert _by_code(estimate) == {
        "labour": (Decimal("1.00"), Decimal("80.00"), Decimal("80.00")),
        "part": (Decimal("2.00"), Decimal("35.50"), Decimal("71.00")),
        "gas": (Decimal("1.50"), Decimal("120.00"), Decimal("180.00")),
    }
    assert {line.code: line.is_optional for line in estimate.lines} == {
        "labour": False,
        "part": False,
        "gas": True,
    }
    assert {line.code: line.kind for line in estimate.lines} == {
        "labour": "labour",
        "part": "part",
        "gas": "material",
    }


def test_amounts_round_half_up_to_the_cent(org_a):
    fault = _fault(org_a, ("cable", "1.5", False))
    _price(org_a, "cable", "33.33")  # 49.995
    estimate = fault_type_estimate(fault_type=fault, on=DAY)
    assert (estimate.low, estimate.high) == (Decimal("50.00"), Decimal("50.00"))


def test_model_specific_price_beats_the_generic_one(org_a):
    # given a generic labour price and one for a particular model
    fault = _fault(org_a, ("labour", "1", False))
    product_model = ProductModelFactory(organization=org_a)
    other_model = ProductModelFactory(organization=org_a)
    _price(org_a, "labour", "80.00")
    _price(org_a, "labour", "120.00", product_model=product_model)
    # then that model is priced at its own price and every other model at the generic one
    specific = fault_type_estimate(fault_type=fault, on=DAY, product_model_id=product_model.pk)
    generic = fault_type_estimate(fault_type=fault, on=DAY, product_model_id=other_model.pk)
    unknown = fault_type_estimate(fault_type=fault, on=DAY)
    assert (specific.low, generic.low, unknown.low) == (
        Decimal("120.00"),
        Decimal("80.00"),
        Decimal("80.00"),
    )


def test_model_specific_price_wins_even_when_the_generic_one_is_newer(org_a):
    fault = _fault(org_a, ("labour", "1", False))
    product_model = ProductModelFactory(organization=org_a)
    _price(org_a, "labour", "120.00", product_model=product_model, valid_from=dt.date(2026, 1, 1))
    _price(org_a, "labour", "90.00", valid_from=dt.date(2026, 5, 1))
    estimate = fault_type_estimate(fault_type=fault, on=DAY, product_model_id=product_model.pk)
    assert estimate.low == Decimal("120.00")


@pytest.mark.parametrize(
    ("day", "expected"),
    [(dt.date(2026, 4, 30), "80.00"), (dt.date(2026, 5, 1), "90.00"), (DAY, "90.00")],
)
def test_later_valid_from_beats_earlier(org_a, day, expected):
    # given a price raised on 1 May without ending the old row
    fault = _fault(org_a, ("labour", "1", False))
    _price(org_a, "labour", "80.00", valid_from=dt.date(2026, 1, 1))
    _price(org_a, "labour", "90.00", valid_from=dt.date(2026, 5, 1))
    # then the newest row in force on the day is used
    assert fault_type_estimate(fault_type=fault, on=day).low == Decimal(expected)


@pytest.mark.parametrize(
    ("day", "low", "missing"),
    [
        (dt.date(2026, 3, 31), "80.00", ()),  # the last day is included
        (dt.date(2026, 4, 1), "0.00", ("labour",)),
        (dt.date(2025, 12, 31), "0.00", ("labour",)),  # not in force yet
    ],
)
def test_prices_outside_their_validity_are_ignored(org_a, day, low, missing):
    fault = _fault(org_a, ("labour", "1", False))
    _price(org_a, "labour", "80.00", valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 3, 31))
    estimate = fault_type_estimate(fault_type=fault, on=day)
    assert estimate.low == Decimal(low)
    assert estimate.missing_codes == missing


def test_missing_codes_are_reported_not_counted_as_free(org_a):
    # given a fault whose part has no price
    fault = _fault(org_a, ("labour", "1", False), ("compressor", "1", False))
    _price(org_a, "labour", "80.00")
    # when it is priced
    estimate = fault_type_estimate(fault_type=fault, on=DAY)
    # then the part is reported missing and the range covers what is known
    assert estimate.missing_codes == ("compressor",)
    assert [line.code for line in estimate.lines] == ["labour"]
    assert (estimate.low, estimate.high) == (Decimal("80.00"), Decimal("80.00"))


def test_prices_of_another_organisation_are_never_used(org_a, org_b):
    fault = _fault(org_a, ("labour", "1", False))
    _price(org_b, "labour", "1.00")
    estimate = fault_type_estimate(fault_type=fault, on=DAY)
    assert estimate.missing_codes == ("labour",)
    assert estimate.low == Decimal("0.00")


def test_estimate_without_a_day_uses_today(org_a):
    fault = _fault(org_a, ("labour", "1", False))
    _price(org_a, "labour", "80.00", valid_from=dt.date(2000, 1, 1))
    _price(org_a, "labour", "999.00", valid_from=dt.date(2999, 1, 1))
    assert fault_type_estimate(fault_type=fault).low == Decimal("80.00")


def test_estimate_from_prices_fetched_once_equals_the_queried_one(org_a, org_b):
    # given prices fetched once for a page of faults (plus a stray row of B)
    fault = _fault(org_a, ("labour", "1", False), ("gas", "1", True), ("compressor", "1", True))
    _price(org_a, "labour", "80.00", valid_from=dt.date(2026, 1, 1))
    _price(org_a, "labour", "90.00", valid_from=dt.date(2026, 5, 1))
    _price(org_a, "gas", "120.00")
    _price(org_a, "unrelated", "5.00")
    stray = _price(org_b, "compressor", "1.00")
    prices = [*price_items_in_force(organization_id=org_a.pk, on=DAY), stray]
    # then pricing from them gives what the per-fault query gives
    assert fault_type_estimate(fault_type=fault, on=DAY, prices=prices) == fault_type_estimate(
        fault_type=fault, on=DAY
    )


def test_fault_without_lines_costs_nothing(org_a):
    estimate = fault_type_estimate(fault_type=_fault(org_a), on=DAY)
    assert (estimate.lines, estimate.missing_codes, estimate.low, estimate.high) == (
        (),
        (),
        Decimal("0.00"),
        Decimal("0.00"),
    )


# --- database rules ------------------------------------------------------------------------------


def test_negative_price_is_refused_by_the_database(org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        _price(org_a, "labour", "-0.01")


def test_price_ending_before_it_starts_is_refused_by_the_database(org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        _price(org_a, "labour", "80.00", valid_from=DAY, valid_to=DAY - dt.timedelta(days=1))


def test_price_valid_for_a_single_day_is_allowed(org_a):
    item = _price(org_a, "labour", "80.00", valid_from=DAY, valid_to=DAY)
    assert item.is_valid_on(DAY)
    assert not item.is_valid_on(DAY + dt.timedelta(days=1))


def test_two_generic_prices_for_a_code_cannot_start_on_the_same_day(org_a):
    _price(org_a, "labour", "80.00", valid_from=DAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        _price(org_a, "labour", "90.00", valid_from=DAY)


def test_two_prices_for_one_model_cannot_start_on_the_same_day(org_a):
    product_model = ProductModelFactory(organization=org_a)
    _price(org_a, "labour", "80.00", valid_from=DAY, product_model=product_model)
    with pytest.raises(IntegrityError), transaction.atomic():
        _price(org_a, "labour", "90.00", valid_from=DAY, product_model=product_model)


def test_generic_and_model_prices_and_other_organisations_may_share_a_start_day(org_a, org_b):
    _price(org_a, "labour", "80.00", valid_from=DAY)
    _price(
        org_a,
        "labour",
        "90.00",
        valid_from=DAY,
        product_model=ProductModelFactory(organization=org_a),
    )
    _price(
        org_a,
        "labour",
        "95.00",
        valid_from=DAY,
        product_model=ProductModelFactory(organization=org_a),
    )
    _price(org_b, "labour", "70.00", valid_from=DAY)


def test_typical_line_quantity_must_be_positive(org_a):
    fault = FaultTypeFactory(organization=org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        FaultTypeLineFactory(fault_type=fault, quantity=Decimal("0"))


def test_codes_are_unique_per_organisation(org_a, org_b):
    BrandFactory(organization=org_a, code="gree")
    BrandFactory(organization=org_b, code="gree")
    with pytest.raises(IntegrityError), transaction.atomic():
        BrandFactory(organization=org_a, code="gree")


# --- category tree -------------------------------------------------------------------------------


@pytest.fixture
def tree(org_a):
    appliances = CategoryFactory(organization=org_a, name="家电", code="appliances")
    aircon = CategoryFactory(organization=org_a, name="空调", code="aircon", parent=appliances)
    wall = CategoryFactory(organization=org_a, name="挂机", code="wall", parent=aircon)
    return appliances, aircon, wall


def test_category_path_and_descendants(tree):
    appliances, aircon, wall = tree
    assert wall.path == "家电 / 空调 / 挂机"
    assert str(wall) == "家电 / 空调 / 挂机"
    assert appliances.descendant_ids() == {appliances.pk, aircon.pk, wall.pk}
    assert wall.descendant_ids() == {wall.pk}


def test_category_cannot_become_its_own_ancestor(tree):
    # given 家电 → 空调 → 挂机
    appliances, _aircon, wall = tree
    # when 家电 is put under 挂机
    appliances.parent = wall
    # then clean() refuses the cycle
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            appliances.clean()
        assert refused.value.message_dict == {"parent": ["A category cannot be its own ancestor."]}


def test_category_cannot_be_its_own_parent(tree):
    _appliances, aircon, _wall = tree
    aircon.parent = aircon
    with pytest.raises(ValidationError) as refused:
        aircon.clean()
    assert set(refused.value.message_dict) == {"parent"}


def test_category_parent_must_be_in_the_same_organisation(tree, org_b):
    # given a category of organisation B
    foreign = CategoryFactory(organization=org_b)
    _appliances, aircon, _wall = tree
    # when A's category is put under it
    aircon.parent = foreign
    # then clean() refuses
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            aircon.clean()
        assert refused.value.message_dict == {
            "parent": ["The parent must be in the same organisation."]
        }


def test_category_may_move_within_its_organisation(tree, org_a):
    _appliances, _aircon, wall = tree
    wall.parent = CategoryFactory(organization=org_a, name="电视", code="tv")
    wall.clean()
    root = ProductCategory(organization=org_a, name="汽车", code="cars")
    root.clean()


# --- API -----------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_api_lists_paginate(org_a, alice):
    # given three brands
    brands = [BrandFactory(organization=org_a, name=name) for name in ("格力", "美的", "海尔")]
    client = _client(alice)
    # when the first page of two is asked for
    first = client.get("/api/v1/brands/", {"page_size": 2})
    # then it says how many there are and where the next page is
    assert first.status_code == 200
    assert first.json() == {
        "count": 3,
        "next": "http://testserver/api/v1/brands/?page=2&page_size=2",
        "previous": None,
        "results": [
            {
                "id": brand.pk,
                "organization": org_a.pk,
                "name": brand.name,
                "code": brand.code,
                "is_active": True,
            }
            for brand in brands[:2]
        ],
    }
    second = client.get(first.json()["next"])
    assert second.json()["next"] is None
    assert second.json()["previous"] == "http://testserver/api/v1/brands/?page_size=2"
    assert [row["id"] for row in second.json()["results"]] == [brands[2].pk]


def test_api_page_size_is_capped_at_200(org_a, alice):
    Brand.objects.bulk_create(
        Brand(organization=org_a, name=f"品牌{n}", code=f"brand-{n}") for n in range(201)
    )
    response = _client(alice).get("/api/v1/brands/", {"page_size": 1000})
    assert response.json()["count"] == 201
    assert len(response.json()["results"]) == 200


def test_api_default_page_is_50(org_a, alice):
    Brand.objects.bulk_create(
        Brand(organization=org_a, name=f"品牌{n}", code=f"brand-{n}") for n in range(51)
    )
    response = _client(alice).get("/api/v1/brands/")
    assert len(response.json()["results"]) == 50
    assert response.json()["next"] == "http://testserver/api/v1/brands/?page=2"


def test_api_filters_by_organization_for_someone_in_both(org_a, org_b, platform_admin):
    mine = BrandFactory(organization=org_a)
    BrandFactory(organization=org_b)
    response = _client(platform_admin).get("/api/v1/brands/", {"organization": org_a.pk})
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_api_filters_service_types_by_kind(org_a, alice):
    ServiceTypeFactory(organization=org_a, kind="repair", name="维修")
    install = ServiceTypeFactory(organization=org_a, kind="install", name="安装")
    response = _client(alice).get("/api/v1/service-types/", {"kind": "install"})
    assert response.json()["results"] == [
        {
            "id": install.pk,
            "organization": org_a.pk,
            "kind": "install",
            "name": "安装",
            "code": install.code,
            "is_active": True,
        }
    ]


@pytest.mark.parametrize(
    ("on", "expected"),
    [("2026-05-31", ["old"]), ("2026-06-01", ["current"]), ("2026-07-01", ["future"])],
)
def test_api_filters_price_items_in_force_on_a_day(org_a, alice, on, expected):
    # given a price replaced on 1 June and again on 1 July
    rows = {
        "old": _price(org_a, "labour", "80.00", valid_to=dt.date(2026, 5, 31)),
        "current": _price(org_a, "labour", "90.00", valid_from=DAY, valid_to=dt.date(2026, 6, 30)),
        "future": _price(org_a, "labour", "99.00", valid_from=dt.date(2026, 7, 1)),
    }
    # when the list is asked for one day
    response = _client(alice).get("/api/v1/price-items/", {"on": on})
    # then only the row in force that day comes back
    assert [row["id"] for row in response.json()["results"]] == [rows[n].pk for n in expected]


def test_api_price_item_fields(org_a, alice):
    category = CategoryFactory(organization=org_a)
    item = _price(
        org_a,
        "gas",
        "120.50",
        name="加氟",
        kind="material",
        unit="piece",
        category=category,
        valid_to=dt.date(2026, 12, 31),
    )
    response = _client(alice).get(f"/api/v1/price-items/{item.pk}/")
    assert response.json() == {
        "id": item.pk,
        "organization": org_a.pk,
        "code": "gas",
        "name": "加氟",
        "kind": "material",
        "unit": "piece",
        "unit_price": "120.50",
        "category": category.pk,
        "product_model": None,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }


def test_api_price_items_order_by_price(org_a, alice):
    cheap = _price(org_a, "a", "10.00")
    dear = _price(org_a, "b", "99.00")
    response = _client(alice).get("/api/v1/price-items/", {"ordering": "-unit_price"})
    assert [row["id"] for row in response.json()["results"]] == [dear.pk, cheap.pk]


def test_api_filters_outlets_by_authorised_brand_and_category(org_a, alice):
    gree, midea = BrandFactory(organization=org_a), BrandFactory(organization=org_a)
    aircon = CategoryFactory(organization=org_a)
    only_gree = OutletFactory(organization=org_a)
    only_gree.authorised_brands.add(gree)
    both = OutletFactory(organization=org_a)
    both.authorised_brands.add(gree, midea)
    both.categories.add(aircon)
    OutletFactory(organization=org_a).authorised_brands.add(midea)
    client = _client(alice)
    by_brand = client.get("/api/v1/outlets/", {"brand": gree.pk})
    by_category = client.get("/api/v1/outlets/", {"category": aircon.pk})
    assert [row["id"] for row in by_brand.json()["results"]] == [only_gree.pk, both.pk]
    assert [row["id"] for row in by_category.json()["results"]] == [both.pk]


def test_api_outlet_shows_opening_hours_and_capabilities(org_a, alice):
    outlet = OutletFactory(organization=org_a, name="深圳南山店", code="sz-ns")
    brand = BrandFactory(organization=org_a)
    outlet.authorised_brands.add(brand)
    OpeningHoursFactory(outlet=outlet, weekday=1, opens_at=dt.time(14), closes_at=dt.time(18))
    OpeningHoursFactory(outlet=outlet, weekday=1, opens_at=dt.time(9), closes_at=dt.time(12))
    row = _client(alice).get(f"/api/v1/outlets/{outlet.pk}/").json()
    assert row["authorised_brands"] == [brand.pk]
    assert row["categories"] == []
    assert row["opening_hours"] == [
        {"weekday": 1, "opens_at": "09:00:00", "closes_at": "12:00:00"},
        {"weekday": 1, "opens_at": "14:00:00", "closes_at": "18:00:00"},
    ]
    assert (row["latitude"], row["longitude"]) == ("22.543100", "114.057900")


@pytest.mark.parametrize(
    ("url", "make", "term"),
    [
        ("/api/v1/brands/", lambda org, name: BrandFactory(organization=org, name=name), "格力"),
        (
            "/api/v1/categories/",
            lambda org, name: CategoryFactory(organization=org, name=name),
            "格力",
        ),
        ("/api/v1/skills/", lambda org, name: SkillFactory(organization=org, name=name), "格力"),
        (
            "/api/v1/product-models/",
            lambda org, name: ProductModelFactory(organization=org, name=name),
            "格力",
        ),
        (
            "/api/v1/fault-types/",
            lambda org, name: FaultTypeFactory(organization=org, name=name),
            "格力",
        ),
        (
            "/api/v1/price-items/",
            lambda org, name: PriceListItemFactory(organization=org, name=name),
            "格力",
        ),
        ("/api/v1/outlets/", lambda org, name: OutletFactory(organization=org, name=name), "格力"),
    ],
)
def test_api_search_finds_by_name(org_a, alice, url, make, term):
    hit = make(org_a, f"{term}专修")
    make(org_a, "其他")
    response = _client(alice).get(url, {"search": term})
    assert [row["id"] for row in response.json()["results"]] == [hit.pk]


def test_api_estimate_returns_low_high_and_lines(org_a, alice):
    # given a priced fault
    fault = _fault(org_a, ("labour", "1", False), ("gas", "1.5", True), ("compressor", "1", True))
    _price(org_a, "labour", "80.00", name="上门检测", kind="labour")
    _price(org_a, "gas", "120.00", name="加氟", kind="material", unit="piece")
    # when the API is asked for its estimate on a day
    response = _client(alice).get(f"/api/v1/fault-types/{fault.pk}/estimate/", {"on": "2026-06-01"})
    # then it has the range, the priced lines and what is not priced
    assert response.status_code == 200
    body = response.json()
    lines = sorted(body.pop("lines"), key=lambda line: line["code"])
    assert body == {
        "low": "80.00",
        "high": "260.00",
        "currency": "CNY",
        "missing_codes": ["compressor"],
    }
    assert lines == [
        {
            "code": "gas",
            "name": "加氟",
            "kind": "material",
            "quantity": "1.50",
            "unit_price": "120.00",
            "amount": "180.00",
            "is_optional": True,
        },
        {
            "code": "labour",
            "name": "上门检测",
            "kind": "labour",
            "quantity": "1.00",
            "unit_price": "80.00",
            "amount": "80.00",
            "is_optional": False,
        },
    ]


def test_api_estimate_for_a_product_model(org_a, alice):
    fault = _fault(org_a, ("labour", "1", False))
    product_model = ProductModelFactory(organization=org_a)
    _price(org_a, "labour", "80.00")
    _price(org_a, "labour", "150.00", product_model=product_model)
    response = _client(alice).get(
        f"/api/v1/fault-types/{fault.pk}/estimate/",
        {"on": "2026-06-01", "product_model": product_model.pk},
    )
    assert (response.json()["low"], response.json()["high"]) == ("150.00", "150.00")


@pytest.mark.parametrize(
    "query", [{"on": "not-a-day"}, {"product_model": "0"}, {"product_model": "x"}]
)
def test_api_estimate_refuses_bad_parameters(org_a, alice, query):
    fault = _fault(org_a, ("labour", "1", False))
    response = _client(alice).get(f"/api/v1/fault-types/{fault.pk}/estimate/", query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_api_fault_type_shows_skills_and_lines(org_a, alice):
    skill = SkillFactory(organization=org_a)
    fault = _fault(org_a, ("labour", "1", False))
    fault.required_skills.add(skill)
    row = _client(alice).get(f"/api/v1/fault-types/{fault.pk}/").json()
    assert row["required_skills"] == [skill.pk]
    assert row["typical_lines"] == [
        {"item_code": "labour", "quantity": "1.00", "is_optional": False}
    ]


def test_api_category_shows_its_path(tree, alice):
    _appliances, _aircon, wall = tree
    row = _client(alice).get(f"/api/v1/categories/{wall.pk}/").json()
    assert row["path"] == "家电 / 空调 / 挂机"


# --- query counts --------------------------------------------------------------------------------


def _catalog(org, n):
    """``n`` of every catalog row, each with its relations, so an N+1 shows in the count."""
    for i in range(n):
        category = CategoryFactory(organization=org, parent=CategoryFactory(organization=org))
        brand = BrandFactory(organization=org)
        product_model = ProductModelFactory(organization=org, brand=brand, category=category)
        skill = SkillFactory(organization=org)
        fault = FaultTypeFactory(organization=org, category=category)
        fault.required_skills.add(skill)
        FaultTypeLineFactory(fault_type=fault, item_code=f"code-{i}")
        _price(org, f"code-{i}", "10.00", category=category, product_model=product_model)
        ServiceTypeFactory(organization=org)
        outlet = OutletFactory(organization=org)
        outlet.categories.add(category)
        outlet.authorised_brands.add(brand)
        OpeningHoursFactory(outlet=outlet)


# session, user, memberships, count, rows — plus one per prefetched relation
LIST_QUERIES = [
    ("/api/v1/organizations/", 5),
    ("/api/v1/outlets/", 8),
    ("/api/v1/categories/", 5),
    ("/api/v1/brands/", 5),
    ("/api/v1/product-models/", 5),
    ("/api/v1/service-types/", 5),
    ("/api/v1/skills/", 5),
    ("/api/v1/fault-types/", 7),
    ("/api/v1/price-items/", 5),
]


@pytest.mark.parametrize("rows", [1, 6])
@pytest.mark.parametrize(("url", "queries"), LIST_QUERIES)
def test_api_list_query_count_does_not_grow_with_rows(
    org_a, alice, django_assert_num_queries, url, queries, rows
):
    # given some rows of everything
    _catalog(org_a, rows)
    client = _client(alice)
    # when a list is asked for, the number of queries is fixed, however many rows there are
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200


CONSOLE_QUERIES = [
    ("/console/catalog/", 9),
    ("/console/catalog/faults/", 8),
    ("/console/prices/", 5),
    ("/console/outlets/", 8),
]


@pytest.mark.parametrize("rows", [1, 6])
@pytest.mark.parametrize(("url", "queries"), CONSOLE_QUERIES)
def test_console_catalog_page_query_count_does_not_grow_with_rows(
    org_a, alice, django_assert_num_queries, url, queries, rows
):
    _catalog(org_a, rows)
    client = _client(alice)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
