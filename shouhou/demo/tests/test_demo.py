"""The demo data: the shapes the issue asks for, idempotent, deterministic, and every login."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from shouhou.accounts.models import Membership, Organization, Outlet, User
from shouhou.catalog.models import FaultType, PriceListItem, SkillTag
from shouhou.catalog.selectors import fault_type_estimate
from shouhou.core.sms import FakeSmsBackend
from shouhou.customers.models import Asset, Customer, add_months
from shouhou.demo.build import (
    PRICES_VALID_FROM,
    VERTICALS,
    build_demo,
    demo_logins,
    order_window,
)
from shouhou.dispatch.models import Shift, Technician, TechnicianSkill
from shouhou.dispatch.selectors import technician_suggestions
from shouhou.feedback.models import FollowUp, Rating
from shouhou.workorders.choices import TRANSITIONS
from shouhou.workorders.models import (
    Attachment,
    Visit,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderNumberSequence,
)
from shouhou.workorders.selectors import (
    workorder_list_for_customer,
    workorder_list_for_staff,
    workorder_list_for_technician,
)
from shouhou.workorders.views.technician import technician_job_groups

APPLIANCE_ORGS = ("qingfeng", "anjia", "suxiu")
MERCHANTS = (
    "kxyc-jinjiang",
    "kxyc-qingyang",
    "kxyc-jinniu",
    "kxyc-wuhou",
    "kxyc-chenghua",
    "kxyc-gaoxin",
    "kxyc-longquanyi",
    "kxyc-shuangliu",
    "kxyc-pidu",
    "kxyc-wenjiang",
    "kxyc-xindu",
)
CUSTOMER_PHONE = "+8613800000007"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # completing an on-site visit stores the customer's signature
    settings.MEDIA_ROOT = tmp_path / "media"


def _snapshot() -> dict[str, tuple[int, str | None]]:
    """Row count and latest ``updated_at`` of every table."""
    snapshot = {}
    for model in apps.get_models():
        rows = model._default_manager.all()
        latest = None
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            latest = rows.aggregate(latest=Max("updated_at"))["latest"]
        snapshot[model._meta.label] = (rows.count(), latest.isoformat() if latest else None)
    return snapshot


def _timelines() -> list[tuple[str, tuple[tuple[str, str, str], ...]]]:
    """(order key, its events in order as (type, actor's phone, to status))."""
    timelines: dict[str, list[tuple[str, str, str]]] = {}
    events = WorkOrderEvent.objects.order_by("created_at", "pk").values_list(
        "work_order__organization__code",
        "work_order__idempotency_key",
        "type",
        "actor__phone",
        "to_status",
    )
    for organization, key, kind, actor, to_status in events:
        timelines.setdefault(f"{organization}/{key}", []).append((kind, actor or "", to_status))
    return [(key, tuple(rows)) for key, rows in timelines.items()]


def _digest() -> str:
    """A fingerprint of the generated data that does not depend on primary keys."""
    data = {
        "customers": Customer.objects.values_list(
            "organization__code", "name", "phone", "user__phone"
        ),
        "addresses": Customer.objects.values_list(
            "phone",
            "addresses__label",
            "addresses__district",
            "addresses__address",
            "addresses__latitude",
            "addresses__longitude",
        ),
        "assets": Asset.objects.values_list(
            "customer__organization__code",
            "customer__phone",
            "product_model__code",
            "nickname",
            "imei",
            "vin",
            "plate_number",
            "serial_number",
            "purchased_on",
            "warranty_until",
        ),
        "technicians": Technician.objects.values_list(
            "organization__code",
            "user__phone",
            "user__display_name",
            "home_latitude",
            "home_longitude",
            "outlet__code",
        ),
        "duty": Technician.objects.values_list("user__phone", "status"),
        "shifts": Shift.objects.values_list(
            "technician__organization__code",
            "technician__user__phone",
            "weekday",
            "starts_at",
            "ends_at",
        ),
        "skills": TechnicianSkill.objects.values_list(
            "technician__user__phone", "skill__organization__code", "skill__code", "level"
        ),
        "outlets": Outlet.objects.values_list(
            "organization__code", "code", "latitude", "longitude", "phone"
        ),
        "prices": PriceListItem.objects.values_list(
            "organization__code", "code", "product_model__code", "unit_price"
        ),
        # numbers and tracking tokens depend on the day and chance; the key identifies the order
        "work_orders": WorkOrder.objects.values_list(
            "organization__code",
            "idempotency_key",
            "status",
            "customer__phone",
            "asset__imei",
            "asset__vin",
            "asset__serial_number",
            "fault_type__code",
            "channel",
            "priority",
            "fulfilment_mode",
            "outlet__code",
            "service_organization__code",
            "technician__user__phone",
            "description",
            "hold_reason",
            "cancellation_reason",
            "urge_count",
            "estimate_low",
            "estimate_high",
        ),
        "timelines": _timelines(),
        "ratings": Rating.objects.values_list(
            "work_order__idempotency_key", "average", "comment", "technician__user__phone"
        ),
    }
    stable = {key: sorted(map(str, rows)) for key, rows in data.items()}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


@pytest.mark.django_db
def test_phone_repair_has_a_brand_with_outlets_and_priced_faults():
    # when
    build_demo(verticals=VERTICALS)
    # then
    brand = Organization.objects.get(code="xingchen")
    assert brand.kind == "brand"
    assert Outlet.objects.filter(organization=brand, city="深圳市").count() == 7
    assert Technician.objects.filter(organization=brand).count() == 7
    assert Technician.objects.filter(organization=brand, outlet__isnull=True).count() == 0
    for name in ("屏幕碎裂", "电池鼓包", "无法开机"):
        fault = FaultType.objects.get(organization=brand, name=name)
        estimate = fault_type_estimate(fault_type=fault, on=PRICES_VALID_FROM)
        assert estimate.missing_codes == ()
        assert estimate.low > 0
    assert FaultType.objects.filter(organization=brand).count() == 9
    for fault in FaultType.objects.filter(organization=brand):
        assert fault_type_estimate(fault_type=fault, on=PRICES_VALID_FROM).missing_codes == ()
    # and: the screen of a foldable costs more than the generic screen
    fault = FaultType.objects.get(organization=brand, name="屏幕碎裂")
    generic = fault_type_estimate(fault_type=fault, on=PRICES_VALID_FROM)
    fold_model = PriceListItem.objects.get(
        organization=brand, code="p-screen", product_model__code="fold-2"
    ).product_model_id
    foldable = fault_type_estimate(
        fault_type=fault, on=PRICES_VALID_FROM, product_model_id=fold_model
    )
    assert foldable.low - generic.low == 2899 - 599


@pytest.mark.django_db
def test_appliances_have_34_engineers_across_a_brand_and_two_providers():
    # when
    build_demo(verticals=VERTICALS)
    # then
    kinds = dict(Organization.objects.filter(code__in=APPLIANCE_ORGS).values_list("code", "kind"))
    assert kinds == {"qingfeng": "brand", "anjia": "provider", "suxiu": "provider"}
    # the providers serve in the brand's network
    parents = dict(
        Organization.objects.filter(code__in=APPLIANCE_ORGS).values_list("code", "parent__code")
    )
    assert parents == {"qingfeng": None, "anjia": "qingfeng", "suxiu": "qingfeng"}
    engineers = Technician.objects.filter(organization__code__in=APPLIANCE_ORGS)
    assert engineers.count() == 34
    per_org = Counter(engineers.values_list("organization__code", flat=True))
    assert per_org == {"qingfeng": 12, "anjia": 12, "suxiu": 10}
    # every engineer has skills of their own organisation, and lives in 杭州
    for engineer in engineers.prefetch_related("skill_levels__skill"):
        levels = list(engineer.skill_levels.all())
        assert levels
        assert {level.skill.organization_id for level in levels} == {engineer.organization_id}
        assert 29.9 < float(engineer.home_latitude) < 30.6
        assert 119.8 < float(engineer.home_longitude) < 120.6
    for code in APPLIANCE_ORGS:
        names = set(SkillTag.objects.filter(organization__code=code).values_list("name", flat=True))
        assert {"空调制冷", "冰箱压缩机", "洗衣机"} <= names
    # the brand's faults are all priced
    for fault in FaultType.objects.filter(organization__code="qingfeng"):
        estimate = fault_type_estimate(fault_type=fault, on=PRICES_VALID_FROM)
        assert estimate.missing_codes == ()
        assert estimate.low > 0


@pytest.mark.django_db
def test_car_platform_has_11_workshops_and_quotes_split_by_kind():
    # when
    build_demo(verticals=VERTICALS)
    # then
    platform = Organization.objects.get(code="kuaixiu")
    assert platform.kind == "platform"
    merchants = Organization.objects.filter(kind="merchant")
    assert sorted(merchants.values_list("code", flat=True)) == sorted(MERCHANTS)
    assert set(merchants.values_list("parent", flat=True)) == {platform.pk}
    assert Outlet.objects.filter(organization__kind="merchant", city="成都市").count() == 11
    skills = set(SkillTag.objects.filter(organization=platform).values_list("name", flat=True))
    assert {"德系车专修", "新能源三电"} <= skills
    platform_codes = set(
        PriceListItem.objects.filter(organization=platform, product_model__isnull=True).values_list(
            "code", flat=True
        )
    )
    kinds = dict(
        PriceListItem.objects.filter(organization=platform, product_model__isnull=True).values_list(
            "code", "kind"
        )
    )
    faults = FaultType.objects.filter(organization=platform).prefetch_related("typical_lines")
    assert faults.count() == 12
    for fault in faults:
        line_kinds = {kinds[line.item_code] for line in fault.typical_lines.all()}
        assert {"labour", "part", "material"} <= line_kinds, fault.name
        estimate = fault_type_estimate(fault_type=fault, on=PRICES_VALID_FROM)
        assert estimate.missing_codes == ()
        assert estimate.low > 0
    # every workshop prices the same codes, at its own rates, and has mechanics with skills
    for merchant in merchants:
        codes = set(
            PriceListItem.objects.filter(organization=merchant).values_list("code", flat=True)
        )
        assert codes == platform_codes
        mechanics = Technician.objects.filter(organization=merchant)
        assert mechanics.count() >= 2
        assert {getattr(mechanic.outlet, "organization_id", None) for mechanic in mechanics} == {
            merchant.pk
        }
        assert TechnicianSkill.objects.filter(technician__organization=merchant).exists()
    assert Technician.objects.filter(organization__kind="merchant").count() == 30


@pytest.mark.django_db
def test_customers_and_assets_of_each_vertical():
    # when
    build_demo(verticals=VERTICALS)
    # then
    per_org = Counter(Customer.objects.values_list("organization__code", flat=True))
    assert per_org == {"xingchen": 20, "qingfeng": 24, "kuaixiu": 22}
    assert not Customer.objects.filter(assets__isnull=True).exists()
    assert not Customer.objects.filter(addresses__isnull=True).exists()
    assert not Customer.objects.exclude(addresses__is_default=True).exists()
    for asset in Asset.objects.select_related("customer__organization", "product_model"):
        assert asset.product_model is not None and asset.purchased_on is not None
        assert asset.warranty_until == add_months(
            asset.purchased_on, asset.product_model.warranty_months
        )
        org = asset.customer.organization.code
        if org == "kuaixiu":
            assert len(asset.vin) == 17
            assert asset.plate_number.startswith("川A·")
            assert len(asset.plate_number) <= 16
        elif org == "xingchen" and asset.product_model.code != "pad-5":
            assert len(asset.imei) == 15
            assert asset.imei.isdigit()
        else:
            assert asset.serial_number
    phones = list(Customer.objects.values_list("phone", flat=True))
    assert all(phone.startswith("+86137") for phone in phones if phone != CUSTOMER_PHONE)
    # the demo customer owns something in all three verticals
    mine = Customer.objects.filter(user__phone=CUSTOMER_PHONE)
    assert sorted(mine.values_list("organization__code", flat=True)) == [
        "kuaixiu",
        "qingfeng",
        "xingchen",
    ]
    assert Asset.objects.filter(customer__user__phone=CUSTOMER_PHONE).count() == 4


@pytest.mark.django_db
def test_a_second_build_changes_nothing():
    # given
    build_demo(verticals=VERTICALS)
    before = _snapshot()
    # when
    build_demo(verticals=VERTICALS)
    # then
    assert _snapshot() == before


@pytest.mark.django_db
def test_the_build_is_the_same_every_time():
    # given: a first build on the empty database, then rolled back
    with transaction.atomic():
        build_demo(verticals=VERTICALS)
        first = _digest()
        names = sorted(Customer.objects.values_list("name", "phone"))
        transaction.set_rollback(True)
    assert not Customer.objects.exists()
    # when
    build_demo(verticals=VERTICALS)
    # then
    assert sorted(Customer.objects.values_list("name", "phone")) == names
    assert _digest() == first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("vertical", "organizations", "logins"),
    [
        ("phone", {"xingchen"}, {"13800000000", "13800000001", "13800000004", "13800000007"}),
        (
            "appliance",
            set(APPLIANCE_ORGS),
            {
                "13800000000",
                "13800000002",
                "13800000003",
                "13800000005",
                "13800000006",
                "13800000007",
            },
        ),
        ("auto", {"kuaixiu", *MERCHANTS}, {"13800000000", "13800000007", "13800000008"}),
    ],
)
def test_each_vertical_builds_alone(vertical, organizations, logins):
    # given
    out = io.StringIO()
    # when
    call_command("demo", vertical=vertical, stdout=out)
    # then
    assert set(Organization.objects.values_list("code", flat=True)) == organizations
    assert WorkOrder.objects.count() == sum(STATUSES[vertical].values())
    assert {login.phone for login in demo_logins()} == logins
    assert User.objects.filter(is_superuser=True).count() == 1
    assert Customer.objects.filter(user__phone=CUSTOMER_PHONE).count() == 1
    output = out.getvalue()
    assert "13800000000  /  shouhou-demo" in output
    assert "customers.Asset" in output


@pytest.mark.django_db
def test_the_command_reports_nothing_to_do_the_second_time():
    # given
    call_command("demo", stdout=io.StringIO())
    out = io.StringIO()
    # when
    call_command("demo", "--vertical", "all", stdout=out)
    # then
    assert "Nothing to do" in out.getvalue()
    assert len(demo_logins()) == 9


def test_an_unknown_vertical_is_refused():
    with pytest.raises(ValueError, match="boats"):
        build_demo(verticals=["boats"])


WORKSPACES = {
    "13800000000": "/admin/",
    "13800000001": "/console/",
    "13800000002": "/console/",
    "13800000003": "/tech/",
    "13800000004": "/console/",
    "13800000005": "/console/",
    "13800000006": "/console/",
    "13800000007": "/my/",
    "13800000008": "/console/",
}


@pytest.mark.django_db
def test_every_demo_login_reaches_its_workspace(client):
    # given
    logins = build_demo(verticals=VERTICALS)
    assert {login.phone: login.password for login in logins} == dict.fromkeys(
        WORKSPACES, "shouhou-demo"
    )
    for phone, workspace in WORKSPACES.items():
        # when
        signed_in = client.login(phone=phone, password="shouhou-demo")
        response = client.get("/")
        # then
        assert signed_in, phone
        assert (response.status_code, response.url) == (302, workspace), phone
        assert client.get(workspace).status_code == 200, phone
        client.logout()


@pytest.mark.django_db
def test_demo_roles_are_what_the_logins_say():
    # when
    build_demo(verticals=VERTICALS)
    # then
    roles = set(
        Membership.objects.filter(user__phone__startswith="+86138000000").values_list(
            "user__phone", "organization__code", "role"
        )
    )
    assert roles == {
        ("+8613800000000", "kuaixiu", "admin"),
        ("+8613800000001", "xingchen", "admin"),
        ("+8613800000002", "qingfeng", "agent"),
        ("+8613800000003", "qingfeng", "technician"),
        ("+8613800000004", "xingchen", "outlet_manager"),
        ("+8613800000005", "qingfeng", "finance"),
        ("+8613800000006", "qingfeng", "auditor"),
        ("+8613800000008", "kxyc-jinjiang", "admin"),
    }
    staff = set(User.objects.filter(is_staff=True).values_list("phone", flat=True))
    assert staff == {"+8613800000000", "+8613800000001", "+8613800000008"}
    technician = Technician.objects.get(user__phone="+8613800000003")
    assert {skill.name for skill in technician.skills.all()} == {"空调制冷", "空调安装", "高空作业"}


# --- work orders ------------------------------------------------------------------------------

OWNER = {"phone": "xingchen", "appliance": "qingfeng", "auto": "kuaixiu"}
STATUSES = {
    "phone": {
        "submitted": 2,
        "accepted": 1,
        "assigned": 2,
        "scheduled": 2,
        "in_service": 2,
        "on_hold": 1,
        "completed": 1,
        "closed": 2,
        "cancelled": 1,
    },
    "appliance": {
        "submitted": 3,
        "accepted": 2,
        "assigned": 2,
        "scheduled": 5,
        "in_service": 2,
        "on_hold": 2,
        "completed": 1,
        "closed": 2,
        "cancelled": 1,
    },
    "auto": {
        "submitted": 2,
        "accepted": 2,
        "assigned": 2,
        "scheduled": 2,
        "in_service": 2,
        "on_hold": 1,
        "completed": 1,
        "closed": 3,
        "cancelled": 1,
    },
}
# The events that move an order, and the one each status is reached with last.
REACHED_WITH = {
    "accepted": {"status_changed", "assignment_declined", "resumed"},
    "assigned": {"outlet_assigned", "technician_assigned", "status_changed", "resumed"},
    "scheduled": {"appointment_confirmed", "resumed"},
    "in_service": {"checked_in", "device_received", "completion_rejected", "resumed"},
    "on_hold": {"held"},
    "completed": {"completed", "ready_for_pickup"},
    "closed": {"completion_confirmed", "handed_over"},
    "cancelled": {"cancelled"},
}


def _phone(number: str) -> User:
    return User.objects.get(phone="+86" + number)


@pytest.mark.django_db
def test_each_vertical_has_work_orders_in_every_status():
    # given
    started = timezone.now()
    # when
    build_demo(verticals=VERTICALS)
    # then
    for vertical, expected in STATUSES.items():
        orders = WorkOrder.objects.filter(organization__code=OWNER[vertical])
        assert dict(Counter(orders.values_list("status", flat=True))) == expected, vertical
        keys = set(orders.values_list("idempotency_key", flat=True))
        assert keys == {f"demo-{vertical}-{n:02d}" for n in range(1, len(keys) + 1)}
        assert set(orders.values_list("channel", flat=True)) == {"web", "wechat", "phone", "app"}
        assert not orders.filter(fault_type__isnull=True).exists()
        assert not orders.filter(estimate_low__isnull=True).exists()
        assert not orders.filter(estimate_low__lte=0).exists()
        assert not orders.filter(status="on_hold", hold_reason="").exists()
        assert not orders.filter(status="cancelled", cancellation_reason="").exists()
        scheduled = orders.filter(status="scheduled")
        assert not scheduled.filter(appointment_start__isnull=True).exists()
        assert not scheduled.filter(
            appointment_start__lt=started - dt.timedelta(minutes=5)
        ).exists()
        # closed orders are rated; a few low ratings opened a follow-up each
        assert set(
            Rating.objects.filter(work_order__in=orders).values_list("work_order", flat=True)
        ) == set(orders.filter(status="closed").values_list("pk", flat=True))
        follow_ups = FollowUp.objects.filter(work_order__in=orders)
        assert follow_ups.count() == 1
        rating = follow_ups.get().rating
        assert rating is not None
        assert rating.average <= 2
    modes = Counter(WorkOrder.objects.values_list("organization__code", "fulfilment_mode"))
    assert modes == {
        ("xingchen", "carry_in"): 14,
        ("qingfeng", "on_site"): 20,
        ("kuaixiu", "carry_in"): 16,
    }
    # phones are repaired at the brand's outlets, cars at the platform's merchant workshops
    phones = WorkOrder.objects.filter(organization__code="xingchen")
    assert not phones.filter(outlet__isnull=True).exists()
    assert set(phones.values_list("outlet__organization__code", flat=True)) == {"xingchen"}
    cars = WorkOrder.objects.filter(organization__code="kuaixiu")
    assert cars.filter(outlet__isnull=True).count() == 1  # accepted, waiting for a workshop
    assert set(
        cars.exclude(outlet__isnull=True).values_list("service_organization__kind", flat=True)
    ) == {"merchant"}
    # appliances are repaired at home, some by the providers' engineers
    appliances = WorkOrder.objects.filter(organization__code="qingfeng")
    assert not appliances.filter(address__isnull=True).exists()
    served = Counter(
        appliances.exclude(service_organization__isnull=True).values_list(
            "service_organization__code", "technician__organization__code"
        )
    )
    assert served == {("anjia", "anjia"): 2, ("suxiu", "suxiu"): 2}
    assert set(WorkOrder.objects.values_list("priority", flat=True)) == {"normal", "high", "urgent"}
    hospital = appliances.get(priority="urgent", status="submitted")
    assert "医院" in hospital.description
    assert hospital.address is not None
    assert "医院" in hospital.address.address
    urged = Counter(
        WorkOrder.objects.filter(urge_count=1).values_list("organization__code", flat=True)
    )
    assert urged == {"xingchen": 1, "qingfeng": 3, "kuaixiu": 1}
    assert not WorkOrder.objects.filter(urge_count__gt=1).exists()
    # on-site completions carry the customer's signature
    assert Attachment.objects.filter(kind="signature").count() == 3
    assert Attachment.objects.count() == 3
    # demo orders send no SMS
    assert FakeSmsBackend.outbox == []


@pytest.mark.django_db
def test_every_order_has_a_consistent_timeline():
    # when
    build_demo(verticals=VERTICALS)
    # then
    orders = WorkOrder.objects.prefetch_related("events", "visits", "attachments")
    assert orders.count() == 50
    for order in orders:
        events = sorted(order.events.all(), key=lambda event: (event.created_at, event.pk))
        first = events[0]
        assert (first.type, first.from_status, first.to_status) == ("created", "", "submitted")
        assert first.data == {"channel": order.channel}
        status, last_move = "submitted", first
        for event in events[1:]:
            if event.to_status:
                assert event.from_status == status, (order.idempotency_key, event.type)
                assert event.to_status in TRANSITIONS[status], (order.idempotency_key, event.type)
                status, last_move = event.to_status, event
        assert status == order.status, order.idempotency_key
        if status != "submitted":
            assert last_move.type in REACHED_WITH[status], (order.idempotency_key, last_move.type)
        types = [event.type for event in events]
        assert types.count("urged") == order.urge_count
        assert types.count("rated") == (1 if order.status == "closed" else 0)
        if status == "on_hold":
            assert last_move.reason == order.hold_reason
        if status == "cancelled":
            assert last_move.reason == order.cancellation_reason
        on_site = order.fulfilment_mode == "on_site"
        visits = list(order.visits.all())
        if not on_site:
            assert visits == []
            assert ("device_received" in types) == (
                status in {"in_service", "completed", "closed"}
                or (status == "on_hold" and order.held_from_status == "in_service")
            )
        if on_site and status in {"completed", "closed"}:
            assert "signed" in types
            assert [(v.status, v.outcome) for v in visits] == [("done", "fixed")]
            assert order.attachments.get().kind == "signature"
        if on_site and status == "in_service":
            assert [v.status for v in visits] == ["on_site"]
            assert visits[0].check_in_latitude is not None
        if on_site and status == "on_hold" and order.held_from_status == "in_service":
            assert [(v.status, v.outcome) for v in visits] == [("done", "needs_parts")]
        if (
            status in {"in_service", "on_hold", "completed", "closed"}
            and order.held_from_status != "accepted"
        ):
            assert "diagnosed" in types
        if status in {"completed", "closed"}:
            assert "work_reported" in types


@pytest.mark.django_db
def test_demo_logins_see_their_orders_through_the_selectors():
    # when
    build_demo(verticals=VERTICALS)
    # then: the appliance agent has the brand's whole queue
    agent_queue = workorder_list_for_staff(user=_phone("13800000002"))
    assert agent_queue.count() == 20
    assert set(agent_queue.values_list("organization__code", flat=True)) == {"qingfeng"}
    # the air-conditioning engineer has jobs today, upcoming, to accept, in progress and done
    technician = _phone("13800000003")
    jobs = workorder_list_for_technician(user=technician)
    assert dict(Counter(jobs.values_list("status", flat=True))) == {
        "assigned": 1,
        "scheduled": 3,
        "in_service": 1,
        "on_hold": 1,
        "completed": 1,
        "closed": 1,
    }
    groups = {group.key: len(group.jobs) for group in technician_job_groups(user=technician)}
    assert groups == {"today": 2, "upcoming": 1, "to_accept": 1, "in_progress": 2, "done": 2}
    # the outlet manager sees the brand's orders, eight of them carried in to their outlet
    manager_queue = workorder_list_for_staff(user=_phone("13800000004"))
    assert manager_queue.count() == 14
    mine = manager_queue.filter(outlet__code="sz-huaqiangbei")
    assert mine.count() == 8
    assert set(mine.values_list("fulfilment_mode", flat=True)) == {"carry_in"}
    # the customer has orders in all three verticals, in different statuses
    customer_orders = workorder_list_for_customer(user=_phone("13800000007"))
    assert set(customer_orders.values_list("organization__code", "status")) == {
        ("xingchen", "closed"),
        ("qingfeng", "completed"),
        ("qingfeng", "scheduled"),
        ("kuaixiu", "in_service"),
    }
    assert customer_orders.count() == 4
    assert not Rating.objects.filter(
        work_order__in=customer_orders.filter(status="completed")
    ).exists()
    assert Rating.objects.get(work_order__in=customer_orders.filter(status="closed")).average == 5
    # the workshop admin sees the orders their workshop serves for the platform
    workshop_queue = workorder_list_for_staff(user=_phone("13800000008"))
    assert workshop_queue.count() == 7
    assert set(workshop_queue.values_list("organization__code", "service_organization__code")) == {
        ("kuaixiu", "kxyc-jinjiang")
    }
    assert dict(Counter(workshop_queue.values_list("status", flat=True))) == {
        "submitted": 2,
        "assigned": 1,
        "scheduled": 1,
        "in_service": 1,
        "completed": 1,
        "closed": 1,
    }


PAGES = (
    ("13800000002", "/console/work-orders/", workorder_list_for_staff, 20),
    ("13800000004", "/console/work-orders/", workorder_list_for_staff, 14),
    ("13800000008", "/console/work-orders/", workorder_list_for_staff, 7),
    ("13800000003", "/tech/jobs/", workorder_list_for_technician, 8),
    ("13800000007", "/my/orders/", workorder_list_for_customer, 4),
)


@pytest.mark.django_db
def test_demo_logins_find_their_orders_on_their_pages(client):
    # given
    build_demo(verticals=VERTICALS)
    for phone, page, selector, expected in PAGES:
        user = _phone(phone)
        numbers = list(selector(user=user).values_list("number", flat=True))
        assert len(numbers) == expected, phone
        client.force_login(user)
        # when
        response = client.get(page)
        # then
        assert response.status_code == 200, phone
        content = response.content.decode()
        assert [number for number in numbers if number not in content] == [], phone
        client.logout()
    # and: the customer is invited to rate the completed order
    customer = _phone("13800000007")
    completed = workorder_list_for_customer(user=customer).get(status="completed")
    client.force_login(customer)
    response = client.get(f"/my/orders/{completed.number}/")
    assert response.status_code == 200
    assert response.context["can_rate"] is True


@pytest.mark.django_db
def test_a_second_build_makes_no_work_order_and_changes_none():
    # given
    build_demo(verticals=VERTICALS)

    def state():
        return (
            WorkOrder.objects.aggregate(n=Count("pk"), latest=Max("updated_at")),
            WorkOrderEvent.objects.aggregate(n=Count("pk"), latest=Max("created_at")),
            Visit.objects.aggregate(n=Count("pk"), latest=Max("updated_at")),
            Rating.objects.aggregate(n=Count("pk"), latest=Max("created_at")),
            FollowUp.objects.aggregate(n=Count("pk"), latest=Max("updated_at")),
            Attachment.objects.aggregate(n=Count("pk"), latest=Max("created_at")),
            list(WorkOrderNumberSequence.objects.values_list("day", "last")),
            list(Technician.objects.order_by("pk").values_list("rating_total", "rating_count")),
            list(Outlet.objects.order_by("pk").values_list("rating_total", "rating_count")),
        )

    before = state()
    assert before[0]["n"] == 50
    # when
    build_demo(verticals=VERTICALS)
    # then
    assert state() == before


@pytest.mark.parametrize(
    ("clock", "today", "today2"),
    [
        ("00:05", "02:30", "04:00"),
        ("09:10", "11:30", "13:00"),
        ("11:40", "14:00", "15:30"),
        ("19:45", "21:00", "21:30"),
        ("21:15", "21:15", "21:30"),
        ("23:50", "23:50", "23:50"),
    ],
)
def test_todays_appointments_are_later_today_and_never_in_the_past(clock, today, today2):
    # given
    hour, minute = map(int, clock.split(":"))
    now = timezone.make_aware(dt.datetime(2026, 3, 10, hour, minute, 41))
    hour_long = dt.timedelta(hours=1)
    # when
    first = order_window("today", now=now, length=hour_long)
    second = order_window("today2", now=now, length=hour_long)
    later = order_window("d2-14", now=now, length=hour_long)
    # then
    for (start, end), expected in ((first, today), (second, today2)):
        local = timezone.localtime(start)
        assert (local.date(), f"{local:%H:%M}") == (dt.date(2026, 3, 10), expected)
        assert start > now - dt.timedelta(minutes=5)  # what workorder_schedule accepts
        assert end - start == hour_long
    local = timezone.localtime(later[0])
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 3, 12), 14, 0)


