"""THE tenancy matrix: a person of organisation A can neither read nor change anything of
organisation B through the console pages, the technician's workbench, the customer's pages, the
admin or the API. The answer is 404 and nothing changes.

Every later issue extends this matrix: add a row to the case lists below (a name and a function
that builds the URL from one organisation's objects), add the new objects to ``_build_tenant``
(work-order rows to ``_build_orders``), and register new tenant-scoped admins in
``ADMIN_OBJECTS``. Each case runs against B's object (must be refused) and against A's own
object (must work), so a refusal is never an accident of a broken page.

Work orders are asked about by every kind of person of A (``PERSONAS``: Alice and Agnes in the
console, A's technician, A's signed-in customer) in ``ORDER_CASES``; the actions of the console,
the workbench, 我的服务 and the API are taken from the views themselves, so a new action joins
the matrix without a new row.

The world (``_build_world``) is built once per module and every test runs in a savepoint of it,
so a test may write freely (its writes are undone) but must not change the shared objects.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models, transaction
from django.db.models import Q
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

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
    OrganizationFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
    ServiceTypeFactory,
    SkillFactory,
    TechnicianFactory,
    UserFactory,
)
from shouhou.customers.models import Address, Customer
from shouhou.dispatch.models import (
    DayOff,
    DispatchAttempt,
    DispatchModeOverride,
    DispatchPolicy,
    OutletSlot,
    RoutePlan,
    RouteStop,
    Shift,
    SlotBooking,
    Technician,
    TechnicianSkill,
)
from shouhou.feedback.models import FollowUp, Rating
from shouhou.feedback.services import rating_submit
from shouhou.notifications.models import Message, NotificationTemplate, PushSubscription
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.webhooks.models import WebhookDelivery, WebhookEndpoint
from shouhou.workorders import services
from shouhou.workorders.api.views import WorkOrderViewSet
from shouhou.workorders.choices import AttachmentKind, Channel, FulfilmentMode, VisitOutcome
from shouhou.workorders.models import Visit, WorkOrder
from shouhou.workorders.services import Actor
from shouhou.workorders.views import console as console_views
from shouhou.workorders.views import customer as customer_views
from shouhou.workorders.views import technician as technician_views

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
    # The customer signs in (我的服务) as this person.
    customer_user = UserFactory(phone=f"+861370000{n:04d}", display_name=f"{tag}客户本人")
    customer = CustomerFactory(
        organization=org,
        name=f"{tag}客户",
        phone=customer_user.phone,
        note=f"{tag}备注",
        user=customer_user,
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
    shift = Shift.objects.create(
        technician=technician, weekday=0, starts_at=dt.time(8), ends_at=dt.time(20)
    )
    day_off = DayOff.objects.create(technician=technician, day=dt.date(2030, 1, 1))
    dispatch_policy = DispatchPolicy.objects.create(organization=org, weight_travel=0.5)
    dispatch_mode_override = DispatchModeOverride.objects.create(
        organization=org, service_type=service_type, mode="manual"
    )
    tenant = Tenant(
        tag=tag,
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
        customer_user=customer_user,
        address=address,
        asset=asset,
        technician=technician,
        technician_skill=technician_skill,
        shift=shift,
        day_off=day_off,
        dispatch_policy=dispatch_policy,
        dispatch_mode_override=dispatch_mode_override,
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
            customer_user.display_name,
            technician_user.display_name,
        ],
    )
    _build_orders(tenant)
    tenant.webhook_endpoint = WebhookEndpoint.objects.create(
        organization=org, url=f"https://hooks.example.com/{slug}", secret=f"whsec_{slug}"
    )
    tenant.webhook_delivery = WebhookDelivery.objects.create(
        endpoint=tenant.webhook_endpoint,
        event=tenant.event,
        event_type=tenant.event.type,
        next_attempt_at=timezone.now(),
    )
    tenant.message = Message.objects.create(
        organization=org,
        work_order=tenant.work_order,
        event=tenant.event,
        kind="en_route",
        audience="customer",
        channel="sms",
        address=customer.phone,
        language="zh-hans",
        body="on the way",
        next_attempt_at=timezone.now(),
    )
    tenant.notification_template = NotificationTemplate.objects.create(
        organization=org,
        kind="completed",
        audience="customer",
        channel="sms",
        language="zh-hans",
        body="{{ number }} done",
    )
    # An SLA policy, and a clock of the tenant's order (made by the work-order services).
    tenant.sla_policy = SlaPolicy.objects.create(
        organization=org,
        name=f"{tag}时效",
        response_minutes=60,
        arrival_minutes=240,
        resolution_minutes=1440,
    )
    tenant.sla_clock = SlaClock.objects.filter(work_order=tenant.work_order).first()
    tenant.push_subscription = PushSubscription.objects.create(
        user=tenant.technician.user,
        endpoint=f"https://fcm.googleapis.com/fcm/send/{slug}",
        p256dh=f"{slug}-p256dh",
        auth=f"{slug}-auth",
        user_agent="Chrome",
    )
    # A bay of the outlet held by the tenant's order (rows for the slot admins).
    slot_start = timezone.make_aware(dt.datetime(2030, 1, 7, 10))
    tenant.outlet_slot = OutletSlot.objects.create(
        outlet=outlet,
        start=slot_start,
        end=slot_start + dt.timedelta(hours=1),
        capacity=outlet.service_bays,
        booked=1,
    )
    tenant.slot_booking = SlotBooking.objects.create(
        slot=tenant.outlet_slot,
        outlet=outlet,
        work_order=tenant.work_order,
        start=slot_start,
        end=slot_start + dt.timedelta(hours=1),
    )
    return tenant


def _png(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _build_orders(t: Tenant) -> None:
    """The tenant's work order, driven through the services from the phone call to the rating:
    accepted, given to the tenant's technician, checked in, signed, fixed, rated low (which
    opens a follow-up), with a fault photo and an internal note. Its texts join ``t.names``."""
    staff = Actor(user=t.admin_user, role="agent")
    tech = Actor(user=t.technician.user, role="technician")
    customer = Actor(user=t.customer_user, role="customer")
    order = services.workorder_create(
        organization=t.org,
        customer=t.customer,
        asset=t.asset,
        service_type=t.service_type,
        fault_type=t.fault_type,
        description=f"{t.tag}家客厅空调不制冷,外机不转",
        channel=Channel.PHONE,
        fulfilment_mode=FulfilmentMode.ON_SITE,
        address=t.address,
        outlet=t.outlet,
        actor=staff,
        notify_customer=False,
    ).work_order
    attachment = services.attachment_add(
        work_order=order, actor=customer, kind=AttachmentKind.FAULT_PHOTO, upload=_png()
    )
    note = services.workorder_add_note(work_order=order, actor=staff, text=f"{t.tag}内部备注")
    services.workorder_accept(work_order=order, actor=staff)
    services.workorder_assign_technician(work_order=order, technician=t.technician, actor=staff)
    services.workorder_accept_assignment(work_order=order, technician=t.technician, actor=tech)
    visit = services.visit_check_in(
        work_order=order, technician=t.technician, actor=tech, latitude=None, longitude=None
    )
    signature = services.workorder_sign(work_order=order, actor=tech, signature=_png("black"))
    services.visit_finish(
        work_order=order, technician=t.technician, actor=tech, outcome=VisitOutcome.FIXED
    )
    rating = rating_submit(
        work_order=order,
        actor=customer,
        attitude=1,
        professionalism=2,
        responsiveness=1,
        transparency=2,
        comment=f"{t.tag}师傅迟到了两个小时",
    )
    t.work_order = WorkOrder.objects.get(pk=order.pk)
    t.event = order.events.get(type="created")
    t.note = note
    t.attachment = attachment
    t.signature = signature
    t.visit = Visit.objects.get(pk=visit.pk)
    t.rating = rating
    t.follow_up = FollowUp.objects.get(rating=rating)  # opened by the low rating
    eta = dt.datetime(2030, 1, 7, 9, 30, tzinfo=dt.UTC)
    t.route_plan = RoutePlan.objects.create(
        organization=t.org,
        technician=t.technician,
        day=dt.date(2030, 1, 7),
        computed_at=eta,
        unassigned=[{"work_order": t.work_order.number, "reason": "does_not_fit"}],
    )
    t.route_stop = RouteStop.objects.create(
        plan=t.route_plan,
        work_order=t.work_order,
        sequence=1,
        eta=eta,
        planned_start=eta,
        planned_end=eta + dt.timedelta(hours=1),
        travel_seconds=600,
        distance_m=4000,
    )
    t.dispatch_attempt = DispatchAttempt.objects.get(work_order=order)  # the manual assignment
    # An offer to the tenant's technician and a pool entry, both long closed: enough for the
    # technician's offer and pool URLs (an answer to another tenant's is 404 in any state).
    closed_at = timezone.now() - dt.timedelta(days=1)
    t.offer, t.pool_entry = (
        DispatchAttempt.objects.create(
            organization=t.org,
            work_order=order,
            mode=mode,
            technician=t.technician if mode == "offer" else None,
            sequence=sequence,
            offered_at=closed_at,
            expires_at=closed_at + dt.timedelta(minutes=3),
            outcome="expired",
        )
        for mode, sequence in (("offer", 2), ("pool", 3))
    )
    t.names += [
        t.work_order.number,
        t.work_order.description,
        t.work_order.tracking_token,
        attachment.token,
        signature.token,
        note.reason,
        rating.comment,
    ]


def _order_state(t: Tenant) -> dict[str, Any]:
    """Everything of the tenant's work order as stored: the row, its visits, events,
    attachments, rating and follow-ups."""
    order = t.work_order
    return {
        "order": _snapshot(order),
        "visits": [_snapshot(visit) for visit in order.visits.order_by("pk")],
        "events": list(order.events.order_by("pk").values()),
        "attachments": list(order.attachments.order_by("pk").values()),
        "ratings": list(Rating.objects.filter(work_order=order).values()),
        "follow_ups": list(FollowUp.objects.filter(work_order=order).order_by("pk").values()),
    }


def _member(org: Organization, role: str, phone: str, name: str) -> User:
    user = UserFactory(phone=phone, display_name=name, is_staff=(role == "admin"))
    MembershipFactory(user=user, organization=org, role=role)
    return user


def _build_world() -> SimpleNamespace:
    """Organisation A (Alice, Agnes) and organisation B (Oscar), each with one of everything:
    the same people as the shared fixtures of ``shouhou/conftest.py``."""
    org_a = OrganizationFactory(name="甲品牌", code="org-a", kind="brand")
    org_b = OrganizationFactory(name="乙服务商", code="org-b", kind="provider")
    alice = _member(org_a, "admin", "+8613900000001", "Alice")
    agent = _member(org_a, "agent", "+8613900000002", "Agnes")
    oscar = _member(org_b, "admin", "+8613900000009", "Oscar")
    return SimpleNamespace(
        a=_build_tenant(org_a, tag="甲", slug="a", admin_user=alice, n=1),
        b=_build_tenant(org_b, tag="乙", slug="b", admin_user=oscar, n=2),
        agent=agent,
    )


@pytest.fixture(scope="module")
def _shared_world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimpleNamespace]:
    """The world, built once for the whole module inside a transaction that is rolled back at
    its end; every test runs in a savepoint of it (pytest-django's ``db``), so what a test
    writes is undone after it, as with Django's ``TestCase.setUpTestData``. The objects are
    shared: tests read them and reload rows from the database, they never change them."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    media.enable()  # uploads and signatures go to a temporary folder, never to var/media
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            shared = _build_world()
        yield shared
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
        media.disable()


@pytest.fixture
def world(db: None, _shared_world: SimpleNamespace) -> SimpleNamespace:
    return _shared_world


# The personas of shouhou/conftest.py, as they are in the shared world.
@pytest.fixture
def org_a(world: SimpleNamespace) -> Organization:
    return world.a.org


@pytest.fixture
def org_b(world: SimpleNamespace) -> Organization:
    return world.b.org


@pytest.fixture
def alice(world: SimpleNamespace) -> User:
    return world.a.admin_user


@pytest.fixture
def agent(world: SimpleNamespace) -> User:
    return world.agent


@pytest.fixture
def other_org_user(world: SimpleNamespace) -> User:
    return world.b.admin_user


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
    ("/console/work-orders/", lambda t: [t.work_order.number, t.customer.name]),
    ("/console/work-orders/?status=completed", lambda t: [t.work_order.number]),
    ("/console/work-orders/follow-ups/", lambda t: [t.work_order.number]),
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
    ("work order", lambda t: f"/api/v1/work-orders/{t.work_order.number}/"),
    ("work order events", lambda t: f"/api/v1/work-orders/{t.work_order.number}/events/"),
    (
        "work order attachments",
        lambda t: f"/api/v1/work-orders/{t.work_order.number}/attachments/",
    ),
    ("work order SLA clocks", lambda t: f"/api/v1/work-orders/{t.work_order.number}/sla/"),
    ("SLA policy", lambda t: f"/api/v1/sla-policies/{t.sla_policy.pk}/"),
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
    ("SLA policies", "/api/v1/sla-policies/", lambda t: t.sla_policy.pk),
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
    ("orders by organization", lambda t: f"/api/v1/work-orders/?organization={t.org.pk}", 400),
    ("orders by outlet", lambda t: f"/api/v1/work-orders/?outlet={t.outlet.pk}", 400),
    ("orders by technician", lambda t: f"/api/v1/work-orders/?technician={t.technician.pk}", 400),
    ("orders by fault type", lambda t: f"/api/v1/work-orders/?fault_type={t.fault_type.pk}", 400),
    (
        "orders by service type",
        lambda t: f"/api/v1/work-orders/?service_type={t.service_type.pk}",
        400,
    ),
    ("orders by search", lambda t: f"/api/v1/work-orders/?search={t.work_order.number}", 200),
]


