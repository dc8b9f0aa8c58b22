"""THE tenancy matrix: a member of organisation A can neither read nor change anything of
organisation B through the console pages, the admin or the API. The answer is 404 and nothing
changes.

Every later issue extends this matrix: add a row to the case lists below (a name and a function
that builds the URL from one organisation's objects), add the new objects to ``_build_tenant``,
and register new tenant-scoped admins in ``ADMIN_OBJECTS``. Each case runs against B's object
(must be refused) and against A's own object (must work), so a refusal is never an accident of
a broken page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse

from shouhou.accounts.models import Membership, OpeningHours, Organization, Outlet, User
from shouhou.catalog.models import (
    Brand,
    FaultType,
    PriceListItem,
    ProductCategory,
    ProductModel,
    ServiceType,
    SkillTag,
)
from shouhou.core.admin import TenantModelAdmin
from shouhou.core.console import SESSION_KEY
from shouhou.core.testing.factories import (
    AddressFactory,
    AssetFactory,
    BrandFactory,
    CategoryFactory,
    CustomerFactory,
    FaultTypeFactory,
    FaultTypeLineFactory,
    MembershipFactory,
    OpeningHoursFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
    ServiceTypeFactory,
    SkillFactory,
    TechnicianFactory,
    UserFactory,
)
from shouhou.customers.models import Customer
from shouhou.dispatch.models import Technician, TechnicianSkill

Tenant = SimpleNamespace  # one organisation's objects, built by _build_tenant
UrlFactory = Callable[[Tenant], str]


# --- the data ------------------------------------------------------------------------------------


def _build_tenant(org: Organization, *, tag: str, slug: str, admin_user: User, n: int) -> Tenant:
    """Every kind of tenant object, named ``<tag>…`` so a page can be searched for them."""
    category = CategoryFactory(organization=org, name=f"{tag}空调", code=f"{slug}-aircon")
    brand = BrandFactory(organization=org, name=f"{tag}牌", code=f"{slug}-brand")
    product_model = ProductModelFactory(
        organization=org,
        brand=brand,
        category=category,
        name=f"{tag}型号KFR",
        code=f"{slug}-kfr",
    )
    outlet = OutletFactory(
        organization=org,
        name=f"{tag}旗舰网点",
        code=f"{slug}-outlet",
        city=f"{tag}城",
        address=f"{tag}路1号",
    )
    outlet.categories.add(category)
    outlet.authorised_brands.add(brand)
    opening_hours = OpeningHoursFactory(outlet=outlet, weekday=0)
    service_type = ServiceTypeFactory(
        organization=org, kind="repair", name=f"{tag}上门维修", code=f"{slug}-repair"
    )
    skill = SkillFactory(organization=org, name=f"{tag}制冷技能", code=f"{slug}-cooling")
    fault_type = FaultTypeFactory(
        organization=org, category=category, name=f"{tag}不制冷", code=f"{slug}-no-cooling"
    )
    fault_type.required_skills.add(skill)
    fault_line = FaultTypeLineFactory(fault_type=fault_type, item_code=f"{slug}-check")
    price_item = PriceListItemFactory(
        organization=org,
        code=f"{slug}-check",
        name=f"{tag}检测费",
        category=category,
        unit_price=Decimal("80.00"),
        valid_from=dt.date(2020, 1, 1),
    )
    customer = CustomerFactory(
        organization=org, name=f"{tag}客户", phone=f"+861370000{n:04d}", note=f"{tag}备注"
    )
    address = AddressFactory(customer=customer, city=f"{tag}城", address=f"{tag}小区3栋")
    asset = AssetFactory(
        customer=customer,
        category=category,
        brand=brand,
        product_model=product_model,
        nickname=f"{tag}客厅空调",
    )
    technician_user = UserFactory(phone=f"+861390001{n:04d}", display_name=f"{tag}技师")
    MembershipFactory(user=technician_user, organization=org, role="technician", outlet=outlet)
    technician = TechnicianFactory(organization=org, user=technician_user, outlet=outlet)
    technician_skill = TechnicianSkill.objects.create(technician=technician, skill=skill, level=4)
    return Tenant(
        org=org,
        admin_user=admin_user,
        membership=Membership.objects.get(user=admin_user, organization=org, role="admin"),
        outlet=outlet,
        opening_hours=opening_hours,
        category=category,
        brand=brand,
        product_model=product_model,
        service_type=service_type,
        skill=skill,
        fault_type=fault_type,
        fault_line=fault_line,
        price_item=price_item,
        customer=customer,
        address=address,
        asset=asset,
        technician=technician,
        technician_skill=technician_skill,
        # Text of this tenant that must never appear on another tenant's pages.
        names=[
            org.name,
            admin_user.display_name,
            outlet.name,
            outlet.city,
            outlet.address,
            category.name,
            brand.name,
            product_model.name,
            service_type.name,
            skill.name,
            fault_type.name,
            price_item.name,
            price_item.code,
            customer.name,
            technician_user.display_name,
        ],
    )


@pytest.fixture
def world(
    org_a: Organization,
    org_b: Organization,
    alice: User,
    agent: User,
    other_org_user: User,
) -> SimpleNamespace:
    """Organisation A (Alice, Agnes) and organisation B (Oscar), each with one of everything."""
    return SimpleNamespace(
        a=_build_tenant(org_a, tag="甲", slug="a", admin_user=alice, n=1),
        b=_build_tenant(org_b, tag="乙", slug="b", admin_user=other_org_user, n=2),
    )


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _snapshot(obj: models.Model) -> dict[str, Any]:
    """Every column (``updated_at`` included) and every many-to-many of ``obj`` as stored."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    row: dict[str, Any] = {
        f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields
    }
    for m2m in fresh._meta.many_to_many:
        row[m2m.name] = sorted(getattr(fresh, m2m.name).values_list("pk", flat=True))
    return row


