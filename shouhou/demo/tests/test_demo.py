"""The demo data: the shapes the issue asks for, idempotent, deterministic, and every login."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max

from shouhou.accounts.models import Membership, Organization, Outlet, User
from shouhou.catalog.models import FaultType, PriceListItem, SkillTag
from shouhou.catalog.selectors import fault_type_estimate
from shouhou.customers.models import Asset, Customer, add_months
from shouhou.demo.build import PRICES_VALID_FROM, VERTICALS, build_demo, demo_logins
from shouhou.dispatch.models import Technician, TechnicianSkill

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
        "skills": TechnicianSkill.objects.values_list(
            "technician__user__phone", "skill__organization__code", "skill__code", "level"
        ),
        "outlets": Outlet.objects.values_list(
            "organization__code", "code", "latitude", "longitude", "phone"
        ),
        "prices": PriceListItem.objects.values_list(
            "organization__code", "code", "product_model__code", "unit_price"
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
        assert all(mechanic.outlet.organization_id == merchant.pk for mechanic in mechanics)
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