def _ids(response: Any) -> list[int]:
    return sorted(row["id"] for row in response.json()["results"])


class _Missing:
    """Stands in for a tenant whose every object has an id nobody has."""

    def __getattr__(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(
            pk=987654321,
            code="no-such-code",
            name="没有这个名字",
            number="WX0000000000",
            token="no-such-token-0000000000",
            tracking_token="no-such-tracking-token-0000",
        )


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
    # then the API refuses with 401 and says which scheme it expects
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "身份认证信息未提供。"}


# Reads only: the estimate is a computed answer, and POSTing to an order's attachments is an
# upload (in ORDER_CASES with the other actions on a work order). SLA policies are writable by
# their admins: their writes on B's policy answer 404 (sla/tests/test_api.py).
API_WRITE_CASES = [
    case
    for case in API_DETAIL_CASES
    if case[0] not in {"fault type estimate", "work order attachments", "SLA policy"}
]


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
        "work order": tenant.work_order,
        "work order events": tenant.work_order,
        "work order SLA clocks": tenant.work_order,
    }[name]


def test_api_token_of_member_of_a_sees_only_a(world, alice):
    # given Alice calling with a token instead of a session
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=alice)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    # then the scope is the same
    assert client.get(f"/api/v1/outlets/{world.b.outlet.pk}/").status_code == 404
    assert _ids(client.get("/api/v1/outlets/")) == [world.a.outlet.pk]