def _html(response: Any) -> str:
    return response.content.decode()


# --- console pages -------------------------------------------------------------------------------

CONSOLE_DETAIL_CASES: list[tuple[str, UrlFactory]] = [
    ("outlet", lambda t: f"/console/outlets/{t.outlet.pk}/"),
    ("fault type", lambda t: f"/console/catalog/faults/{t.fault_type.pk}/"),
]

# (url, the text of A that must be on the page) — the second part proves the page is not empty.
CONSOLE_LIST_CASES: list[tuple[str, Callable[[Tenant], list[str]]]] = [
    ("/console/", lambda t: [t.org.name]),
    ("/console/outlets/", lambda t: [t.outlet.name, t.brand.name]),
    ("/console/members/", lambda t: [t.admin_user.display_name]),
    (
        "/console/catalog/",
        lambda t: [
            t.category.name,
            t.brand.name,
            t.product_model.name,
            t.service_type.name,
            t.skill.name,
        ],
    ),
    ("/console/catalog/faults/", lambda t: [t.fault_type.name, t.skill.name]),
    ("/console/prices/", lambda t: [t.price_item.name]),
    ("/console/prices/?all=1", lambda t: [t.price_item.name]),
]

CONSOLE_PAGES = [url for url, _ in CONSOLE_LIST_CASES] + ["/console/outlets/0/"]


@pytest.mark.parametrize("persona", ["alice", "agent"])
@pytest.mark.parametrize(
    ("name", "url"), CONSOLE_DETAIL_CASES, ids=[c[0] for c in CONSOLE_DETAIL_CASES]
)
def test_console_detail_of_other_organisation_answers_404(request, world, persona, name, url):
    # given a member of A
    client = _login(request.getfixturevalue(persona))
    # when they open B's object, then their own
    other = client.get(url(world.b))
    own = client.get(url(world.a))
    # then B's answers 404 like a missing object, their own answers 200
    assert other.status_code == 404
    assert own.status_code == 200


@pytest.mark.parametrize(
    ("url", "own_texts"), CONSOLE_LIST_CASES, ids=[c[0] for c in CONSOLE_LIST_CASES]
)
def test_console_list_pages_show_nothing_of_other_organisation(world, url, own_texts):
    # given Alice, administrator of A
    client = _login(world.a.admin_user)
    # when she opens a console list page
    response = client.get(url)
    # then it shows A's rows and none of B's names
    assert response.status_code == 200
    html = _html(response)
    assert [text for text in own_texts(world.a) if text not in html] == []
    assert [text for text in world.b.names if text in html] == []


def test_console_dashboard_counts_only_own_organisation(world, org_a):
    # given both organisations with one of everything
    client = _login(world.a.admin_user)
    # when Alice opens the console
    response = client.get("/console/")
    # then the counts are A's alone: Alice, Agnes and A's technician are A's members
    assert response.status_code == 200
    assert response.context["org"] == org_a
    assert response.context["counts"] == {
        "outlets": 1,
        "members": 3,
        "product_models": 1,
        "fault_types": 1,
        "price_items": 1,
    }


def test_console_switcher_refuses_other_organisation(world, org_a, org_b):
    # given Alice in the console
    client = _login(world.a.admin_user)
    # when she posts B's id to the organisation switcher
    response = client.post("/console/switch/", {"organization": org_b.pk})
    # then it answers 404 and the session does not remember B
    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    # and switching to her own organisation works
    assert client.post("/console/switch/", {"organization": org_a.pk}).status_code == 302
    assert client.session[SESSION_KEY] == org_a.pk


def test_console_switcher_refuses_a_non_number(world):
    client = _login(world.a.admin_user)
    assert client.post("/console/switch/", {"organization": "abc"}).status_code == 404


def test_console_ignores_other_organisation_planted_in_the_session(world, org_a):
    # given a session that somehow names organisation B
    client = _login(world.a.admin_user)
    session = client.session
    session[SESSION_KEY] = world.b.org.pk
    session.save()
    # when Alice opens the outlet list
    response = client.get("/console/outlets/")
    # then the console shows A, not B
    assert response.status_code == 200
    assert response.context["console_organization"] == org_a
    assert [outlet.pk for outlet in response.context["outlets"]] == [world.a.outlet.pk]


@pytest.mark.parametrize("url", CONSOLE_PAGES)
def test_anonymous_visitor_is_sent_to_login_from_console(client, world, url):
    # when a visitor without a session opens a console page
    response = client.get(url)
    # then they are sent to the sign-in page, coming back here afterwards
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={url.replace('?', '%3F').replace('=', '%3D')}"