@pytest.mark.django_db
def test_dispatch_suggests_engineers_for_an_accepted_appliance_order():
    # given the demo (shifts by weekday only, so any Monday 10:00 gives the same answer)
    build_demo(verticals=["appliance"])
    order = WorkOrder.objects.get(
        organization__code="qingfeng", idempotency_key="demo-appliance-04", status="accepted"
    )
    monday_ten = timezone.make_aware(dt.datetime(2030, 1, 7, 10, 0))
    # when
    ranking = technician_suggestions(work_order=order, at=monday_ten, limit=100)
    # then engineers of the brand and its providers who have the skill, on duty, within reach
    assert len(ranking.candidates) == 6
    assert ranking.considered == 34
    assert ranking.excluded == {"off_duty": 4, "missing_skill": 23, "outside_service_area": 1}
    assert [c.score for c in ranking.candidates] == sorted(c.score for c in ranking.candidates)
    assert len(technician_suggestions(work_order=order, at=monday_ten).candidates) == 5
    # and nobody at 03:00, when no shift runs
    night = technician_suggestions(work_order=order, at=monday_ten.replace(hour=3))
    assert night.candidates == []


@pytest.mark.django_db
def test_demo_dispatch_modes_offer_appliance_jobs_and_pool_roadside_rescue():
    from shouhou.dispatch.models import DispatchModeOverride, DispatchPolicy

    # given the demo
    build_demo(verticals=["appliance", "auto"])
    # then the appliance brand offers, the car platform pools rescue and keeps the rest manual
    assert DispatchPolicy.objects.get(organization__code="qingfeng").mode == "offer"
    assert not DispatchPolicy.objects.filter(organization__code="kuaixiu").exists()
    assert list(
        DispatchModeOverride.objects.values_list("organization__code", "service_type__code", "mode")
    ) == [("kuaixiu", "rescue", "pool")]


@pytest.mark.django_db
def test_car_workshops_offer_slots_with_their_bays():
    from shouhou.dispatch.models import OutletSlot, SlotBooking
    from shouhou.dispatch.slots import outlet_slots

    # when
    build_demo(verticals=VERTICALS)
    # then every workshop offers slots in the coming week, one per bay
    workshops = Outlet.objects.filter(organization__kind="merchant").prefetch_related(
        "opening_hours"
    )
    for workshop in workshops:
        slots = outlet_slots(outlet=workshop, include_full=True)
        assert slots, workshop.name
        fresh = [slot for slot in slots if slot.booked == 0]
        assert {slot.capacity for slot in fresh} == {workshop.service_bays}
    # and the booked drop-offs hold exactly the bays their counters say
    assert sum(OutletSlot.objects.values_list("booked", flat=True)) == SlotBooking.objects.count()