# --- work orders: console, technician, customer and API -----------------------------------------

# Who asks, always a person of A: staff in the console, A's technician on the workbench, A's
# customer (signed in) in 我的服务.
PERSONAS: dict[str, Callable[[SimpleNamespace], User]] = {
    "alice": lambda w: w.a.admin_user,
    "agent": lambda w: w.agent,
    "technician": lambda w: w.a.technician.user,
    "customer": lambda w: w.a.customer_user,
}
STAFF = ("alice", "agent")
EVERYONE = ("agent", "technician", "customer")


@dataclass(frozen=True)
class OrderCase:
    """One URL of a work order, asked by each of ``personas``.

    ``url(target, caller)`` names the target tenant's order or file; ``caller`` is the asking
    person's tenant, for URLs that mix both (B's photo under A's order, B's file with A's
    tracking link). ``method``: "get", "post" (a form) or "api" (a JSON POST).
    """

    name: str
    personas: tuple[str, ...]
    url: Callable[[Tenant, Tenant], str]
    method: str = "get"


def _in_console(order_of: Tenant) -> str:
    return f"/console/work-orders/{order_of.work_order.number}/"


def _on_bench(order_of: Tenant) -> str:
    return f"/tech/jobs/{order_of.work_order.number}/"


def _in_my_orders(order_of: Tenant) -> str:
    return f"/my/orders/{order_of.work_order.number}/"


def _in_api(order_of: Tenant) -> str:
    return f"/api/v1/work-orders/{order_of.work_order.number}/"


def _under(base: Callable[[Tenant], str], tail: str = "") -> Callable[[Tenant, Tenant], str]:
    """``tail`` under the target's order (the page itself, one of its actions)."""
    return lambda t, me: base(t) + tail


# Every POST of the API on one order (the verbs of the viewset: new ones join by themselves).
API_ORDER_ACTIONS = sorted(
    extra.url_path
    for extra in WorkOrderViewSet.get_extra_actions()
    if extra.detail and "post" in extra.mapping
)

TECHNICIAN, CUSTOMER = ("technician",), ("customer",)
ORDER_CASES: list[OrderCase] = [
    # the console (staff of A; the active organisation is A)
    OrderCase("console order", STAFF, _under(_in_console)),
    OrderCase(
        "console fault photo",
        STAFF,
        lambda t, me: _in_console(t) + f"attachments/{t.attachment.token}/",
    ),
    OrderCase(
        "console thumbnail",
        STAFF,
        lambda t, me: _in_console(t) + f"attachments/{t.attachment.token}/?thumb=1",
    ),
    OrderCase(
        "console signature",
        STAFF,
        lambda t, me: _in_console(t) + f"attachments/{t.signature.token}/",
    ),
    OrderCase(
        "console B's photo under A's order",
        STAFF,
        lambda t, me: _in_console(me) + f"attachments/{t.attachment.token}/",
    ),
    *[
        OrderCase(f"console {action}", STAFF, _under(_in_console, f"{action}/"), "post")
        for action in console_views.ACTIONS
    ],
    OrderCase(
        "console follow-up resolve",
        STAFF,
        lambda t, me: f"/console/work-orders/follow-ups/{t.follow_up.pk}/resolve/",
        "post",
    ),
    # the technician's workbench (A's technician)
    OrderCase("tech job", TECHNICIAN, _under(_on_bench)),
    OrderCase(
        "tech fault photo",
        TECHNICIAN,
        lambda t, me: _on_bench(t) + f"attachments/{t.attachment.token}/",
    ),
    OrderCase(
        "tech thumbnail",
        TECHNICIAN,
        lambda t, me: _on_bench(t) + f"attachments/{t.attachment.token}/thumbnail/",
    ),
    OrderCase(
        "tech signature",
        TECHNICIAN,
        lambda t, me: _on_bench(t) + f"attachments/{t.signature.token}/",
    ),
    OrderCase(
        "tech B's photo under A's job",
        TECHNICIAN,
        lambda t, me: _on_bench(me) + f"attachments/{t.attachment.token}/",
    ),
    *[
        OrderCase(f"tech {action}", TECHNICIAN, _under(_on_bench, f"{action}/"), "post")
        for action in technician_views.ACTIONS
    ],
    # the customer's pages (A's customer, signed in)
    OrderCase("my order", CUSTOMER, _under(_in_my_orders)),
    OrderCase("my order live stream", CUSTOMER, _under(_in_my_orders, "stream/")),
    *[
        OrderCase(f"my order {action}", CUSTOMER, _under(_in_my_orders, f"{action}/"), "post")
        for action in customer_views._ACTIONS
    ],
    # files are served to whoever relates to the order, or holds its tracking link
    OrderCase("file", EVERYONE, lambda t, me: f"/attachments/{t.attachment.token}/"),
    OrderCase(
        "file thumbnail", EVERYONE, lambda t, me: f"/attachments/{t.attachment.token}/thumb/"
    ),
    OrderCase(
        "B's file with A's tracking link",
        EVERYONE,
        lambda t, me: f"/attachments/{t.attachment.token}/?t={me.work_order.tracking_token}",
    ),
    OrderCase(
        "report done page of B's order under A's code",
        CUSTOMER,
        lambda t, me: f"/report/{me.org.code}/done/{t.work_order.tracking_token}/",
    ),
    # the API (staff, technician and customer of A; the reads for staff are API_DETAIL_CASES)
    *[
        OrderCase(f"api {tail or 'detail'}", (*TECHNICIAN, *CUSTOMER), _under(_in_api, tail))
        for tail in ("", "events/", "attachments/")
    ],
    *[
        OrderCase(f"api {action}", EVERYONE, _under(_in_api, f"{action}/"), "api")
        for action in API_ORDER_ACTIONS
    ],
]