@pytest.mark.parametrize("url", [*CONSOLE_PAGES, "/console/outlets/{a_outlet}/"])
def test_customer_without_membership_gets_404_in_console(world, customer, url):
    # given a signed-in customer (no membership anywhere)
    client = _login(customer)
    # when they open a console page
    response = client.get(url.format(a_outlet=world.a.outlet.pk))
    # then the console does not exist for them
    assert response.status_code == 404


def test_technician_has_no_console(world, technician):
    client = _login(technician)
    assert client.get("/console/").status_code == 404
    assert client.get(f"/console/outlets/{world.a.outlet.pk}/").status_code == 404


def test_platform_admin_sees_other_organisation_in_console(world, platform_admin):
    client = _login(platform_admin)
    assert client.get(f"/console/outlets/{world.b.outlet.pk}/").status_code == 200
    assert client.get(f"/console/catalog/faults/{world.b.fault_type.pk}/").status_code == 200
    # and can switch to it
    assert client.post("/console/switch/", {"organization": world.b.org.pk}).status_code == 302
    response = client.get("/console/outlets/")
    assert [outlet.pk for outlet in response.context["outlets"]] == [world.b.outlet.pk]


# --- API -----------------------------------------------------------------------------------------

API_DETAIL_CASES: list[tuple[str, UrlFactory]] = [
    ("organization", lambda t: f"/api/v1/organizations/{t.org.pk}/"),
    ("outlet", lambda t: f"/api/v1/outlets/{t.outlet.pk}/"),
    ("category", lambda t: f"/api/v1/categories/{t.category.pk}/"),
    ("brand", lambda t: f"/api/v1/brands/{t.brand.pk}/"),
    ("product model", lambda t: f"/api/v1/product-models/{t.product_model.pk}/"),
    ("service type", lambda t: f"/api/v1/service-types/{t.service_type.pk}/"),
    ("skill", lambda t: f"/api/v1/skills/{t.skill.pk}/"),
    ("fault type", lambda t: f"/api/v1/fault-types/{t.fault_type.pk}/"),
    ("fault type estimate", lambda t: f"/api/v1/fault-types/{t.fault_type.pk}/estimate/"),
    ("price item", lambda t: f"/api/v1/price-items/{t.price_item.pk}/"),
]

# (name, list url, the id of the tenant's row)
API_LIST_CASES: list[tuple[str, str, Callable[[Tenant], int]]] = [
    ("organizations", "/api/v1/organizations/", lambda t: t.org.pk),
    ("outlets", "/api/v1/outlets/", lambda t: t.outlet.pk),
    ("categories", "/api/v1/categories/", lambda t: t.category.pk),
    ("brands", "/api/v1/brands/", lambda t: t.brand.pk),
    ("product models", "/api/v1/product-models/", lambda t: t.product_model.pk),
    ("service types", "/api/v1/service-types/", lambda t: t.service_type.pk),
    ("skills", "/api/v1/skills/", lambda t: t.skill.pk),
    ("fault types", "/api/v1/fault-types/", lambda t: t.fault_type.pk),
    ("price items", "/api/v1/price-items/", lambda t: t.price_item.pk),
]

# Filters that name the other organisation's objects on a list, with the status both B's object
# and a missing one get: 400 where the filter checks its choices (they are the caller's own
# rows only), 200 with an empty list where it takes any number or text.
API_FILTER_CASES: list[tuple[str, UrlFactory, int]] = [
    ("outlets by organization", lambda t: f"/api/v1/outlets/?organization={t.org.pk}", 400),
    ("outlets by brand", lambda t: f"/api/v1/outlets/?brand={t.brand.pk}", 200),
    ("outlets by category", lambda t: f"/api/v1/outlets/?category={t.category.pk}", 200),
    ("models by brand", lambda t: f"/api/v1/product-models/?brand={t.brand.pk}", 400),
    ("faults by category", lambda t: f"/api/v1/fault-types/?category={t.category.pk}", 400),
    ("prices by category", lambda t: f"/api/v1/price-items/?category={t.category.pk}", 400),
    ("prices by code", lambda t: f"/api/v1/price-items/?code={t.price_item.code}", 200),
    ("brands by search", lambda t: f"/api/v1/brands/?search={t.brand.name}", 200),
]


def _ids(response: Any) -> list[int]:
    return sorted(row["id"] for row in response.json()["results"])