def _order_payload(me: Tenant) -> dict[str, Any]:
    """Whatever any action asks for, naming the caller's own rows only: a valid request for
    the caller's own order, a tampering one for B's."""
    return {
        "reason": "篡改",
        "text": "篡改",
        "note": "篡改",
        "resolution": "篡改",
        "diagnosis": "篡改",
        "work_done": "篡改",
        "comment": "篡改",
        "outlet": me.outlet.pk,
        "technician": me.technician.pk,
        "fault_type": me.fault_type.pk,
        "priority": "urgent",
        "start": "2030-01-07T09:00",
        "end": "2030-01-07T11:00",
        "date": "2030-01-07",
        "start_time": "09:00",
        "end_time": "11:00",
        "outcome": VisitOutcome.FIXED,
        "kind": AttachmentKind.AFTER_PHOTO,
        "attitude": 5,
        "professionalism": 5,
        "responsiveness": 5,
        "transparency": 5,
    }


def _ask(client: Client, case: OrderCase, target: Any, me: Tenant) -> Any:
    url = case.url(target, me)
    if case.method == "post":
        return client.post(url, _order_payload(me))
    if case.method == "api":
        return client.post(url, _order_payload(me), content_type="application/json")
    return client.get(url)


@pytest.mark.parametrize("case", ORDER_CASES, ids=[c.name for c in ORDER_CASES])
def test_work_order_urls_of_other_organisation_answer_404_and_change_nothing(world, case):
    for persona in case.personas:
        # given a person of A, and B's order with its visits, events, files and rating
        client = _login(PERSONAS[persona](world))
        before = _order_state(world.b)
        # when they open or post B's order (or file), then the same on their own
        other = _ask(client, case, world.b, world.a)
        own = _ask(client, case, world.a, world.a)
        # then B's answers 404 and nothing of B's order changed
        assert (persona, other.status_code) == (persona, 404)
        assert _order_state(world.b) == before
        if case.method == "api":
            missing = _ask(client, case, MISSING, world.a)
            assert (persona, other.json()) == (persona, missing.json())
        # and their own is not refused as missing: a page opens, an action is answered
        # (done, or refused for its state or their role, but never 404)
        if case.method == "get":
            assert (persona, own.status_code) == (persona, 200)
        else:
            assert (persona, own.status_code) != (persona, 404)


def _intake_counts() -> dict[str, int]:
    return {
        "orders": WorkOrder.objects.count(),
        "customers": Customer.objects.count(),
        "addresses": Address.objects.count(),
    }


def _console_intake(t: Tenant) -> dict[str, Any]:
    """A phone call taken in the console for A's customer, naming A's rows only."""
    return {
        "customer_name": t.customer.name,
        "phone": t.customer.phone,
        "existing_address": t.address.pk,
        "asset": t.asset.pk,
        "category": t.category.pk,
        "brand": t.brand.pk,
        "product_model": t.product_model.pk,
        "service_type": t.service_type.pk,
        "fault_type": t.fault_type.pk,
        "description": "空调漏水",
        "fulfilment_mode": FulfilmentMode.ON_SITE,
        "outlet": t.outlet.pk,
        "priority": "normal",
    }


# (a field of the intake, the fields with an error when it names B's row)
CONSOLE_INTAKE_TAMPER_CASES: list[tuple[str, set[str]]] = [
    ("category", {"category"}),
    ("brand", {"brand"}),
    ("product_model", {"product_model"}),
    ("service_type", {"service_type"}),
    ("fault_type", {"fault_type"}),
    ("outlet", {"outlet"}),
    # a known caller's address and device are checked to be theirs (one form-wide error; without
    # an address the on-site order then also lacks its street)
    ("existing_address", {"__all__", "street"}),
    ("asset", {"__all__"}),
]


def test_console_intake_with_own_rows_creates_the_order(world):
    # The control for the tampering cases below: the same call with A's rows is taken.
    client = _login(world.agent)
    before = _intake_counts()
    response = client.post("/console/work-orders/new/", _console_intake(world.a))
    assert response.status_code == 302, response.context["form"].errors
    assert _intake_counts() == before | {"orders": before["orders"] + 1}


@pytest.mark.parametrize(
    ("field_name", "errors"),
    CONSOLE_INTAKE_TAMPER_CASES,
    ids=[c[0] for c in CONSOLE_INTAKE_TAMPER_CASES],
)
def test_console_intake_naming_other_organisation_rows_is_refused(world, field_name, errors):
    # given Agnes taking a call, the form naming one of B's rows
    client = _login(world.agent)
    payload = _console_intake(world.a) | {field_name: _console_intake(world.b)[field_name]}
    before = _intake_counts()
    # when she saves it
    response = client.post("/console/work-orders/new/", payload)
    # then the form comes back with an error there, and nothing was written
    assert response.status_code == 400
    assert set(response.context["form"].errors) == errors
    assert _intake_counts() == before


# (a field of the API's intake, the row of a tenant it names)
API_INTAKE_TAMPER_CASES: list[tuple[str, Callable[[Any], int]]] = [
    ("organization", lambda t: t.org.pk),
    ("service_type", lambda t: t.service_type.pk),
    ("fault_type", lambda t: t.fault_type.pk),
    ("category", lambda t: t.category.pk),
    ("brand", lambda t: t.brand.pk),
    ("product_model", lambda t: t.product_model.pk),
    ("asset", lambda t: t.asset.pk),
    ("outlet", lambda t: t.outlet.pk),
]


@pytest.mark.parametrize(
    ("field_name", "row"), API_INTAKE_TAMPER_CASES, ids=[c[0] for c in API_INTAKE_TAMPER_CASES]
)
def test_api_intake_naming_other_organisation_rows_answers_like_missing_rows(
    world, field_name, row
):
    # given Agnes creating an order for A's customer through the API
    client = _login(world.agent)
    base = {
        "customer": {"name": world.a.customer.name, "phone": world.a.customer.phone},
        "service_type": world.a.service_type.pk,
        "description": "手机屏幕碎了",
        "fulfilment_mode": FulfilmentMode.CARRY_IN,
        "channel": Channel.PHONE,
    }
    before = _intake_counts()
    # when one field names B's row, then a row that does not exist
    other = client.post(
        "/api/v1/work-orders/", base | {field_name: row(world.b)}, content_type="application/json"
    )
    missing = client.post(
        "/api/v1/work-orders/", base | {field_name: row(MISSING)}, content_type="application/json"
    )
    # then both get the same refusal and nothing was written
    assert other.status_code in (400, 404)
    assert (other.status_code, other.json()) == (missing.status_code, missing.json())
    assert _intake_counts() == before
    # and the same order naming A's row is created
    own = client.post(
        "/api/v1/work-orders/", base | {field_name: row(world.a)}, content_type="application/json"
    )
    assert own.status_code == 201, own.json()


# (persona, url, the text of A that must be on the page)
PERSONA_LIST_CASES: list[tuple[str, str, Callable[[Tenant], list[str]]]] = [
    ("technician", "/tech/jobs/", lambda t: [t.work_order.number]),
    ("customer", "/my/orders/", lambda t: [t.work_order.number]),
]


@pytest.mark.parametrize(
    ("persona", "url", "own_texts"), PERSONA_LIST_CASES, ids=[c[1] for c in PERSONA_LIST_CASES]
)
def test_technician_and_customer_lists_show_nothing_of_other_organisation(
    world, persona, url, own_texts
):
    response = _login(PERSONAS[persona](world)).get(url)
    assert response.status_code == 200
    html = _html(response)
    assert [text for text in own_texts(world.a) if text not in html] == []
    assert [text for text in world.b.names if text in html] == []


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_api_work_order_list_shows_only_own_orders(world, persona):
    # given a person of A in any capacity: staff, technician or customer
    client = _login(PERSONAS[persona](world))
    # when they list work orders
    response = client.get("/api/v1/work-orders/")
    # then they get A's order alone
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [world.a.work_order.number]


def test_api_work_order_list_shows_only_b_to_oscar_and_nothing_to_a_stranger(world, customer):
    numbers = [
        [row["number"] for row in _login(user).get("/api/v1/work-orders/").json()["results"]]
        for user in (world.b.admin_user, customer)
    ]
    assert numbers == [[world.b.work_order.number], []]


def test_tracking_link_of_other_organisation_reads_but_does_not_act(world):
    # The link is the secret: whoever holds it may read the order (that is what it is for);
    # acting on it needs the order's customer. Given A's customer holding B's link
    client = _login(world.a.customer_user)
    token = world.b.work_order.tracking_token
    before = _order_state(world.b)
    # when they open it, and post every customer action to it
    page = client.get(f"/t/{token}/")
    answers = {
        action: client.post(f"/t/{token}/{action}/", _order_payload(world.a)).status_code
        for action in customer_views._ACTIONS
    }
    # then the page shows the order as its customer sees it (no staff-only note), every
    # action is refused until the order's phone confirms it, and nothing changed
    assert page.status_code == 200
    assert world.b.note.reason not in _html(page)
    assert answers == dict.fromkeys(customer_views._ACTIONS, 403)
    assert _order_state(world.b) == before
    # while their own link lets them act (here: refused for the order's state, not for them)
    own = client.post(f"/t/{world.a.work_order.tracking_token}/urge/")
    assert own.status_code == 409


# The public report form of A (报修, /report/<A's code>/) asked about B's catalog rows answers
# exactly as about rows that do not exist. (name, url(target, caller), A's text on A's answer)
REPORT_CASES: list[tuple[str, Callable[[Any, Tenant], str], Callable[[Tenant], list[str]]]] = [
    (
        "estimate",
        lambda t, me: (
            f"/report/{me.org.code}/estimate/"
            f"?fault_type={t.fault_type.pk}&product_model={t.product_model.pk}"
        ),
        lambda t: ["¥80"],
    ),
    (
        "models of a category and brand",
        lambda t, me: (
            f"/report/{me.org.code}/choices/"
            f"?part=models&category={t.category.pk}&brand={t.brand.pk}"
        ),
        lambda t: [t.product_model.name],
    ),
    (
        "faults of a model",
        lambda t, me: (
            f"/report/{me.org.code}/choices/"
            f"?part=faults&category={t.category.pk}&product_model={t.product_model.pk}"
        ),
        lambda t: [t.fault_type.name],
    ),
    ("report form", lambda t, me: f"/report/{me.org.code}/", lambda t: [t.service_type.name]),
]


@pytest.mark.parametrize(
    ("name", "url", "own_texts"), REPORT_CASES, ids=[c[0] for c in REPORT_CASES]
)
def test_report_form_naming_other_organisation_rows_answers_like_missing_rows(
    world, client, name, url, own_texts
):
    # given a visitor on A's report form, asking about B's rows, missing rows and A's rows
    other = client.get(url(world.b, world.a))
    missing = client.get(url(MISSING, world.a))
    own = client.get(url(world.a, world.a))
    # then B's rows are treated as missing rows, and A's are shown
    assert (other.status_code, missing.status_code, own.status_code) == (200, 200, 200)
    if name != "report form":  # (the form itself carries a fresh key and CSRF token)
        assert other.content == missing.content
    assert [text for text in world.b.names if text in _html(other)] == []
    assert [text for text in own_texts(world.a) if text not in _html(own)] == []


# --- an order of A's network served by a partner ---------------------------------------------


@pytest.fixture
def served(world) -> SimpleNamespace:
    """Partner P in A's network (``parent`` = A) with an outlet, an agent and an admin; an order
    of A given to P's outlet, so P serves it (``service_organization``)."""
    partner = OrganizationFactory(
        name="丙维修站", code="org-p", kind="provider", parent=world.a.org
    )
    outlet = OutletFactory(organization=partner, name="丙网点", code="p-outlet")
    order = services.workorder_create(
        organization=world.a.org,
        customer=world.a.customer,
        service_type=world.a.service_type,
        description="丙代修:洗衣机漏水",
        channel=Channel.PHONE,
        fulfilment_mode=FulfilmentMode.ON_SITE,
        address=world.a.address,
        outlet=outlet,
        actor=Actor(user=world.a.admin_user, role="agent"),
        notify_customer=False,
    ).work_order
    assert order.service_organization_id == partner.pk
    return SimpleNamespace(
        org=partner,
        outlet=outlet,
        agent=_member(partner, "agent", "+8613900000031", "Pat"),
        admin_user=_member(partner, "admin", "+8613900000032", "Paula"),
        order=order,
    )