class _Missing:
    """Stands in for a tenant whose every object has an id nobody has."""

    def __getattr__(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(pk=987654321, code="no-such-code", name="没有这个名字")


MISSING = _Missing()


@pytest.mark.parametrize("persona", ["alice", "agent"])
@pytest.mark.parametrize(("name", "url"), API_DETAIL_CASES, ids=[c[0] for c in API_DETAIL_CASES])
def test_api_detail_of_other_organisation_answers_404(request, world, persona, name, url):
    # given a member of A
    client = _login(request.getfixturevalue(persona))
    # when they ask the API for B's object, for an object that does not exist, for their own
    other = client.get(url(world.b))
    missing = client.get(url(MISSING))
    own = client.get(url(world.a))
    # then B's object answers exactly like a missing one, and their own answers 200
    assert other.status_code == 404
    assert other.json() == missing.json()
    assert missing.status_code == 404
    assert own.status_code == 200


@pytest.mark.parametrize("persona", ["alice", "agent"])
@pytest.mark.parametrize(
    ("name", "url", "row_id"), API_LIST_CASES, ids=[c[0] for c in API_LIST_CASES]
)
def test_api_lists_exclude_other_organisation(request, world, persona, name, url, row_id):
    # given a member of A
    client = _login(request.getfixturevalue(persona))
    # when they list
    response = client.get(url)
    # then exactly A's row is there
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert _ids(response) == [row_id(world.a)]


@pytest.mark.parametrize(
    ("name", "url", "row_id"), API_LIST_CASES, ids=[c[0] for c in API_LIST_CASES]
)
def test_api_lists_exclude_organisation_a_for_oscar(world, other_org_user, name, url, row_id):
    # given Oscar, administrator of B (the symmetric case)
    client = _login(other_org_user)
    # when he lists
    response = client.get(url)
    # then he sees B's row only
    assert response.status_code == 200
    assert _ids(response) == [row_id(world.b)]


@pytest.mark.parametrize(("name", "url"), API_DETAIL_CASES, ids=[c[0] for c in API_DETAIL_CASES])
def test_api_detail_of_organisation_a_answers_404_for_oscar(world, other_org_user, name, url):
    client = _login(other_org_user)
    assert client.get(url(world.a)).status_code == 404
    assert client.get(url(world.b)).status_code == 200


@pytest.mark.parametrize(
    ("name", "url", "status"), API_FILTER_CASES, ids=[c[0] for c in API_FILTER_CASES]
)
def test_api_filters_naming_other_organisation_answer_like_missing_objects(
    world, name, url, status
):
    # given Alice
    client = _login(world.a.admin_user)
    # when she filters a list by B's objects, and by objects that do not exist
    response = client.get(url(world.b))
    missing = client.get(url(MISSING))
    # then both get the same answer, which finds nothing
    assert (response.status_code, response.json()) == (missing.status_code, missing.json())
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == []
    # and the same filter with A's objects finds A's row
    own = client.get(url(world.a))
    assert own.status_code == 200
    assert own.json()["count"] == 1


@pytest.mark.parametrize(
    ("name", "url", "row_id"), API_LIST_CASES, ids=[c[0] for c in API_LIST_CASES]
)
def test_api_lists_are_empty_for_a_customer(world, customer, name, url, row_id):
    client = _login(customer)
    response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("name", "url"), API_DETAIL_CASES, ids=[c[0] for c in API_DETAIL_CASES])
def test_api_details_answer_404_for_a_customer(world, customer, name, url):
    client = _login(customer)
    assert client.get(url(world.a)).status_code == 404


@pytest.mark.parametrize(
    ("name", "url", "row_id"), API_LIST_CASES, ids=[c[0] for c in API_LIST_CASES]
)
def test_api_lists_show_both_organisations_to_platform_admin(
    world, platform_admin, name, url, row_id
):
    client = _login(platform_admin)
    response = client.get(url)
    assert response.status_code == 200
    assert _ids(response) == sorted([row_id(world.a), row_id(world.b)])


@pytest.mark.parametrize(
    "url",
    [case[1] for case in API_LIST_CASES] + ["/api/v1/outlets/{a_outlet}/"],
)
def test_api_refuses_anonymous_callers(client, world, url):
    # when a caller without session or token asks
    response = client.get(url.format(a_outlet=world.a.outlet.pk))
    # then the API refuses: 403, as session authentication comes first and sends no
    # WWW-Authenticate challenge
    assert response.status_code == 403
    assert response.json() == {"detail": "身份认证信息未提供。"}


API_WRITE_CASES = [case for case in API_DETAIL_CASES if case[0] != "fault type estimate"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(("name", "url"), API_WRITE_CASES, ids=[c[0] for c in API_WRITE_CASES])
def test_api_writes_change_nothing_of_other_organisation(world, method, name, url):
    # given Alice and B's object
    client = _login(world.a.admin_user)
    obj = _api_object(world.b, name)
    before = _snapshot(obj)
    # when she tries to write it
    response = getattr(client, method)(
        url(world.b), {"name": "篡改"}, content_type="application/json"
    )
    # then the read-only API refuses and the row is unchanged
    assert response.status_code == 405
    assert _snapshot(obj) == before


def _api_object(tenant: Tenant, name: str) -> models.Model:
    return {
        "organization": tenant.org,
        "outlet": tenant.outlet,
        "category": tenant.category,
        "brand": tenant.brand,
        "product model": tenant.product_model,
        "service type": tenant.service_type,
        "skill": tenant.skill,
        "fault type": tenant.fault_type,
        "price item": tenant.price_item,
    }[name]


def test_api_token_of_member_of_a_sees_only_a(world, alice):
    # given Alice calling with a token instead of a session
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=alice)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    # then the scope is the same
    assert client.get(f"/api/v1/outlets/{world.b.outlet.pk}/").status_code == 404
    assert _ids(client.get("/api/v1/outlets/")) == [world.a.outlet.pk]