def test_partner_sees_the_order_it_serves(world, served):
    number = served.order.number
    # given P's agent
    client = _login(served.agent)
    # when they open their queue, the order and its timeline in the console and the API
    queue = client.get("/console/work-orders/")
    detail = client.get(f"/console/work-orders/{number}/")
    api = client.get("/api/v1/work-orders/")
    api_detail = client.get(f"/api/v1/work-orders/{number}/")
    api_events = client.get(f"/api/v1/work-orders/{number}/events/")
    # then they see the served order, and no other order of A or B
    assert (queue.status_code, detail.status_code, api_detail.status_code) == (200, 200, 200)
    assert [order.number for order, *_ in queue.context["rows"]] == [number]
    html = _html(queue)
    assert world.a.work_order.number not in html
    assert [text for text in world.b.names if text in html] == []
    assert [row["number"] for row in api.json()["results"]] == [number]
    assert api_events.status_code == 200
    assert len(api_events.json()) == served.order.events.count()
    # and the owner, A, still sees it
    assert _login(world.a.admin_user).get(f"/console/work-orders/{number}/").status_code == 200


def test_partner_admin_sees_the_served_order_in_the_admin(world, served):
    client = _login(served.admin_user)
    orders = client.get(_admin_url("workorders.workorder", "changelist"))
    events = client.get(_admin_url("workorders.workorderevent", "changelist"))
    change = client.get(_admin_url("workorders.workorder", "change", served.order.pk))
    assert [order.pk for order in orders.context["cl"].result_list] == [served.order.pk]
    assert sorted(event.pk for event in events.context["cl"].result_list) == sorted(
        served.order.events.values_list("pk", flat=True)
    )
    assert change.status_code == 200
    # but not A's own order nor its follow-up: P serves one order, not A's network
    own_order = _admin_url("workorders.workorder", "change", world.a.work_order.pk)
    own_follow_up = _admin_url("feedback.followup", "change", world.a.follow_up.pk)
    assert (client.get(own_order).status_code, client.get(own_follow_up).status_code) == (404, 404)


def _served_urls(order: WorkOrder) -> list[tuple[str, str]]:
    number = order.number
    event = order.events.first()
    assert event is not None
    return [
        ("get", f"/console/work-orders/{number}/"),
        ("post", f"/console/work-orders/{number}/note/"),
        ("get", f"/api/v1/work-orders/{number}/"),
        ("get", f"/api/v1/work-orders/{number}/events/"),
        ("api", f"/api/v1/work-orders/{number}/notes/"),
        ("get", _admin_url("workorders.workorder", "change", order.pk)),
        ("get", _admin_url("workorders.workorderevent", "change", event.pk)),
    ]


def _send(client: Client, method: str, url: str) -> Any:
    if method == "api":
        return client.post(url, {"text": "篡改"}, content_type="application/json")
    if method == "post":
        return client.post(url, {"text": "篡改"})
    return client.get(url)


def test_third_organisation_gets_404_on_a_served_order(world, served):
    # given Oscar of B, neither owner nor server of the order
    client = _login(world.b.admin_user)
    before = _snapshot(served.order), served.order.events.count()
    # when he opens or posts it anywhere
    answers = [
        (url, _send(client, method, url).status_code) for method, url in _served_urls(served.order)
    ]
    # then everything answers 404 and nothing changed
    assert answers == [(url, 404) for _method, url in _served_urls(served.order)]
    assert (_snapshot(served.order), served.order.events.count()) == before


def test_partner_gets_404_on_the_owner_s_other_orders(world, served):
    # P serves one order of A's network; A's other orders stay A's alone. Given P's admin
    # and P's agent (who has no admin: there they are sent to the sign-in page)
    before = _order_state(world.a)
    for user, admin_too in ((served.admin_user, True), (served.agent, False)):
        client = _login(user)
        urls, served_urls = (
            [
                (method, url)
                for method, url in _served_urls(order)
                if admin_too or "/admin/" not in url
            ]
            for order in (world.a.work_order, served.order)
        )
        # when they open or post A's own order, then the order they serve
        answers = [(url, _send(client, method, url).status_code) for method, url in urls]
        served_answers = [
            (url, _send(client, method, url).status_code) for method, url in served_urls
        ]
        # then A's answers 404 everywhere, the served one nowhere
        assert answers == [(url, 404) for _method, url in urls]
        assert [url for url, status in served_answers if status == 404] == []
    assert _order_state(world.a) == before


# --- dispatch: the technician's offers and the job pool ------------------------------------------

DISPATCH_CASES: list[tuple[str, UrlFactory]] = [
    ("offer accept page", lambda t: f"/tech/offers/{t.offer.pk}/accept/"),
    ("offer decline page", lambda t: f"/tech/offers/{t.offer.pk}/decline/"),
    ("pool grab page", lambda t: f"/tech/pool/{t.pool_entry.pk}/grab/"),
    ("offer accept API", lambda t: f"/api/v1/offers/{t.offer.pk}/accept/"),
    ("offer decline API", lambda t: f"/api/v1/offers/{t.offer.pk}/decline/"),
    ("pool grab API", lambda t: f"/api/v1/pool/{t.pool_entry.pk}/grab/"),
]


@pytest.mark.parametrize(("name", "url"), DISPATCH_CASES, ids=[c[0] for c in DISPATCH_CASES])
def test_offer_and_pool_urls_of_other_organisation_answer_404_and_change_nothing(world, name, url):
    # given A's technician and B's offer and pool entry
    client = _login(world.a.technician.user)
    before = [_snapshot(world.b.offer), _snapshot(world.b.pool_entry)]
    # when he answers B's / then 404, and nothing of B changed
    assert client.post(url(world.b)).status_code == 404
    assert [_snapshot(world.b.offer), _snapshot(world.b.pool_entry)] == before
    # while his own (closed) offer or pool entry is found and refused for being closed
    assert client.post(url(world.a)).status_code in (302, 409)


# --- webhooks (organisation administrators only; other roles get 403 on their own too) ----------

WEBHOOK_CASES: list[tuple[str, UrlFactory]] = [
    ("endpoint page", lambda t: f"/console/webhooks/{t.webhook_endpoint.pk}/"),
    ("endpoint edit page", lambda t: f"/console/webhooks/{t.webhook_endpoint.pk}/edit/"),
    ("endpoint delete page", lambda t: f"/console/webhooks/{t.webhook_endpoint.pk}/delete/"),
    ("delivery page", lambda t: f"/console/webhooks/deliveries/{t.webhook_delivery.pk}/"),
    ("endpoint API", lambda t: f"/api/v1/webhooks/endpoints/{t.webhook_endpoint.pk}/"),
    ("delivery API", lambda t: f"/api/v1/webhooks/deliveries/{t.webhook_delivery.pk}/"),
]


@pytest.mark.parametrize(("name", "url"), WEBHOOK_CASES, ids=[c[0] for c in WEBHOOK_CASES])
def test_webhook_urls_of_other_organisation_answer_404(world, name, url):
    client = _login(world.a.admin_user)
    assert client.get(url(world.b)).status_code == 404
    assert client.get(url(MISSING)).status_code == 404
    assert client.get(url(world.a)).status_code == 200


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
    "dispatch.dispatchpolicy": "dispatch_policy",
    "dispatch.routeplan": "route_plan",
    "dispatch.dispatchmodeoverride": "dispatch_mode_override",
    "dispatch.dispatchattempt": "dispatch_attempt",
    "dispatch.outletslot": "outlet_slot",
    "dispatch.slotbooking": "slot_booking",
    "workorders.workorder": "work_order",
    "workorders.workorderevent": "event",
    "feedback.rating": "rating",
    "feedback.followup": "follow_up",
    "webhooks.webhookendpoint": "webhook_endpoint",
    "webhooks.webhookdelivery": "webhook_delivery",
    "notifications.message": "message",
    "notifications.notificationtemplate": "notification_template",
    "sla.slapolicy": "sla_policy",
    "sla.slaclock": "sla_clock",
    "notifications.pushsubscription": "push_subscription",
}
# Rows that go with the admin objects above (inlines): they must not change either.
INLINE_OBJECTS: dict[str, list[str]] = {
    "accounts.outlet": ["opening_hours"],
    "catalog.faulttype": ["fault_line"],
    "customers.customer": ["address", "asset"],
    "dispatch.technician": ["technician_skill", "shift", "day_off"],
    "dispatch.routeplan": ["route_stop"],
    "workorders.workorder": ["visit", "attachment", "signature"],
}
# Admins for looking only: every change of an order is a service call that records an event, so
# nobody (A's admin included) adds, changes or deletes orders or events in the admin. Their
# change page opens read-only; their delete page and any POST answer 403.
READ_ONLY_ADMINS = frozenset(
    {
        "workorders.workorder",
        "workorders.workorderevent",
        "dispatch.routeplan",
        "dispatch.dispatchattempt",
        "webhooks.webhookdelivery",
        "dispatch.slotbooking",
        "notifications.message",
        "sla.slaclock",
        "notifications.pushsubscription",
    }
)
# Admins whose rows are never deleted by hand: a slot's bay counter must match its bookings.
NO_DELETE_ADMINS = frozenset({"dispatch.outletslot"})
# Admins of rows that belong to an organisation through their outlet.
VIA_OUTLET = frozenset({"dispatch.outletslot", "dispatch.slotbooking"})
# Admins without an add form, and why (they are not in ADD_FORMS / ADD_TAMPER_CASES).
NO_ADD_FORM: dict[str, str] = {
    "accounts.organization": "a platform task",
    "workorders.workorder": "read-only: orders are made by the services (console, API, 报修)",
    "workorders.workorderevent": "read-only: events are written by the services",
    "dispatch.dispatchattempt": "read-only: attempts are written by the dispatch services",
    "feedback.rating": "only the customer rates, through rating_submit",
    "dispatch.routeplan": "read-only: plans are built by the solver (route_plan_build)",
    "webhooks.webhookdelivery": "made from events by the webhooks consumer; replayed by an action",
    "dispatch.dispatchpolicy": "one per organisation: offered only while one of the admin's "
    "organisations has none (each tenant here has its policy; the change page edits it)",
    "dispatch.outletslot": "counters appear with the first booking (slot_book)",
    "dispatch.slotbooking": "read-only: bays are booked through the booking services",
    "notifications.message": "read-only: made from events by the notifications consumer",
    "sla.slaclock": "read-only: clocks follow the work order (sla.services)",
    "notifications.pushsubscription": "read-only: each person subscribes their own browser",
}
# Admins scoped to orders the organisation owns OR serves (lookup prefix to the order).
OWNED_OR_SERVED: dict[str, str] = {
    "workorders.workorder": "",
    "workorders.workorderevent": "work_order__",
    "sla.slaclock": "work_order__",
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
    before = [_snapshot(row) for row in related], _order_state(world.b)
    url = _admin_url(label, page, obj.pk)
    # when she opens or posts B's change, delete or history page
    response = client.get(url) if method == "get" else client.post(url, _tamper_payload())
    # then it answers 404 and B's rows (and B's work order) are still there, unchanged
    assert response.status_code == 404
    assert ([_snapshot(row) for row in related], _order_state(world.b)) == before


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
    # then it opens; deleting her own organisation is a platform task, and orders and their
    # events are for looking only (their change page opens read-only)
    refused = (label, page) == ("accounts.organization", "delete") or (
        label in READ_ONLY_ADMINS | NO_DELETE_ADMINS and page == "delete"
    )
    assert response.status_code == (403 if refused else 200)
    # and nothing of B is on it (no choice of a select, no inline row, no history entry)
    html = _html(response)
    assert [text for text in world.b.names if text in html] == []
    if label in READ_ONLY_ADMINS and page == "change":
        assert response.context["has_change_permission"] is False
        assert 'name="_save"' not in html


@pytest.mark.parametrize("label", sorted(READ_ONLY_ADMINS))
def test_read_only_admins_refuse_every_write_on_own_objects(world, label):
    # given Alice and A's own order (or event)
    client = _login(world.a.admin_user)
    obj = getattr(world.a, ADMIN_OBJECTS[label])
    before = _order_state(world.a), _snapshot(obj)
    # when she posts its change page, confirms its deletion or opens the add form
    change = client.post(_admin_url(label, "change", obj.pk), _tamper_payload())
    delete = client.post(_admin_url(label, "delete", obj.pk), {"post": "yes"})
    add = client.get(_admin_url(label, "add"))
    # then every one is refused and nothing changed
    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert (_order_state(world.a), _snapshot(obj)) == before


# Admins whose rows reach their organisation through a relation (lookup prefix).
TENANT_PREFIX: dict[str, str] = {
    "webhooks.webhookdelivery": "endpoint__",
    "notifications.pushsubscription": "user__memberships__",  # a member's browsers
}


def _own_pks(tenant: Tenant, label: str) -> list[int]:
    model_class = apps.get_model(label)
    if label == "accounts.organization":
        return [tenant.org.pk]
    if label in OWNED_OR_SERVED:
        prefix = OWNED_OR_SERVED[label]
        scope = Q(**{f"{prefix}organization": tenant.org}) | Q(
            **{f"{prefix}service_organization": tenant.org}
        )
    elif label in VIA_OUTLET:
        scope = Q(outlet__organization=tenant.org)
    else:
        scope = Q(**{f"{TENANT_PREFIX.get(label, '')}organization": tenant.org})
    return sorted(model_class._default_manager.filter(scope).values_list("pk", flat=True))


def _tenant_filters(label: str, tenant: Tenant) -> list[dict[str, int]]:
    """Changelist query parameters that pick the tenant's rows (events: by the tenant's
    order, as the admin refuses lookups that span two relations)."""
    if label == "accounts.organization":
        return [{"id__exact": tenant.org.pk}]
    if label == "workorders.workorder":
        return [
            {"organization__id__exact": tenant.org.pk},
            {"service_organization__id__exact": tenant.org.pk},
        ]
    if label == "workorders.workorderevent":
        return [{"work_order__id__exact": tenant.work_order.pk}]
    if label == "webhooks.webhookdelivery":
        return [{"endpoint__id__exact": tenant.webhook_endpoint.pk}]
    if label == "sla.slaclock":
        return [{"work_order__id__exact": tenant.work_order.pk}]
    if label == "notifications.pushsubscription":
        return [{"user__id__exact": tenant.technician.user.pk}]
    if label in VIA_OUTLET:
        return [{"outlet__id__exact": tenant.outlet.pk}]
    return [{"organization__id__exact": tenant.org.pk}]


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
    for query in _tenant_filters(label, world.b):
        response = client.get(_admin_url(label, "changelist"), query)
        assert (query, response.status_code) == (query, 200)
        assert (query, list(response.context["cl"].result_list)) == (query, [])
    # while the same filter naming A keeps A's rows
    own = client.get(_admin_url(label, "changelist"), _tenant_filters(label, world.a)[0])
    assert sorted(obj.pk for obj in own.context["cl"].result_list) == _own_pks(world.a, label)


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


# A valid add-form payload for each tenant admin, pointing at A's objects only. The admins in
# NO_ADD_FORM have none (read-only work orders and events, ratings, organisations): their add
# page answers 403, so they have no add form here and no ADD_TAMPER_CASES.
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
        **_management("shifts"),
        **_management("days_off"),
    },
    "dispatch.dispatchmodeoverride": lambda t: {
        "organization": t.org.pk,
        # the tenant's one service type has its override already (one per service type)
        "service_type": ServiceTypeFactory(organization=t.org, kind="install").pk,
        "mode": "offer",
    },
    "feedback.followup": lambda t: {
        "organization": t.org.pk,
        "work_order": t.work_order.pk,
        "rating": "",  # the rating's own follow-up exists already (one per rating)
        "reason": "客户来电投诉",
        "status": "open",
        "assignee": t.admin_user.pk,
        "resolution": "",
        "resolved_at_0": "",
        "resolved_at_1": "",
    },
}