# --- admin ---------------------------------------------------------------------------------------

# Every registered tenant-scoped ModelAdmin: model label -> the tenant attribute holding one row.
ADMIN_OBJECTS: dict[str, str] = {
    "accounts.organization": "org",
    "accounts.outlet": "outlet",
    "accounts.membership": "membership",
    "catalog.productcategory": "category",
    "catalog.brand": "brand",
    "catalog.productmodel": "product_model",
    "catalog.servicetype": "service_type",
    "catalog.skilltag": "skill",
    "catalog.faulttype": "fault_type",
    "catalog.pricelistitem": "price_item",
    "customers.customer": "customer",
    "dispatch.technician": "technician",
}
# Rows that go with the admin objects above (inlines): they must not change either.
INLINE_OBJECTS: dict[str, list[str]] = {
    "accounts.outlet": ["opening_hours"],
    "catalog.faulttype": ["fault_line"],
    "customers.customer": ["address", "asset"],
    "dispatch.technician": ["technician_skill"],
}
ADMIN_PAGES = ["change", "delete", "history"]


def _admin_url(label: str, page: str, *args: Any) -> str:
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_{page}", args=args)


def _tamper_payload() -> dict[str, Any]:
    """What an attacker would post to a change or delete page."""
    return {
        "name": "已被篡改",
        "code": "hacked",
        "organization": "",
        "is_active": "",
        "post": "yes",
        "_save": "Save",
    }


def test_every_tenant_admin_is_in_the_matrix():
    # given the admin site as registered
    registered = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantModelAdmin)
    }
    # then every tenant-scoped admin has a row in the matrix
    missing, stale = registered - set(ADMIN_OBJECTS), set(ADMIN_OBJECTS) - registered
    assert (missing, stale) == (set(), set()), (
        "Add each new tenant admin to ADMIN_OBJECTS (and its rows to _build_tenant, its add "
        "form to ADD_FORMS and its cross-tenant fields to ADD_TAMPER_CASES); drop rows of "
        f"admins that are gone. Missing: {sorted(missing)}, stale: {sorted(stale)}"
    )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_pages_of_other_organisation_answer_404_and_change_nothing(
    world, label, page, method
):
    # given Alice, admin of A, and B's object with its inline rows
    client = _login(world.a.admin_user)
    obj = getattr(world.b, ADMIN_OBJECTS[label])
    related = [obj] + [getattr(world.b, name) for name in INLINE_OBJECTS.get(label, [])]
    before = [_snapshot(row) for row in related]
    url = _admin_url(label, page, obj.pk)
    # when she opens or posts B's change, delete or history page
    response = client.get(url) if method == "get" else client.post(url, _tamper_payload())
    # then it answers 404 and B's rows are still there, unchanged
    assert response.status_code == 404
    assert [_snapshot(row) for row in related] == before


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_pages_of_missing_object_answer_404(world, label, page):
    client = _login(world.a.admin_user)
    assert client.get(_admin_url(label, page, 987654321)).status_code == 404


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_pages_of_own_object_open(world, label, page):
    # given Alice and A's object
    client = _login(world.a.admin_user)
    obj = getattr(world.a, ADMIN_OBJECTS[label])
    # when she opens its page
    response = client.get(_admin_url(label, page, obj.pk))
    # then it opens; only deleting her own organisation is a platform task
    expected = 403 if (label, page) == ("accounts.organization", "delete") else 200
    assert response.status_code == expected


def _own_pks(tenant: Tenant, label: str) -> list[int]:
    model_class = apps.get_model(label)
    if label == "accounts.organization":
        return [tenant.org.pk]
    return sorted(
        model_class._default_manager.filter(organization=tenant.org).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_changelist_lists_only_own_rows(world, label):
    # given Alice, admin of A
    client = _login(world.a.admin_user)
    # when she opens the changelist
    response = client.get(_admin_url(label, "changelist"))
    # then it lists exactly A's rows and no name of B appears anywhere (filters included)
    assert response.status_code == 200
    assert sorted(obj.pk for obj in response.context["cl"].result_list) == _own_pks(world.a, label)
    html = _html(response)
    assert [text for text in world.b.names if text in html] == []


@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_changelist_filtered_by_other_organisation_is_empty(world, label):
    client = _login(world.a.admin_user)
    lookup = "id__exact" if label == "accounts.organization" else "organization__id__exact"
    response = client.get(_admin_url(label, "changelist"), {lookup: world.b.org.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("label", sorted(ADMIN_OBJECTS))
def test_admin_changelist_shows_both_organisations_to_platform_admin(world, platform_admin, label):
    client = _login(platform_admin)
    response = client.get(_admin_url(label, "changelist"))
    assert response.status_code == 200
    assert sorted(obj.pk for obj in response.context["cl"].result_list) == sorted(
        _own_pks(world.a, label) + _own_pks(world.b, label)
    )
    obj = getattr(world.b, ADMIN_OBJECTS[label])
    assert client.get(_admin_url(label, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/{oscar}/change/",
        "/admin/accounts/user/{alice}/change/",
        "/admin/auth/group/",
        "/admin/authtoken/tokenproxy/",
        "/admin/django_tasks_database/dbtaskresult/",
    ],
)
def test_platform_only_admins_refuse_organisation_admins(world, alice, other_org_user, url):
    # Platform-only pages refuse everybody but superusers with the same 403, whoever the
    # object belongs to, so the answer says nothing about organisation B.
    client = _login(alice)
    response = client.get(url.format(oscar=other_org_user.pk, alice=alice.pk))
    assert response.status_code == 403


def test_admin_is_closed_to_members_without_admin_role(world, agent):
    client = _login(agent)
    response = client.get(_admin_url("accounts.outlet", "change", world.b.outlet.pk))
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# --- admin add forms that point at the other organisation ----------------------------------------


def _management(prefix: str, total: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


# A valid add-form payload for each tenant admin, pointing at A's objects only.
ADD_FORMS: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "accounts.outlet": lambda t: {
        "organization": t.org.pk,
        "name": "新网点",
        "code": "new-outlet",
        "phone": "",
        "certification_tier": "authorised",
        "service_bays": "2",
        "is_active": "on",
        "province": "",
        "city": "深圳市",
        "district": "",
        "address": "科技园路9号",
        "latitude": "22.5",
        "longitude": "114.1",
        "categories": [t.category.pk],
        "authorised_brands": [t.brand.pk],
        **_management("opening_hours"),
    },
    "accounts.membership": lambda t: {
        "phone": "13800009999",
        "display_name": "新同事",
        "organization": t.org.pk,
        "role": "agent",
        "outlet": t.outlet.pk,
        "is_active": "on",
    },
    "catalog.productcategory": lambda t: {
        "organization": t.org.pk,
        "parent": t.category.pk,
        "name": "挂机",
        "code": "new-category",
        "sort_order": "0",
        "is_active": "on",
    },
    "catalog.brand": lambda t: {
        "organization": t.org.pk,
        "name": "新品牌",
        "code": "new-brand",
        "is_active": "on",
    },
    "catalog.productmodel": lambda t: {
        "organization": t.org.pk,
        "brand": t.brand.pk,
        "category": t.category.pk,
        "name": "新型号",
        "code": "new-model",
        "warranty_months": "24",
        "is_active": "on",
    },
    "catalog.servicetype": lambda t: {
        "organization": t.org.pk,
        "kind": "install",
        "name": "安装",
        "code": "new-install",
        "is_active": "on",
    },
    "catalog.skilltag": lambda t: {
        "organization": t.org.pk,
        "name": "焊接",
        "code": "new-welding",
    },
    "catalog.faulttype": lambda t: {
        "organization": t.org.pk,
        "category": t.category.pk,
        "name": "漏水",
        "code": "new-leak",
        "description": "",
        "required_skills": [t.skill.pk],
        "typical_duration_minutes": "45",
        "is_active": "on",
        **_management("typical_lines"),
    },
    "catalog.pricelistitem": lambda t: {
        "organization": t.org.pk,
        "code": "new-gas",
        "name": "加氟",
        "kind": "material",
        "unit": "piece",
        "unit_price": "150.00",
        "category": t.category.pk,
        "product_model": t.product_model.pk,
        "valid_from": "2026-01-01",
        "valid_to": "",
    },
    "customers.customer": lambda t: {
        "organization": t.org.pk,
        "name": "新客户",
        "phone": "13700009999",
        "note": "",
        **_management("addresses"),
        **_management("assets", total=1),
        "assets-0-category": t.category.pk,
        "assets-0-brand": t.brand.pk,
        "assets-0-product_model": t.product_model.pk,
        "assets-0-nickname": "卧室空调",
        "assets-0-serial_number": "",
        "assets-0-imei": "",
        "assets-0-vin": "",
        "assets-0-plate_number": "",
        "assets-0-purchased_on": "",
        "assets-0-warranty_until": "",
    },
    "dispatch.technician": lambda t: {
        "phone": "13900009999",
        "display_name": "新技师",
        "organization": t.org.pk,
        "outlet": t.outlet.pk,
        "home_latitude": "30.2",
        "home_longitude": "120.1",
        "is_active": "on",
        **_management("skill_levels", total=1),
        "skill_levels-0-skill": t.skill.pk,
        "skill_levels-0-level": "3",
    },
}

ADD_MODELS: dict[str, type[models.Model]] = {
    "accounts.outlet": Outlet,
    "accounts.membership": Membership,
    "catalog.productcategory": ProductCategory,
    "catalog.brand": Brand,
    "catalog.productmodel": ProductModel,
    "catalog.servicetype": ServiceType,
    "catalog.skilltag": SkillTag,
    "catalog.faulttype": FaultType,
    "catalog.pricelistitem": PriceListItem,
    "customers.customer": Customer,
    "dispatch.technician": Technician,
}


@dataclass(frozen=True)
class AddTamper:
    """An add form whose otherwise valid payload points one field at organisation B."""

    name: str
    label: str
    overrides: Callable[[Tenant], dict[str, Any]]
    errors: set[str] = field(default_factory=set)


ADD_TAMPER_CASES: list[AddTamper] = [
    AddTamper("outlet in B", "accounts.outlet", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "outlet serving B's category", "accounts.outlet", lambda b: {"categories": [b.category.pk]}
    ),
    AddTamper(
        "outlet authorised for B's brand",
        "accounts.outlet",
        lambda b: {"authorised_brands": [b.brand.pk]},
    ),
    AddTamper(
        "membership in B",
        "accounts.membership",
        lambda b: {"organization": b.org.pk},
        # the model's clean() then finds A's other references in a different organisation
        errors={"outlet"},
    ),
    AddTamper("membership at B's outlet", "accounts.membership", lambda b: {"outlet": b.outlet.pk}),
    AddTamper(
        "category in B",
        "catalog.productcategory",
        lambda b: {"organization": b.org.pk},
        # the model's clean() then finds A's other references in a different organisation
        errors={"parent"},
    ),
    AddTamper(
        "category under B's parent", "catalog.productcategory", lambda b: {"parent": b.category.pk}
    ),
    AddTamper("brand in B", "catalog.brand", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "model in B",
        "catalog.productmodel",
        lambda b: {"organization": b.org.pk},
        # the model's clean() then finds A's other references in a different organisation
        errors={"brand", "category"},
    ),
    AddTamper("model of B's brand", "catalog.productmodel", lambda b: {"brand": b.brand.pk}),
    AddTamper(
        "model in B's category", "catalog.productmodel", lambda b: {"category": b.category.pk}
    ),
    AddTamper("service type in B", "catalog.servicetype", lambda b: {"organization": b.org.pk}),
    AddTamper("skill in B", "catalog.skilltag", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "fault type in B",
        "catalog.faulttype",
        lambda b: {"organization": b.org.pk},
        # the model's clean() then finds A's other references in a different organisation
        errors={"category"},
    ),
    AddTamper(
        "fault type in B's category", "catalog.faulttype", lambda b: {"category": b.category.pk}
    ),
    AddTamper(
        "fault type needing B's skill",
        "catalog.faulttype",
        lambda b: {"required_skills": [b.skill.pk]},
    ),
    AddTamper(
        "price in B",
        "catalog.pricelistitem",
        lambda b: {"organization": b.org.pk},
        # the model's clean() then finds A's other references in a different organisation
        errors={"category", "product_model"},
    ),
    AddTamper(
        "price for B's model",
        "catalog.pricelistitem",
        lambda b: {"product_model": b.product_model.pk},
    ),
    AddTamper(
        "price in B's category", "catalog.pricelistitem", lambda b: {"category": b.category.pk}
    ),
    AddTamper("customer in B", "customers.customer", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "asset in B's category",
        "customers.customer",
        lambda b: {"assets-0-category": b.category.pk},
    ),
    AddTamper("asset of B's brand", "customers.customer", lambda b: {"assets-0-brand": b.brand.pk}),
    AddTamper(
        "asset of B's model",
        "customers.customer",
        lambda b: {"assets-0-product_model": b.product_model.pk},
    ),
    AddTamper("technician in B", "dispatch.technician", lambda b: {"organization": b.org.pk}),
    AddTamper("technician at B's outlet", "dispatch.technician", lambda b: {"outlet": b.outlet.pk}),
    AddTamper(
        "technician with B's skill",
        "dispatch.technician",
        lambda b: {"skill_levels-0-skill": b.skill.pk},
    ),
]


def _form_errors(response: Any) -> dict[str, list[str]]:
    """Field errors of the admin form and its inlines, inline fields as ``prefix-i-field``."""
    errors: dict[str, list[str]] = dict(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for index, form_errors in enumerate(formset.errors):
            for name, messages in form_errors.items():
                errors[f"{formset.prefix}-{index}-{name}"] = messages
        if formset.non_form_errors():
            errors[f"{formset.prefix}-__all__"] = list(formset.non_form_errors())
    return errors


def _counts() -> dict[str, int]:
    return {label: model._default_manager.count() for label, model in ADD_MODELS.items()} | {
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "opening_hours": OpeningHours.objects.count(),
        "technician_skills": TechnicianSkill.objects.count(),
    }


@pytest.mark.parametrize("label", sorted(ADD_FORMS))
def test_admin_add_form_with_own_objects_is_accepted(world, label):
    # The control for the tampering cases below: the same payload with A's objects saves.
    client = _login(world.a.admin_user)
    model = ADD_MODELS[label]
    before = model._default_manager.count()
    response = client.post(_admin_url(label, "add"), ADD_FORMS[label](world.a))
    assert response.status_code == 302, _form_errors(response)
    assert model._default_manager.count() == before + 1


@pytest.mark.parametrize("case", ADD_TAMPER_CASES, ids=[c.name for c in ADD_TAMPER_CASES])
def test_admin_add_form_pointing_at_other_organisation_is_rejected(world, case):
    # given Alice and an add form that names one of B's objects
    client = _login(world.a.admin_user)
    payload = ADD_FORMS[case.label](world.a) | case.overrides(world.b)
    tampered = set(case.overrides(world.b))
    before = _counts()
    # when she posts it
    response = client.post(_admin_url(case.label, "add"), payload)
    # then the form comes back with an error on that field and nothing was created
    assert response.status_code == 200
    assert set(_form_errors(response)) == tampered | case.errors
    assert _counts() == before


def test_admin_add_organisation_is_a_platform_task(world):
    client = _login(world.a.admin_user)
    before = Organization.objects.count()
    response = client.post(
        _admin_url("accounts.organization", "add"),
        {"name": "丙", "code": "org-c", "kind": "brand", "contact_phone": "", "is_active": "on"},
    )
    assert response.status_code == 403
    assert Organization.objects.count() == before


# --- admin change forms of A's own objects that reach into B -------------------------------------


def test_admin_change_form_cannot_move_own_model_to_other_brand(world):
    # given A's product model
    client = _login(world.a.admin_user)
    product_model = world.a.product_model
    before = _snapshot(product_model)
    payload = ADD_FORMS["catalog.productmodel"](world.a) | {
        "code": product_model.code,
        "brand": world.b.brand.pk,
    }
    # when Alice changes its brand to B's
    response = client.post(_admin_url("catalog.productmodel", "change", product_model.pk), payload)
    # then the form refuses and the model is unchanged
    assert response.status_code == 200
    assert set(_form_errors(response)) == {"brand"}
    assert _snapshot(product_model) == before


def test_admin_change_form_cannot_move_own_outlet_to_other_organisation(world):
    client = _login(world.a.admin_user)
    outlet = world.a.outlet
    before = _snapshot(outlet)
    payload = ADD_FORMS["accounts.outlet"](world.a) | {
        "code": outlet.code,
        "organization": world.b.org.pk,
        "opening_hours-TOTAL_FORMS": "1",
        "opening_hours-INITIAL_FORMS": "1",
        "opening_hours-0-id": world.a.opening_hours.pk,
        "opening_hours-0-outlet": outlet.pk,
        "opening_hours-0-weekday": "0",
        "opening_hours-0-opens_at": "09:00",
        "opening_hours-0-closes_at": "18:00",
    }
    response = client.post(_admin_url("accounts.outlet", "change", outlet.pk), payload)
    assert response.status_code == 200
    assert set(_form_errors(response)) == {"organization"}
    assert _snapshot(outlet) == before


@pytest.mark.parametrize(
    ("label", "owner", "prefix", "inline_row", "inline_fields"),
    [
        (
            "accounts.outlet",
            "outlet",
            "opening_hours",
            "opening_hours",
            {"weekday": "6", "opens_at": "01:00", "closes_at": "02:00"},
        ),
        (
            "catalog.faulttype",
            "fault_type",
            "typical_lines",
            "fault_line",
            {"item_code": "hacked", "quantity": "9", "is_optional": "on"},
        ),
    ],
)
def test_admin_inline_cannot_edit_other_organisation_rows(
    world, label, owner, prefix, inline_row, inline_fields
):
    # given A's object, and an inline row id of B's planted in its change form
    client = _login(world.a.admin_user)
    own = getattr(world.a, owner)
    victim = getattr(world.b, inline_row)
    fk_name = _fk_name(victim)
    rows = type(victim)._default_manager
    victim_before = _snapshot(victim)
    own_rows_before = list(rows.filter(**{fk_name: own}).values())
    payload = ADD_FORMS[label](world.a) | {
        "code": own.code,
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": victim.pk,
        f"{prefix}-0-{fk_name}": own.pk,
        **{f"{prefix}-0-{name}": value for name, value in inline_fields.items()},
    }
    # when Alice saves her object
    response = client.post(_admin_url(label, "change", own.pk), payload)
    # then the planted row is ignored: B's row is unchanged and still B's, A's rows are as before
    assert response.status_code == 302
    assert _snapshot(victim) == victim_before
    assert list(rows.filter(**{fk_name: own}).values()) == own_rows_before


def _fk_name(row: models.Model) -> str:
    return {"OpeningHours": "outlet", "FaultTypeLine": "fault_type"}[type(row).__name__]


# --- admin autocomplete --------------------------------------------------------------------------

AUTOCOMPLETE_CASES: list[tuple[str, str, str, Callable[[Tenant], int]]] = [
    ("catalog", "productmodel", "brand", lambda t: t.brand.pk),
    ("catalog", "productmodel", "category", lambda t: t.category.pk),
    ("catalog", "faulttype", "required_skills", lambda t: t.skill.pk),
    ("catalog", "pricelistitem", "product_model", lambda t: t.product_model.pk),
    ("accounts", "outlet", "organization", lambda t: t.org.pk),
    ("dispatch", "technician", "outlet", lambda t: t.outlet.pk),
]


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name", "row_id"),
    AUTOCOMPLETE_CASES,
    ids=[f"{c[1]}.{c[2]}" for c in AUTOCOMPLETE_CASES],
)
def test_admin_autocomplete_offers_only_own_rows(world, app_label, model_name, field_name, row_id):
    # given Alice
    client = _login(world.a.admin_user)
    # when the admin's autocomplete is asked for choices of a field
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    # then only A's rows are offered
    assert response.status_code == 200
    assert [int(row["id"]) for row in response.json()["results"]] == [row_id(world.a)]