ADD_FORMS["webhooks.webhookendpoint"] = lambda t: {
    "organization": t.org.pk,
    "url": "https://hooks.example.com/new",
    "description": "ERP",
    "event_types": '["status_changed"]',
    "is_active": "on",
}

ADD_FORMS["notifications.notificationtemplate"] = lambda t: {
    "organization": t.org.pk,
    "kind": "completed",
    "audience": "customer",
    "channel": "sms",
    "language": "en",
    "subject": "",
    "body": "{{ number }} is done",
}

ADD_FORMS["sla.slapolicy"] = lambda t: {
    "organization": t.org.pk,
    "name": "加急",
    "service_type": "",
    "priority": "urgent",  # the tenant's default policy (any priority) exists already
    "response_minutes": "30",
    "arrival_minutes": "240",
    "resolution_minutes": "1440",
    "warn_at_percent": "80",
    "is_active": "on",
}

ADD_MODELS: dict[str, type[models.Model]] = {
    "sla.slapolicy": SlaPolicy,
    "notifications.notificationtemplate": NotificationTemplate,
    "webhooks.webhookendpoint": WebhookEndpoint,
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
    "dispatch.dispatchmodeoverride": DispatchModeOverride,
    "feedback.followup": FollowUp,
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
        "mode override in B", "dispatch.dispatchmodeoverride", lambda b: {"organization": b.org.pk}
    ),
    AddTamper(
        "mode override for B's service type",
        "dispatch.dispatchmodeoverride",
        lambda b: {"service_type": b.service_type.pk},
    ),
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
    AddTamper("follow-up in B", "feedback.followup", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "follow-up of B's order", "feedback.followup", lambda b: {"work_order": b.work_order.pk}
    ),
    AddTamper("follow-up of B's rating", "feedback.followup", lambda b: {"rating": b.rating.pk}),
    AddTamper(
        "follow-up for B's admin", "feedback.followup", lambda b: {"assignee": b.admin_user.pk}
    ),
    AddTamper(
        "webhook endpoint in B", "webhooks.webhookendpoint", lambda b: {"organization": b.org.pk}
    ),
    AddTamper(
        "notification template in B",
        "notifications.notificationtemplate",
        lambda b: {"organization": b.org.pk},
    ),
    AddTamper(
        "follow-up for B's technician",
        "feedback.followup",
        lambda b: {"assignee": b.technician.user.pk},
    ),
]
ADD_TAMPER_CASES += [
    AddTamper("SLA policy in B", "sla.slapolicy", lambda b: {"organization": b.org.pk}),
    AddTamper(
        "SLA policy for B's service type",
        "sla.slapolicy",
        lambda b: {"service_type": b.service_type.pk},
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


def test_every_tenant_admin_has_an_add_form_or_a_reason_not_to():
    assert set(ADD_FORMS) == set(ADMIN_OBJECTS) - set(NO_ADD_FORM)
    assert {case.label for case in ADD_TAMPER_CASES} == set(ADD_FORMS)


@pytest.mark.parametrize("label", sorted(NO_ADD_FORM))
def test_admin_add_page_without_add_form_is_refused(world, label):
    client = _login(world.a.admin_user)
    model = apps.get_model(label)
    before = model._default_manager.count()
    assert client.get(_admin_url(label, "add")).status_code == 403
    assert client.post(_admin_url(label, "add"), _tamper_payload()).status_code == 403
    assert model._default_manager.count() == before


@pytest.mark.parametrize("label", sorted(ADD_FORMS))
def test_admin_add_page_offers_nothing_of_other_organisation(world, label):
    # given Alice on an add form: every select, inline and autocomplete choice on it
    client = _login(world.a.admin_user)
    response = client.get(_admin_url(label, "add"))
    # then it shows none of B's names
    assert response.status_code == 200
    html = _html(response)
    assert [text for text in world.b.names if text in html] == []


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
