"""``shouhou demo``: three realistic verticals in Chinese, deterministic, idempotent and fast.

* phone repair (深圳): the brand 星辰手机 with authorised outlets, phone models, faults such as
  屏幕碎裂 / 电池鼓包 / 无法开机 and a price list with model-specific screens and batteries;
* home appliances (杭州): the brand 清风家电 and two third-party providers (安家家电服务,
  速修到家) with 30+ engineers placed across the city;
* car repair (成都): the platform 快修养车 with merchant workshops; the platform owns the
  categories, car models, skills, fault types and a standard price list, each workshop has its
  own price list with the same codes.

Every name is fictional. Each vertical draws from its own ``random.Random`` with a fixed seed
and always draws the same numbers whatever is in the database, so a build gives the same data
every time. Rows are only created when missing (looked up by natural keys) and never updated,
so a second build changes nothing. The demo password is hashed once for all demo users.

Each vertical also gets 14–20 work orders in every status. They are made only through the
work-order services (intake, accept, dispatch, appointment, visit, report, signature, completion,
rating...), so every order has the event timeline a real one would have. An order is keyed by
``demo-<vertical>-<nn>`` (its idempotency key): when it exists it is left alone, otherwise it is
created and driven through all its steps. The services stamp the real time, so the whole story
of an order happens at build time; appointments are set relative to it (later today, or at fixed
hours in the coming days).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from shouhou.accounts.choices import CertificationTier, OrganizationKind, Role
from shouhou.accounts.models import Membership, OpeningHours, Organization, Outlet, User
from shouhou.accounts.services import membership_grant
from shouhou.catalog.choices import PriceItemKind, ServiceKind, Unit
from shouhou.catalog.models import (
    Brand,
    FaultType,
    FaultTypeLine,
    PriceListItem,
    ProductCategory,
    ProductModel,
    ServiceType,
    SkillTag,
)
from shouhou.core.errors import DomainError
from shouhou.customers.models import Address, Asset, Customer, add_months
from shouhou.dispatch.models import (
    DispatchMode,
    DispatchModeOverride,
    DispatchPolicy,
    Shift,
    Technician,
    TechnicianSkill,
    TechnicianStatus,
)
from shouhou.dispatch.services import technician_onboard
from shouhou.dispatch.slots import slot_book
from shouhou.feedback.models import FollowUp, Rating
from shouhou.feedback.services import rating_submit
from shouhou.sla.models import SlaPolicy
from shouhou.workorders.choices import (
    Channel,
    FulfilmentMode,
    Priority,
    VisitOutcome,
    WorkOrderStatus,
)
from shouhou.workorders.models import Attachment, Visit, WorkOrder, WorkOrderEvent
from shouhou.workorders.services import (
    Actor,
    serving_organization_ids,
    visit_check_in,
    visit_finish,
    visit_set_en_route,
    workorder_accept,
    workorder_accept_assignment,
    workorder_assign_outlet,
    workorder_assign_technician,
    workorder_cancel,
    workorder_confirm_completion,
    workorder_create,
    workorder_decline_assignment,
    workorder_hand_over,
    workorder_hold,
    workorder_ready_for_pickup,
    workorder_receive_device,
    workorder_report,
    workorder_schedule,
    workorder_sign,
    workorder_urge,
)

VERTICALS: tuple[str, ...] = ("phone", "appliance", "auto")
DEMO_PASSWORD = "shouhou-demo"
# Price lists start on a fixed day so the data never depends on the day it was built.
PRICES_VALID_FROM = dt.date(2026, 1, 1)

SEEDS = {"phone": 20260101, "appliance": 20260102, "auto": 20260103}

# Every table the demo writes to, in the order the command reports them.
DEMO_MODELS: tuple[type[models.Model], ...] = (
    User,
    Organization,
    Outlet,
    OpeningHours,
    Membership,
    ProductCategory,
    Brand,
    ProductModel,
    ServiceType,
    SkillTag,
    FaultType,
    FaultTypeLine,
    PriceListItem,
    Technician,
    TechnicianSkill,
    Customer,
    Address,
    Asset,
    WorkOrder,
    WorkOrderEvent,
    Visit,
    Attachment,
    Rating,
    FollowUp,
)

M = TypeVar("M", bound=models.Model)


# --- demo logins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role_label: str
    phone: str  # national form, 11 digits: what one types on the login page
    password: str
    note: str


@dataclass(frozen=True)
class _LoginSpec:
    key: str
    phone: str
    display_name: str
    role_label: str
    note: str
    vertical: str | None  # None: built whatever verticals are asked for
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def e164(self) -> str:
        return "+86" + self.phone

    def as_login(self) -> DemoLogin:
        return DemoLogin(
            role_label=self.role_label, phone=self.phone, password=DEMO_PASSWORD, note=self.note
        )


LOGIN_SPECS: tuple[_LoginSpec, ...] = (
    _LoginSpec(
        "superuser",
        "13800000000",
        "周建国",
        "platform superuser",
        "平台超级管理员 · 快修养车管理员 · /admin/",
        None,
        is_staff=True,
        is_superuser=True,
    ),
    _LoginSpec(
        "phone_admin",
        "13800000001",
        "林雅琴",
        "brand admin (phone)",
        "星辰手机 管理员 · /console/",
        "phone",
        is_staff=True,
    ),
    _LoginSpec(
        "agent",
        "13800000002",
        "王思琪",
        "agent (appliance)",
        "清风家电 客服 · /console/",
        "appliance",
    ),
    _LoginSpec(
        "technician",
        "13800000003",
        "赵志强",
        "technician (appliance)",
        "清风家电 空调工程师 · /tech/",
        "appliance",
    ),
    _LoginSpec(
        "outlet_manager",
        "13800000004",
        "郑浩然",
        "outlet manager (phone)",
        "星辰手机 华强北旗舰店店长 · /console/",
        "phone",
    ),
    _LoginSpec(
        "finance",
        "13800000005",
        "孙丽华",
        "finance (appliance)",
        "清风家电 财务 · /console/",
        "appliance",
    ),
    _LoginSpec(
        "auditor",
        "13800000006",
        "吴敏",
        "auditor (appliance)",
        "清风家电 审计 · /console/",
        "appliance",
    ),
    _LoginSpec(
        "customer",
        "13800000007",
        "陈小雨",
        "customer",
        "顾客：手机、家电、汽车都在「我的服务」· /my/",
        None,
    ),
    _LoginSpec(
        "merchant_admin",
        "13800000008",
        "杨德明",
        "workshop admin (auto)",
        "锦江车之道汽车维修 管理员 · /console/",
        "auto",
        is_staff=True,
    ),
)
_LOGIN = {spec.key: spec for spec in LOGIN_SPECS}


def demo_logins() -> list[DemoLogin]:
    """The demo logins whose user exists in the database (for ``shouhou run``)."""
    existing = set(
        User.objects.filter(phone__in=[spec.e164 for spec in LOGIN_SPECS]).values_list(
            "phone", flat=True
        )
    )
    return [spec.as_login() for spec in LOGIN_SPECS if spec.e164 in existing]


def row_counts() -> dict[str, int]:
    """Rows per demo table, keyed by the model's label (``catalog.PriceListItem``)."""
    return {model._meta.label: model._default_manager.count() for model in DEMO_MODELS}


# --- shared helpers --------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚浩宇欣怡梓涵晨轩"
    "雨思佳俊嘉文博雅婷志华建国玉兰海燕鹏飞丹琳凯宁晓春秋云峰"
)
COMMUNITIES = (
    "阳光花园",
    "锦绣家园",
    "翠苑",
    "金色家园",
    "和平里小区",
    "紫荆苑",
    "香樟苑",
    "城市之光",
    "桂花园",
    "新世纪花园",
    "绿城雅苑",
    "明珠小区",
)

# (district, latitude, longitude, streets) of each demo city.
District = tuple[str, float, float, tuple[str, ...]]
SHENZHEN: tuple[District, ...] = (
    ("福田区", 22.5415, 114.0550, ("深南中路", "华强北路", "福华三路", "益田路", "彩田路")),
    ("南山区", 22.5330, 113.9304, ("科苑南路", "南海大道", "高新南一道", "后海大道", "学府路")),
    ("罗湖区", 22.5484, 114.1315, ("人民南路", "东门中路", "深南东路", "宝安南路")),
    ("宝安区", 22.5553, 113.8830, ("新安六路", "宝安大道", "创业一路", "建安一路")),
    ("龙岗区", 22.7205, 114.2466, ("龙岗大道", "龙翔大道", "黄阁路", "布吉路")),
    ("龙华区", 22.6966, 114.0447, ("人民路", "梅龙大道", "民治大道", "东环二路")),
)
HANGZHOU: tuple[District, ...] = (
    ("上城区", 30.2425, 120.1692, ("解放路", "庆春路", "望江东路", "秋涛路")),
    ("拱墅区", 30.3190, 120.1419, ("莫干山路", "湖墅南路", "大关路", "上塘路")),
    ("西湖区", 30.2749, 120.1183, ("文三路", "天目山路", "古墩路", "文二西路")),
    ("滨江区", 30.2084, 120.2119, ("江南大道", "滨盛路", "江虹路", "长河路")),
    ("萧山区", 30.1835, 120.2644, ("市心中路", "金城路", "人民路", "博学路")),
    ("余杭区", 30.2870, 120.0100, ("文一西路", "五常大道", "良睦路", "龙潭路")),
    ("临平区", 30.4190, 120.3000, ("迎宾路", "人民大道", "世纪大道", "藕花洲大街")),
    ("钱塘区", 30.3080, 120.3450, ("学林街", "海达南路", "文渊北路", "福城路")),
)
CHENGDU: tuple[District, ...] = (
    ("锦江区", 30.6570, 104.0830, ("东大街", "锦华路", "静安路", "海椒市街")),
    ("青羊区", 30.6742, 104.0621, ("蜀都大道", "光华大道", "清江东路", "日月大道")),
    ("金牛区", 30.6916, 104.0516, ("蜀汉路", "沙湾路", "金府路", "解放路二段")),
    ("武侯区", 30.6423, 104.0430, ("武侯大道", "科华北路", "佳灵路", "二环路南四段")),
    ("成华区", 30.6600, 104.1019, ("建设路", "二环路东二段", "双林路", "驷马桥路")),
    ("高新区", 30.5800, 104.0600, ("天府大道中段", "剑南大道", "府城大道西段", "天府三街")),
    ("龙泉驿区", 30.5565, 104.2745, ("驿都大道", "成龙大道", "龙都南路")),
    ("双流区", 30.5744, 103.9234, ("西航港大道", "棠湖西路", "川大路")),
    ("郫都区", 30.7953, 103.9016, ("望丛中路", "红光大道", "犀浦百草路")),
    ("温江区", 30.6820, 103.8560, ("光华大道三段", "凤凰北大街", "柳城大道")),
    ("新都区", 30.8233, 104.1588, ("新都大道", "蜀龙大道", "南丰大道")),
)


def _district(city: Sequence[District], name: str) -> District:
    return next(row for row in city if row[0] == name)


def _person_name(rng: random.Random) -> str:
    given_length = rng.choice((1, 2, 2, 2))
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(given_length))


def _mobiles(rng: random.Random, prefix: str, count: int) -> list[str]:
    """``count`` distinct valid mobile numbers (E.164) starting with the 7-digit ``prefix``."""
    return [f"+86{prefix}{n:04d}" for n in rng.sample(range(1, 10000), count)]


def _near(rng: random.Random, lat: float, lon: float, spread: float) -> tuple[Decimal, Decimal]:
    return (
        Decimal(f"{lat + rng.uniform(-spread, spread):.6f}"),
        Decimal(f"{lon + rng.uniform(-spread, spread):.6f}"),
    )


def _home_address(rng: random.Random, streets: Sequence[str]) -> str:
    street, number, community = rng.choice(streets), rng.randint(1, 899), rng.choice(COMMUNITIES)
    building, unit, floor, door = (
        rng.randint(1, 24),
        rng.randint(1, 4),
        rng.randint(1, 32),
        rng.randint(1, 4),
    )
    return f"{street}{number}号{community}{building}栋{unit}单元{floor}{door:02d}室"


def _yuan(value: float) -> Decimal:
    return Decimal(round(value)).quantize(Decimal("0.01"))


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _imei(rng: random.Random, model_code: str) -> str:
    """A 15-digit IMEI with a valid Luhn digit; the first eight digits depend on the model."""
    tac = "86" + f"{sum(ord(char) * (i + 1) for i, char in enumerate(model_code)) % 10**6:06d}"
    body = tac + "".join(str(rng.randint(0, 9)) for _ in range(6))
    return body + _luhn_digit(body)


VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# ISO 3779 transliteration of the letters allowed in a VIN.
_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", map(int, "12345678123457923456789"), strict=True))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_MODEL_YEAR = {
    2019: "K",
    2020: "L",
    2021: "M",
    2022: "N",
    2023: "P",
    2024: "R",
    2025: "S",
    2026: "T",
}


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    """A 17-character VIN with a valid check digit (position 9) and model-year code."""
    vds = "".join(rng.choice(VIN_CHARS) for _ in range(5))
    plant = rng.choice("ABCDEFGH")
    serial = "".join(str(rng.randint(0, 9)) for _ in range(6))
    draft = f"{wmi}{vds}0{_MODEL_YEAR[year]}{plant}{serial}"
    total = sum(
        (int(char) if char.isdigit() else _VIN_VALUES[char]) * weight
        for char, weight in zip(draft, _VIN_WEIGHTS, strict=True)
    )
    check = "X" if total % 11 == 10 else str(total % 11)
    return draft[:8] + check + draft[9:]


PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _plate(rng: random.Random, energy: str) -> str:
    """A Chengdu plate: 川A·K3821 (fuel) or 川A·D12345 / 川A·F12345 (electric / hybrid)."""
    if energy == "bev":
        return "川A·D" + "".join(str(rng.randint(0, 9)) for _ in range(5))
    if energy == "phev":
        return "川A·F" + "".join(str(rng.randint(0, 9)) for _ in range(5))
    first = rng.choice(PLATE_LETTERS) if rng.random() < 0.6 else str(rng.randint(0, 9))
    return "川A·" + first + "".join(str(rng.randint(0, 9)) for _ in range(4))


# Opening hours as (weekdays, opens, closes) periods.
Hours = tuple[tuple[tuple[int, ...], dt.time, dt.time], ...]
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
HOURS_MALL: Hours = ((EVERY_DAY, dt.time(10, 0), dt.time(22, 0)),)
HOURS_OFFICE: Hours = (
    ((0, 1, 2, 3, 4), dt.time(9, 0), dt.time(18, 0)),
    ((5, 6), dt.time(10, 0), dt.time(17, 0)),
)
HOURS_STATION: Hours = (((0, 1, 2, 3, 4, 5), dt.time(8, 30), dt.time(17, 30)),)
HOURS_WORKSHOP: Hours = (
    (EVERY_DAY, dt.time(8, 30), dt.time(12, 0)),
    (EVERY_DAY, dt.time(13, 30), dt.time(18, 30)),
)

# Catalog specs.
CategorySpec = tuple[str, str, str | None]  # code, name, parent code
SkillSpec = tuple[str, str]  # code, name
ServiceSpec = tuple[str, str, str]  # code, name, kind
PriceSpec = tuple[str, str, str, str, int]  # code, name, kind, unit, price (yuan)
LineSpec = tuple[str, str, bool]  # price-list code, quantity, only sometimes needed
FaultSpec = tuple[str, str, str, tuple[str, ...], int, tuple[LineSpec, ...], str]

FLAGSHIP, AUTHORISED, PARTNER = (
    CertificationTier.FLAGSHIP,
    CertificationTier.AUTHORISED,
    CertificationTier.PARTNER,
)
L, P, MAT, FEE = PriceItemKind.LABOUR, PriceItemKind.PART, PriceItemKind.MATERIAL, PriceItemKind.FEE


def _req(code: str, quantity: str = "1") -> LineSpec:
    return (code, quantity, False)


def _opt(code: str, quantity: str = "1") -> LineSpec:
    return (code, quantity, True)


# --- writer: create what is missing, never update -------------------------------------------


class _Writer:
    """Creates the rows that are missing and never touches a row that exists."""

    def __init__(self) -> None:
        self._password_hash: str | None = None

    @property
    def password_hash(self) -> str:
        # Hashed once per build, and only if a user is created: hashing is deliberately slow.
        if self._password_hash is None:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash

    @staticmethod
    def ensure(model: type[M], defaults: dict[str, Any] | None = None, **lookup: Any) -> M:
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model._default_manager.create(**lookup, **(defaults or {}))
        return obj

    def user(
        self, phone: str, display_name: str, *, is_staff: bool = False, is_superuser: bool = False
    ) -> User:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.create(
                phone=phone,
                display_name=display_name,
                password=self.password_hash,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
        return user

    def login_user(self, key: str) -> User:
        spec = _LOGIN[key]
        return self.user(
            spec.e164, spec.display_name, is_staff=spec.is_staff, is_superuser=spec.is_superuser
        )

    @staticmethod
    def grant(
        user: User, organization: Organization, role: str, outlet: Outlet | None = None
    ) -> None:
        exists = Membership.objects.filter(user=user, organization=organization, role=role)
        if not exists.exists():
            membership_grant(user=user, organization=organization, role=role, outlet=outlet)

    def organization(
        self,
        code: str,
        name: str,
        kind: str,
        contact_phone: str,
        parent: Organization | None = None,
    ) -> Organization:
        return self.ensure(
            Organization,
            code=code,
            defaults={"name": name, "kind": kind, "contact_phone": contact_phone, "parent": parent},
        )

    def outlet(
        self,
        organization: Organization,
        code: str,
        *,
        hours: Hours,
        categories: Iterable[ProductCategory],
        brands: Iterable[Brand],
        **fields: Any,
    ) -> Outlet:
        outlet = self.ensure(Outlet, organization=organization, code=code, defaults=fields)
        existing = set(outlet.opening_hours.values_list("weekday", "opens_at"))
        OpeningHours.objects.bulk_create(
            [
                OpeningHours(outlet=outlet, weekday=day, opens_at=opens, closes_at=closes)
                for days, opens, closes in hours
                for day in days
                if (day, opens) not in existing
            ]
        )
        outlet.categories.add(*categories)
        outlet.authorised_brands.add(*brands)
        return outlet

    def categories(
        self, organization: Organization, specs: Sequence[CategorySpec]
    ) -> dict[str, ProductCategory]:
        found: dict[str, ProductCategory] = {}
        for order, (code, name, parent) in enumerate(specs):
            found[code] = self.ensure(
                ProductCategory,
                organization=organization,
                code=code,
                defaults={
                    "name": name,
                    "parent": found[parent] if parent else None,
                    "sort_order": order,
                },
            )
        return found

    def skills(self, organization: Organization, specs: Sequence[SkillSpec]) -> dict[str, SkillTag]:
        return {
            code: self.ensure(
                SkillTag, organization=organization, code=code, defaults={"name": name}
            )
            for code, name in specs
        }

    def service_types(self, organization: Organization, specs: Sequence[ServiceSpec]) -> None:
        for code, name, kind in specs:
            self.ensure(
                ServiceType,
                organization=organization,
                code=code,
                defaults={"name": name, "kind": kind},
            )

    def faults(
        self,
        organization: Organization,
        categories: dict[str, ProductCategory],
        skills: dict[str, SkillTag],
        specs: Sequence[FaultSpec],
    ) -> None:
        for code, name, category, skill_codes, minutes, lines, description in specs:
            fault = self.ensure(
                FaultType,
                organization=organization,
                code=code,
                defaults={
                    "name": name,
                    "category": categories[category],
                    "typical_duration_minutes": minutes,
                    "description": description,
                },
            )
            fault.required_skills.add(*(skills[skill] for skill in skill_codes))
            existing = set(fault.typical_lines.values_list("item_code", flat=True))
            FaultTypeLine.objects.bulk_create(
                [
                    FaultTypeLine(
                        fault_type=fault,
                        item_code=item,
                        quantity=Decimal(quantity),
                        is_optional=optional,
                    )
                    for item, quantity, optional in lines
                    if item not in existing
                ]
            )

    @staticmethod
    def price_list(
        organization: Organization,
        rows: Sequence[tuple[PriceSpec, Decimal, ProductModel | None]],
    ) -> None:
        """Price rows (spec, price, model or None) valid from ``PRICES_VALID_FROM``."""
        existing = set(
            PriceListItem.objects.filter(
                organization=organization, valid_from=PRICES_VALID_FROM
            ).values_list("code", "product_model_id")
        )
        PriceListItem.objects.bulk_create(
            [
                PriceListItem(
                    organization=organization,
                    code=code,
                    name=f"{name}（{model.name}）" if model else name,
                    kind=kind,
                    unit=unit,
                    unit_price=price,
                    product_model=model,
                    valid_from=PRICES_VALID_FROM,
                )
                for (code, name, kind, unit, _base), price, model in rows
                if (code, model.pk if model else None) not in existing
            ]
        )

    def technician(
        self,
        organization: Organization,
        *,
        phone: str,
        name: str,
        home: tuple[Decimal, Decimal],
        outlet: Outlet | None,
        skills: dict[SkillTag, int],
    ) -> Technician:
        user = self.user(phone, name)
        technician = Technician.objects.filter(organization=organization, user=user).first()
        if technician is None:
            technician = technician_onboard(
                organization=organization,
                phone=phone,
                display_name=name,
                home_latitude=home[0],
                home_longitude=home[1],
                outlet=outlet,
                skills=skills,
            )
        return technician

    def customer(
        self, organization: Organization, *, phone: str, name: str, user: User | None = None
    ) -> Customer:
        return self.ensure(
            Customer, organization=organization, phone=phone, defaults={"name": name, "user": user}
        )

    def address(self, customer: Customer, *, address: str, **fields: Any) -> Address:
        return self.ensure(Address, customer=customer, address=address, defaults=fields)

    def asset(self, customer: Customer, *, key: str, **fields: Any) -> Asset:
        """An asset identified by its IMEI, VIN or serial number (``key`` names the field)."""
        value = fields.pop(key)
        model = fields.get("product_model")
        if model is not None and fields.get("purchased_on"):
            fields["warranty_until"] = add_months(fields["purchased_on"], model.warranty_months)
        return self.ensure(Asset, customer=customer, defaults=fields, **{key: value})


def _priced(
    rng: random.Random, specs: Sequence[PriceSpec], factor: float = 1.0, jitter: float = 0.0
) -> list[tuple[PriceSpec, Decimal, ProductModel | None]]:
    """Generic price rows, each ``price × factor`` with a seeded ±``jitter`` variation."""
    return [
        (spec, _yuan(spec[4] * factor * (1 + rng.uniform(-jitter, jitter))), None) for spec in specs
    ]


def _people(
    rng: random.Random, prefix: str, count: int, demo_customer: User
) -> list[tuple[str, str, User | None]]:
    """(phone, name, login) of ``count`` customers: the demo customer first, then strangers."""
    spec = _LOGIN["customer"]
    people: list[tuple[str, str, User | None]] = [(spec.e164, spec.display_name, demo_customer)]
    people += [(phone, _person_name(rng), None) for phone in _mobiles(rng, prefix, count - 1)]
    return people


def _customer_addresses(
    w: _Writer,
    rng: random.Random,
    customer: Customer,
    *,
    province: str,
    city: str,
    districts: Sequence[District],
) -> None:
    """A default home address, and for some customers an office address, with coordinates."""
    labels = ["家", "公司"] if rng.random() < 0.3 else ["家"]
    for index, label in enumerate(labels):
        district, lat, lon, streets = rng.choice(districts)
        latitude, longitude = _near(rng, lat, lon, 0.03)
        w.address(
            customer,
            address=_home_address(rng, streets),
            label=label,
            province=province,
            city=city,
            district=district,
            latitude=latitude,
            longitude=longitude,
            is_default=index == 0,
        )


# --- phone repair: 星辰手机, 深圳 -------------------------------------------------------------

PHONE_CATEGORIES: tuple[CategorySpec, ...] = (
    ("phone", "手机", None),
    ("smartphone", "智能手机", "phone"),
    ("foldable", "折叠屏手机", "phone"),
    ("tablet", "平板电脑", None),
    ("wearable", "智能手表", None),
)
# code, name, category, warranty months, screen price, battery price
PHONE_MODELS: tuple[tuple[str, str, str, int, int, int], ...] = (
    ("x10", "星辰 X10", "smartphone", 12, 499, 149),
    ("x10-pro", "星辰 X10 Pro", "smartphone", 12, 799, 179),
    ("x20", "星辰 X20", "smartphone", 12, 699, 169),
    ("x20-pro", "星辰 X20 Pro", "smartphone", 24, 1099, 199),
    ("note-8", "星辰 Note 8", "smartphone", 12, 399, 129),
    ("fold-2", "星辰 Fold 2", "foldable", 24, 2899, 259),
    ("pad-5", "星辰 Pad 5", "tablet", 12, 899, 299),
    ("watch-3", "星辰 Watch 3", "wearable", 12, 399, 129),
)
PHONE_SERVICES: tuple[ServiceSpec, ...] = (
    ("store-repair", "到店维修", ServiceKind.REPAIR),
    ("mail-in", "寄修服务", ServiceKind.REPAIR),
    ("pickup", "上门取送", ServiceKind.REPAIR),
    ("inspection", "免费检测", ServiceKind.INSPECTION),
    ("clean", "清洁保养", ServiceKind.CLEAN),
)
PHONE_SKILLS: tuple[SkillSpec, ...] = (
    ("screen", "屏幕更换"),
    ("battery", "电池更换"),
    ("mainboard", "主板维修"),
    ("water", "进水处理"),
    ("software", "系统刷机"),
    ("camera", "摄像头维修"),
    ("foldable", "折叠屏维修"),
)
PHONE_PRICES: tuple[PriceSpec, ...] = (
    ("l-diagnose", "故障检测", L, Unit.JOB, 50),
    ("l-screen", "屏幕更换工时", L, Unit.JOB, 80),
    ("l-fold-screen", "折叠屏内屏更换工时", L, Unit.JOB, 150),
    ("l-battery", "电池更换工时", L, Unit.JOB, 50),
    ("l-mainboard", "主板维修工时", L, Unit.JOB, 200),
    ("l-water", "进水清洗处理", L, Unit.JOB, 150),
    ("l-software", "系统刷机", L, Unit.JOB, 60),
    ("l-camera", "摄像头更换工时", L, Unit.JOB, 60),
    ("l-small-part", "小件更换工时", L, Unit.JOB, 40),
    ("p-screen", "屏幕总成", P, Unit.PIECE, 599),
    ("p-battery", "电池", P, Unit.PIECE, 169),
    ("p-power-ic", "电源管理芯片", P, Unit.PIECE, 180),
    ("p-charging-port", "尾插小板", P, Unit.PIECE, 89),
    ("p-rear-camera", "后置摄像头模组", P, Unit.PIECE, 329),
    ("p-earpiece", "听筒", P, Unit.PIECE, 49),
    ("m-screen-adhesive", "屏幕防水胶", MAT, Unit.PIECE, 15),
    ("m-battery-adhesive", "电池易拉胶", MAT, Unit.PIECE, 10),
    ("m-cleaning", "超声波清洗", MAT, Unit.JOB, 30),
    ("f-mail-in", "寄修往返运费", FEE, Unit.JOB, 24),
    ("f-pickup", "上门取送费", FEE, Unit.JOB, 30),
)
PHONE_FAULTS: tuple[FaultSpec, ...] = (
    (
        "screen-cracked",
        "屏幕碎裂",
        "smartphone",
        ("screen",),
        60,
        (_req("l-screen"), _req("p-screen"), _req("m-screen-adhesive")),
        "外屏或内屏破裂，显示异常、触摸失灵。",
    ),
    (
        "battery-swelling",
        "电池鼓包",
        "smartphone",
        ("battery",),
        40,
        (_req("l-battery"), _req("p-battery"), _req("m-battery-adhesive")),
        "电池膨胀顶起后盖或屏幕，续航明显下降。请停止充电。",
    ),
    (
        "no-power",
        "无法开机",
        "smartphone",
        ("mainboard",),
        180,
        (_req("l-diagnose"), _req("l-mainboard"), _opt("p-power-ic"), _opt("p-battery")),
        "按电源键无反应或卡在开机画面，需检测主板与电池。",
    ),
    (
        "water-damage",
        "手机进水",
        "smartphone",
        ("water", "mainboard"),
        240,
        (_req("l-diagnose"), _req("l-water"), _req("m-cleaning"), _opt("l-mainboard")),
        "进水或受潮后功能异常。请立即关机，不要充电。",
    ),
    (
        "no-charging",
        "无法充电",
        "smartphone",
        ("mainboard",),
        45,
        (_req("l-small-part"), _req("p-charging-port"), _opt("l-diagnose")),
        "插上充电器没有反应或接触不良。",
    ),
    (
        "camera-blurry",
        "摄像头模糊",
        "smartphone",
        ("camera",),
        45,
        (_req("l-camera"), _req("p-rear-camera")),
        "拍照模糊、对焦失败或有黑点。",
    ),
    (
        "no-sound",
        "听筒无声",
        "smartphone",
        (),
        30,
        (_req("l-small-part"), _req("p-earpiece")),
        "通话听不到对方声音或声音很小。",
    ),
    (
        "system-lag",
        "系统卡顿反复重启",
        "smartphone",
        ("software",),
        40,
        (_req("l-software"),),
        "系统卡顿、反复重启或升级失败，刷机前请备份数据。",
    ),
    (
        "fold-screen",
        "折叠屏内屏失灵",
        "foldable",
        ("foldable", "screen"),
        120,
        (_req("l-fold-screen"), _req("p-screen"), _req("m-screen-adhesive")),
        "内屏折痕处出现亮线、黑斑或触摸失灵。",
    ),
)
# code, name, district, street address, tier, service bays, hours
PHONE_OUTLETS: tuple[tuple[str, str, str, str, str, int, Hours], ...] = (
    (
        "sz-huaqiangbei",
        "星辰手机服务中心（华强北旗舰店）",
        "福田区",
        "华强北路1002号1楼",
        FLAGSHIP,
        8,
        HOURS_MALL,
    ),
    (
        "sz-futian-cbd",
        "星辰手机服务中心（福田CBD店）",
        "福田区",
        "福华三路88号B1层",
        AUTHORISED,
        4,
        HOURS_MALL,
    ),
    (
        "sz-nanshan",
        "星辰手机服务中心（南山科技园店）",
        "南山区",
        "科苑南路3099号1楼",
        AUTHORISED,
        5,
        HOURS_OFFICE,
    ),
    (
        "sz-luohu",
        "星辰手机服务中心（罗湖东门店）",
        "罗湖区",
        "东门中路2050号",
        AUTHORISED,
        3,
        HOURS_MALL,
    ),
    (
        "sz-baoan",
        "星辰手机服务中心（宝安中心店）",
        "宝安区",
        "新安六路1008号",
        AUTHORISED,
        4,
        HOURS_OFFICE,
    ),
    (
        "sz-longgang",
        "星辰手机授权服务点（龙岗大运店）",
        "龙岗区",
        "龙翔大道7188号",
        PARTNER,
        2,
        HOURS_MALL,
    ),
    (
        "sz-longhua",
        "星辰手机授权服务点（龙华民治店）",
        "龙华区",
        "民治大道336号",
        PARTNER,
        2,
        HOURS_OFFICE,
    ),
)
PHONE_CUSTOMERS = 20


def _build_phone(w: _Writer, customer_user: User) -> None:
    rng = random.Random(SEEDS["phone"])
    org = w.organization("xingchen", "星辰手机", OrganizationKind.BRAND, "400-000-1001")
    categories = w.categories(org, PHONE_CATEGORIES)
    brand = w.ensure(Brand, organization=org, code="xingchen", defaults={"name": "星辰手机"})
    phone_models = {
        code: w.ensure(
            ProductModel,
            organization=org,
            code=code,
            defaults={
                "name": name,
                "brand": brand,
                "category": categories[category],
                "warranty_months": warranty,
            },
        )
        for code, name, category, warranty, _screen, _battery in PHONE_MODELS
    }
    w.service_types(org, PHONE_SERVICES)
    skills = w.skills(org, PHONE_SKILLS)
    w.faults(org, categories, skills, PHONE_FAULTS)
    specs = {spec[0]: spec for spec in PHONE_PRICES}
    rows = _priced(rng, PHONE_PRICES)
    for code, _name, _category, _warranty, screen, battery in PHONE_MODELS:
        rows.append((specs["p-screen"], _yuan(screen), phone_models[code]))
        rows.append((specs["p-battery"], _yuan(battery), phone_models[code]))
    w.price_list(org, rows)

    outlets: list[Outlet] = []
    for code, name, district, address, tier, bays, hours in PHONE_OUTLETS:
        _name, lat, lon, _streets = _district(SHENZHEN, district)
        latitude, longitude = _near(rng, lat, lon, 0.01)
        served = [categories["phone"], categories["smartphone"]]
        if tier != PARTNER:
            served += [categories["foldable"], categories["tablet"], categories["wearable"]]
        outlets.append(
            w.outlet(
                org,
                code,
                hours=hours,
                categories=served,
                brands=[brand],
                name=name,
                phone=f"0755-{rng.randint(2000, 8999)}{rng.randint(1000, 9999)}",
                province="广东省",
                city="深圳市",
                district=district,
                address=address,
                latitude=latitude,
                longitude=longitude,
                certification_tier=tier,
                service_bays=bays,
            )
        )

    # One technician per outlet; the flagship also repairs foldables.
    phones = _mobiles(rng, "1361000", len(outlets))
    for index, outlet in enumerate(outlets):
        levels = {"screen": rng.randint(3, 5), "battery": rng.randint(3, 5)}
        for extra in rng.sample(["mainboard", "water", "software", "camera"], 2):
            levels[extra] = rng.randint(2, 5)
        if index == 0:
            levels["foldable"] = 4
        w.technician(
            org,
            phone=phones[index],
            name=_person_name(rng),
            home=_near(rng, float(outlet.latitude), float(outlet.longitude), 0.03),
            outlet=outlet,
            skills={skills[code]: level for code, level in levels.items()},
        )

    w.grant(w.login_user("phone_admin"), org, Role.ADMIN)
    w.grant(w.login_user("outlet_manager"), org, Role.OUTLET_MANAGER, outlet=outlets[0])

    handsets = [code for code, _n, category, *_rest in PHONE_MODELS if category != "wearable"]
    for phone, name, user in _people(rng, "1371000", PHONE_CUSTOMERS, customer_user):
        customer = w.customer(org, phone=phone, name=name, user=user)
        _customer_addresses(w, rng, customer, province="广东省", city="深圳市", districts=SHENZHEN)
        owned = ["x20-pro"] if user else rng.sample(handsets, rng.choice((1, 1, 2)))
        for code in owned:
            model = phone_models[code]
            purchased = _day_between(rng, dt.date(2024, 1, 1), dt.date(2026, 9, 30))
            imei = _imei(rng, code)
            serial = f"XC{code.upper().replace('-', '')}{rng.randint(10**7, 10**8 - 1)}"
            identifier = {"key": "imei", "imei": imei}
            if model.category_id == categories["tablet"].pk:  # Wi-Fi tablets have no IMEI
                identifier = {"key": "serial_number", "serial_number": serial}
            w.asset(
                customer,
                category_id=model.category_id,
                brand=brand,
                product_model=model,
                purchased_on=purchased,
                **identifier,
            )


# --- home appliances: 清风家电 + 安家家电服务 + 速修到家, 杭州 ----------------------------------

APPLIANCE_CATEGORIES: tuple[CategorySpec, ...] = (
    ("appliance", "家电", None),
    ("ac", "空调", "appliance"),
    ("ac-split", "挂式空调", "ac"),
    ("ac-floor", "柜式空调", "ac"),
    ("fridge", "冰箱", "appliance"),
    ("washer", "洗衣机", "appliance"),
    ("water-heater", "热水器", "appliance"),
)
# code, name, category, warranty months, serial prefix
APPLIANCE_MODELS: tuple[tuple[str, str, str, int, str], ...] = (
    ("kfr-26gw", "静享 KFR-26GW 挂式空调", "ac-split", 72, "KFR26"),
    ("kfr-35gw", "静享 KFR-35GW 挂式空调", "ac-split", 72, "KFR35"),
    ("kfr-72lw", "凌云 KFR-72LW 柜式空调", "ac-floor", 72, "KFR72"),
    ("bcd-218", "鲜语 BCD-218 三门冰箱", "fridge", 36, "BCD218"),
    ("bcd-460", "鲜语 BCD-460 对开门冰箱", "fridge", 36, "BCD460"),
    ("xqg100", "净澈 XQG100 滚筒洗衣机", "washer", 36, "XQG100"),
    ("xqb80", "净澈 XQB80 波轮洗衣机", "washer", 36, "XQB80"),
    ("jsq25", "暖泉 JSQ25-13 燃气热水器", "water-heater", 36, "JSQ25"),
    ("f6030", "暖泉 F6030 电热水器", "water-heater", 36, "F6030"),
)
APPLIANCE_SERVICES: tuple[ServiceSpec, ...] = (
    ("home-repair", "上门维修", ServiceKind.REPAIR),
    ("install", "新机安装", ServiceKind.INSTALL),
    ("ac-clean", "空调清洗", ServiceKind.CLEAN),
    ("maintenance", "年度保养", ServiceKind.MAINTENANCE),
    ("inspection", "故障检测", ServiceKind.INSPECTION),
)
APPLIANCE_SKILLS: tuple[SkillSpec, ...] = (
    ("ac-cooling", "空调制冷"),
    ("ac-install", "空调安装"),
    ("fridge-compressor", "冰箱压缩机"),
    ("washer", "洗衣机"),
    ("water-heater", "热水器"),
    ("control-board", "电控板维修"),
    ("high-altitude", "高空作业"),
)
APPLIANCE_PRICES: tuple[PriceSpec, ...] = (
    ("f-visit", "上门服务费", FEE, Unit.JOB, 50),
    ("f-high-altitude", "高空作业费", FEE, Unit.JOB, 100),
    ("l-ac-refrigerant", "空调加冷媒工时", L, Unit.JOB, 120),
    ("l-ac-leak", "空调漏点检修", L, Unit.JOB, 180),
    ("l-ac-drain", "排水管疏通", L, Unit.JOB, 80),
    ("l-ac-fan", "风机更换工时", L, Unit.JOB, 150),
    ("l-ac-install", "空调安装（挂机）", L, Unit.JOB, 200),
    ("l-fridge-compressor", "压缩机更换工时", L, Unit.JOB, 350),
    ("l-fridge-defrost", "化霜系统检修", L, Unit.JOB, 150),
    ("l-washer-drain", "排水系统检修", L, Unit.JOB, 100),
    ("l-washer-bearing", "轴承更换工时", L, Unit.JOB, 260),
    ("l-washer-seal", "门封更换工时", L, Unit.JOB, 80),
    ("l-heater-ignition", "点火系统检修", L, Unit.JOB, 120),
    ("l-heater-element", "加热管更换工时", L, Unit.JOB, 100),
    ("l-board", "电脑板更换工时", L, Unit.JOB, 100),
    ("p-ac-capacitor", "压缩机启动电容", P, Unit.PIECE, 45),
    ("p-ac-fan-motor", "室外风机电机", P, Unit.PIECE, 280),
    ("p-ac-board", "空调主控板", P, Unit.PIECE, 360),
    ("p-fridge-compressor", "冰箱压缩机", P, Unit.PIECE, 680),
    ("p-fridge-filter", "干燥过滤器", P, Unit.PIECE, 25),
    ("p-defrost-heater", "化霜加热丝", P, Unit.PIECE, 85),
    ("p-defrost-sensor", "化霜温控器", P, Unit.PIECE, 45),
    ("p-drain-pump", "排水泵", P, Unit.PIECE, 120),
    ("p-washer-bearing", "滚筒轴承套件", P, Unit.PIECE, 180),
    ("p-door-seal", "门封圈", P, Unit.PIECE, 150),
    ("p-igniter", "脉冲点火器", P, Unit.PIECE, 90),
    ("p-heater-element", "电加热管", P, Unit.PIECE, 160),
    ("p-anode", "镁棒", P, Unit.PIECE, 60),
    ("m-r32", "R32 冷媒（1 kg）", MAT, Unit.PIECE, 150),
    ("m-r600a", "R600a 冷媒", MAT, Unit.PIECE, 80),
    ("m-copper-pipe", "铜管", MAT, Unit.METRE, 45),
    ("m-drain-hose", "排水管", MAT, Unit.METRE, 10),
    ("m-brazing", "银焊条", MAT, Unit.PIECE, 20),
    ("m-sealant", "密封胶", MAT, Unit.PIECE, 15),
)
APPLIANCE_FAULTS: tuple[FaultSpec, ...] = (
    (
        "ac-no-cooling",
        "空调不制冷",
        "ac",
        ("ac-cooling",),
        90,
        (
            _req("f-visit"),
            _req("l-ac-refrigerant"),
            _req("m-r32"),
            _opt("l-ac-leak"),
            _opt("p-ac-capacitor"),
            _opt("f-high-altitude"),
        ),
        "开机后出风不凉，外机不启动或结霜。",
    ),
    (
        "ac-leaking",
        "空调漏水",
        "ac",
        ("ac-install",),
        60,
        (_req("f-visit"), _req("l-ac-drain"), _opt("m-drain-hose", "2")),
        "室内机滴水，排水管堵塞或坡度不对。",
    ),
    (
        "ac-outdoor-noise",
        "空调外机异响",
        "ac",
        ("ac-cooling", "high-altitude"),
        90,
        (_req("f-visit"), _req("l-ac-fan"), _req("p-ac-fan-motor"), _opt("f-high-altitude")),
        "外机运行时有明显摩擦声或振动。",
    ),
    (
        "ac-error-code",
        "空调显示故障代码",
        "ac",
        ("control-board",),
        60,
        (_req("f-visit"), _req("l-board"), _opt("p-ac-board")),
        "显示屏出现 E1、F3 等代码，空调停机。",
    ),
    (
        "fridge-no-cooling",
        "冰箱不制冷",
        "fridge",
        ("fridge-compressor",),
        180,
        (
            _req("f-visit"),
            _req("l-fridge-compressor"),
            _req("p-fridge-compressor"),
            _req("p-fridge-filter"),
            _req("m-r600a"),
            _req("m-brazing"),
        ),
        "冷藏冷冻都不冷，压缩机不启动或一直运行。",
    ),
    (
        "fridge-frost",
        "冰箱结霜严重",
        "fridge",
        ("control-board",),
        90,
        (
            _req("f-visit"),
            _req("l-fridge-defrost"),
            _req("p-defrost-sensor"),
            _opt("p-defrost-heater"),
        ),
        "冷冻室后壁结厚霜，风冷冰箱不化霜。",
    ),
    (
        "washer-no-drain",
        "洗衣机不排水",
        "washer",
        ("washer",),
        60,
        (_req("f-visit"), _req("l-washer-drain"), _opt("p-drain-pump")),
        "洗完不排水，提示排水故障。",
    ),
    (
        "washer-noise",
        "洗衣机脱水异响",
        "washer",
        ("washer",),
        150,
        (_req("f-visit"), _req("l-washer-bearing"), _req("p-washer-bearing"), _req("m-sealant")),
        "脱水时轰鸣或金属摩擦声，滚筒晃动。",
    ),
    (
        "washer-door-leak",
        "洗衣机门封漏水",
        "washer",
        ("washer",),
        45,
        (_req("f-visit"), _req("l-washer-seal"), _req("p-door-seal")),
        "洗衣时门口漏水，门封破损。",
    ),
    (
        "heater-no-ignition",
        "燃气热水器不点火",
        "water-heater",
        ("water-heater",),
        60,
        (_req("f-visit"), _req("l-heater-ignition"), _opt("p-igniter")),
        "开热水有打火声但不着火，或完全没有反应。",
    ),
    (
        "heater-no-heat",
        "电热水器不加热",
        "water-heater",
        ("water-heater",),
        60,
        (_req("f-visit"), _req("l-heater-element"), _req("p-heater-element"), _opt("p-anode")),
        "通电后水温不升，指示灯不亮。",
    ),
)
# Model-specific part prices of the brand.
APPLIANCE_MODEL_PRICES: tuple[tuple[str, str, int], ...] = (
    ("kfr-26gw", "p-ac-board", 320),
    ("kfr-35gw", "p-ac-board", 360),
    ("kfr-72lw", "p-ac-board", 520),
    ("bcd-218", "p-fridge-compressor", 620),
    ("bcd-460", "p-fridge-compressor", 880),
)
# organisation code, name, kind, hotline, price factor, engineers, outlets
# (outlet code, name, district, street address, tier, bays)
ApplianceOutlet = tuple[str, str, str, str, str, int]
APPLIANCE_ORGS: tuple[tuple[str, str, str, str, float, int, tuple[ApplianceOutlet, ...]], ...] = (
    (
        "qingfeng",
        "清风家电",
        OrganizationKind.BRAND,
        "400-000-2001",
        1.0,
        12,
        (
            ("hz-binjiang", "清风家电杭州服务中心", "滨江区", "江南大道588号", FLAGSHIP, 6),
            ("hz-xihu", "清风家电城西服务站", "西湖区", "文三路259号", AUTHORISED, 3),
        ),
    ),
    (
        "anjia",
        "安家家电服务",
        OrganizationKind.PROVIDER,
        "0571-8800-2002",
        0.92,
        12,
        (
            ("hz-gongshu", "安家家电服务（拱墅站）", "拱墅区", "湖墅南路186号", AUTHORISED, 4),
            ("hz-xiaoshan", "安家家电服务（萧山站）", "萧山区", "金城路1038号", AUTHORISED, 3),
            ("hz-linping", "安家家电服务（临平站）", "临平区", "迎宾路368号", PARTNER, 2),
        ),
    ),
    (
        "suxiu",
        "速修到家",
        OrganizationKind.PROVIDER,
        "0571-8600-3003",
        0.85,
        10,
        (
            ("hz-yuhang", "速修到家（未来科技城站）", "余杭区", "文一西路998号", PARTNER, 3),
            ("hz-shangcheng", "速修到家（上城站）", "上城区", "秋涛路258号", PARTNER, 2),
        ),
    ),
)
# An engineer's main trade: skill codes, the first one being the strongest.
APPLIANCE_TRADES: tuple[tuple[str, ...], ...] = (
    ("ac-cooling", "ac-install", "high-altitude"),
    ("fridge-compressor", "control-board"),
    ("washer", "control-board"),
    ("water-heater", "control-board"),
    ("ac-install", "ac-cooling", "high-altitude"),
)
APPLIANCE_CUSTOMERS = 24


def _build_appliance(w: _Writer, customer_user: User) -> None:
    rng = random.Random(SEEDS["appliance"])
    brand_org: Organization | None = None
    brand_categories: dict[str, ProductCategory] = {}
    brand: Brand | None = None
    appliance_models: dict[str, ProductModel] = {}
    specs = {spec[0]: spec for spec in APPLIANCE_PRICES}
    phones = iter(_mobiles(rng, "1362000", sum(row[5] for row in APPLIANCE_ORGS)))
    for code, name, kind, hotline, factor, engineers, outlet_specs in APPLIANCE_ORGS:
        # Providers serve in the brand's network: the brand can hand them its work orders.
        org = w.organization(code, name, kind, hotline, parent=brand_org)
        w.service_types(
            org, APPLIANCE_SERVICES if kind == OrganizationKind.BRAND else APPLIANCE_SERVICES[:3]
        )
        # Providers keep their own skill tags (a technician's skills belong to their employer).
        skills = w.skills(org, APPLIANCE_SKILLS)
        rows = _priced(rng, APPLIANCE_PRICES, factor, 0.0 if brand_org is None else 0.06)
        if brand_org is None:
            # The brand owns the product catalog: categories, models and fault types.
            brand_org = org
            brand_categories = w.categories(org, APPLIANCE_CATEGORIES)
            brand = w.ensure(
                Brand, organization=org, code="qingfeng", defaults={"name": "清风家电"}
            )
            for model_code, model_name, category, warranty, _prefix in APPLIANCE_MODELS:
                appliance_models[model_code] = w.ensure(
                    ProductModel,
                    organization=org,
                    code=model_code,
                    defaults={
                        "name": model_name,
                        "brand": brand,
                        "category": brand_categories[category],
                        "warranty_months": warranty,
                    },
                )
            w.faults(org, brand_categories, skills, APPLIANCE_FAULTS)
            rows += [
                (specs[item], _yuan(price), appliance_models[model_code])
                for model_code, item, price in APPLIANCE_MODEL_PRICES
            ]
        w.price_list(org, rows)
        assert brand is not None

        outlets: list[Outlet] = []
        for outlet_code, outlet_name, district, address, tier, bays in outlet_specs:
            _d, lat, lon, _streets = _district(HANGZHOU, district)
            latitude, longitude = _near(rng, lat, lon, 0.01)
            outlets.append(
                w.outlet(
                    org,
                    outlet_code,
                    hours=HOURS_STATION,
                    # Providers' stations are matched against the brand's categories and brand.
                    categories=[
                        brand_categories[c]
                        for c in ("appliance", "ac", "fridge", "washer", "water-heater")
                    ],
                    brands=[brand],
                    name=outlet_name,
                    phone=f"0571-{rng.randint(8000, 8999)}{rng.randint(1000, 9999)}",
                    province="浙江省",
                    city="杭州市",
                    district=district,
                    address=address,
                    latitude=latitude,
                    longitude=longitude,
                    certification_tier=tier,
                    service_bays=bays,
                )
            )

        for index in range(engineers):
            phone, name = next(phones), _person_name(rng)
            trade = APPLIANCE_TRADES[index % len(APPLIANCE_TRADES)]
            levels = {trade[0]: rng.randint(3, 5)}
            for extra in trade[1:]:
                if rng.random() < 0.7:
                    levels[extra] = rng.randint(1, 5)
            outlet = rng.choice(outlets) if rng.random() < 0.6 else None
            if outlet is not None:
                home = _near(rng, float(outlet.latitude), float(outlet.longitude), 0.04)
            else:
                _d, lat, lon, _streets = rng.choice(HANGZHOU)
                home = _near(rng, lat, lon, 0.03)
            if org is brand_org and index == 0:
                # The demo technician login: an air-conditioning engineer of the brand.
                spec = _LOGIN["technician"]
                phone, name, outlet = spec.e164, spec.display_name, outlets[0]
                levels = {"ac-cooling": 4, "ac-install": 5, "high-altitude": 3}
            w.technician(
                org,
                phone=phone,
                name=name,
                home=home,
                outlet=outlet,
                skills={skills[skill]: level for skill, level in levels.items()},
            )

    assert brand_org is not None and brand is not None
    w.grant(w.login_user("agent"), brand_org, Role.AGENT)
    w.grant(w.login_user("finance"), brand_org, Role.FINANCE)
    w.grant(w.login_user("auditor"), brand_org, Role.AUDITOR)

    model_codes = [row[0] for row in APPLIANCE_MODELS]
    prefixes = {row[0]: row[4] for row in APPLIANCE_MODELS}
    for phone, name, user in _people(rng, "1372000", APPLIANCE_CUSTOMERS, customer_user):
        customer = w.customer(brand_org, phone=phone, name=name, user=user)
        _customer_addresses(w, rng, customer, province="浙江省", city="杭州市", districts=HANGZHOU)
        owned = ["kfr-35gw", "bcd-460"] if user else rng.sample(model_codes, rng.randint(1, 3))
        for model_code in owned:
            model = appliance_models[model_code]
            purchased = _day_between(rng, dt.date(2020, 3, 1), dt.date(2026, 8, 31))
            serial = f"QF{prefixes[model_code]}{purchased:%y%m}{rng.randint(0, 999999):06d}"
            # Air conditioners are named after their room.
            room = rng.choice(("", "客厅", "主卧", "次卧", "书房"))
            w.asset(
                customer,
                key="serial_number",
                serial_number=serial,
                category_id=model.category_id,
                brand=brand,
                product_model=model,
                nickname=room if model_code.startswith("kfr") else "",
                purchased_on=purchased,
            )


# --- car repair: 快修养车 platform + merchant workshops, 成都 ----------------------------------

AUTO_CATEGORIES: tuple[CategorySpec, ...] = (
    ("car", "汽车", None),
    ("sedan", "轿车", "car"),
    ("suv", "SUV", "car"),
    ("nev", "新能源", "car"),
    ("bev", "纯电动", "nev"),
    ("phev", "插电混动", "nev"),
)
# code, name, world manufacturer identifier
AUTO_BRANDS: tuple[tuple[str, str, str], ...] = (
    ("deman", "德曼汽车", "LDM"),
    ("laiyin", "莱茵汽车", "LRY"),
    ("yingye", "樱野汽车", "LYY"),
    ("yuanhang", "远航汽车", "LYH"),
    ("lanjing", "蓝鲸新能源", "LJX"),
)
# code, name, brand, category, warranty months
AUTO_MODELS: tuple[tuple[str, str, str, str, int], ...] = (
    ("deman-d5", "德曼 D5", "deman", "sedan", 36),
    ("deman-x3", "德曼 X3", "deman", "suv", 36),
    ("laiyin-r7", "莱茵 R7", "laiyin", "sedan", 36),
    ("yingye-lingfeng", "樱野 凌风", "yingye", "sedan", 36),
    ("yingye-shanlan", "樱野 山岚", "yingye", "suv", 36),
    ("yuanhang-v6", "远航 V6", "yuanhang", "suv", 60),
    ("lanjing-e7", "蓝鲸 E7", "lanjing", "bev", 48),
    ("lanjing-h5", "蓝鲸 H5", "lanjing", "phev", 48),
)
AUTO_SERVICES: tuple[ServiceSpec, ...] = (
    ("repair", "故障维修", ServiceKind.REPAIR),
    ("maintenance", "常规保养", ServiceKind.MAINTENANCE),
    ("inspection", "车辆检测", ServiceKind.INSPECTION),
    ("rescue", "道路救援", ServiceKind.RESCUE),
    ("bodywork", "钣金喷漆", ServiceKind.REPAIR),
    ("detailing", "精洗美容", ServiceKind.CLEAN),
)
AUTO_SKILLS: tuple[SkillSpec, ...] = (
    ("german", "德系车专修"),
    ("japanese", "日系车专修"),
    ("nev-3e", "新能源三电"),
    ("engine", "发动机维修"),
    ("gearbox", "变速箱维修"),
    ("bodywork", "钣金喷漆"),
    ("car-ac", "汽车空调"),
    ("electrical", "电路诊断"),
    ("alignment", "四轮定位"),
)
AUTO_PRICES: tuple[PriceSpec, ...] = (
    ("l-brake", "刹车片更换工时", L, Unit.JOB, 80),
    ("l-oil-change", "机油机滤更换工时", L, Unit.JOB, 60),
    ("l-engine-diagnose", "发动机故障诊断", L, Unit.JOB, 150),
    ("l-timing-chain", "正时链条更换工时", L, Unit.JOB, 1200),
    ("l-oil-leak", "油底壳垫更换工时", L, Unit.JOB, 300),
    ("l-ac-recharge", "空调加注冷媒工时", L, Unit.JOB, 100),
    ("l-ac-compressor", "空调压缩机更换工时", L, Unit.JOB, 450),
    ("l-gearbox-service", "变速箱保养工时", L, Unit.JOB, 300),
    ("l-hv-diagnose", "高压系统诊断", L, Unit.JOB, 300),
    ("l-battery-module", "动力电池模组更换工时", L, Unit.JOB, 1500),
    ("l-motor-service", "驱动电机检修", L, Unit.JOB, 800),
    ("l-12v-battery", "蓄电池更换工时", L, Unit.JOB, 30),
    ("l-alignment", "四轮定位", L, Unit.JOB, 120),
    ("l-panel", "钣金修复（每面）", L, Unit.JOB, 350),
    ("l-paint", "喷漆工时（每面）", L, Unit.JOB, 250),
    ("l-hour", "通用工时", L, Unit.HOUR, 150),
    ("p-brake-pad-front", "前刹车片（一套）", P, Unit.PIECE, 380),
    ("p-brake-disc-front", "前刹车盘", P, Unit.PIECE, 450),
    ("p-oil-filter", "机油滤清器", P, Unit.PIECE, 45),
    ("p-spark-plug", "火花塞", P, Unit.PIECE, 65),
    ("p-timing-kit", "正时链条套件", P, Unit.PIECE, 2800),
    ("p-oil-pan-gasket", "油底壳垫", P, Unit.PIECE, 120),
    ("p-ac-compressor", "空调压缩机", P, Unit.PIECE, 2600),
    ("p-expansion-valve", "空调膨胀阀", P, Unit.PIECE, 260),
    ("p-gearbox-filter", "变速箱滤芯", P, Unit.PIECE, 260),
    ("p-battery-module", "动力电池模组", P, Unit.PIECE, 6800),
    ("p-hv-fuse", "高压保险", P, Unit.PIECE, 380),
    ("p-motor-bearing", "驱动电机轴承", P, Unit.PIECE, 420),
    ("p-12v-battery", "12V 蓄电池", P, Unit.PIECE, 560),
    ("p-tie-rod-end", "转向横拉杆球头", P, Unit.PIECE, 260),
    ("p-clips", "卡扣饰条", P, Unit.PIECE, 30),
    ("m-engine-oil", "全合成机油", MAT, Unit.LITRE, 98),
    ("m-brake-fluid", "DOT4 刹车油", MAT, Unit.LITRE, 80),
    ("m-atf", "自动变速箱油", MAT, Unit.LITRE, 120),
    ("m-cvt-fluid", "CVT 专用油", MAT, Unit.LITRE, 140),
    ("m-refrigerant", "R134a 冷媒（瓶）", MAT, Unit.PIECE, 60),
    ("m-coolant", "冷却液", MAT, Unit.LITRE, 40),
    ("m-carbon-cleaner", "积碳清洗剂", MAT, Unit.PIECE, 68),
    ("m-paint", "汽车漆（每面）", MAT, Unit.JOB, 300),
    ("m-sealant", "密封胶", MAT, Unit.PIECE, 35),
    ("m-grease", "润滑脂", MAT, Unit.PIECE, 25),
    ("m-insulation-tape", "高压绝缘胶带", MAT, Unit.PIECE, 40),
    ("m-terminal-protect", "电极保护剂", MAT, Unit.PIECE, 20),
    ("f-rescue", "救援出车费", FEE, Unit.JOB, 200),
    ("f-towing", "拖车里程费", FEE, Unit.KILOMETRE, 12),
)
AUTO_FAULTS: tuple[FaultSpec, ...] = (
    (
        "brake-wear",
        "刹车片磨损",
        "car",
        (),
        60,
        (
            _req("l-brake"),
            _req("p-brake-pad-front"),
            _req("m-brake-fluid"),
            _opt("p-brake-disc-front", "2"),
        ),
        "刹车有金属摩擦声，仪表刹车片报警。",
    ),
    (
        "oil-leak",
        "发动机漏油",
        "car",
        ("engine",),
        240,
        (
            _req("l-engine-diagnose"),
            _req("l-oil-leak"),
            _req("p-oil-pan-gasket"),
            _req("m-sealant"),
            _req("m-engine-oil", "4.5"),
        ),
        "车位地面有油渍，机油液位下降。",
    ),
    (
        "timing-chain",
        "正时链条异响（德系）",
        "car",
        ("german", "engine"),
        480,
        (
            _req("l-engine-diagnose"),
            _req("l-timing-chain"),
            _req("p-timing-kit"),
            _req("m-engine-oil", "5"),
            _req("m-sealant"),
        ),
        "冷启动时发动机有哗啦声，严重时故障灯亮。",
    ),
    (
        "engine-light",
        "发动机故障灯亮",
        "car",
        ("electrical",),
        90,
        (_req("l-engine-diagnose"), _opt("p-spark-plug", "4"), _req("m-carbon-cleaner")),
        "仪表发动机故障灯常亮，加速无力或抖动。",
    ),
    (
        "ac-no-cooling",
        "汽车空调不制冷",
        "car",
        ("car-ac",),
        120,
        (
            _req("l-ac-recharge"),
            _req("m-refrigerant", "2"),
            _opt("p-expansion-valve"),
            _opt("p-ac-compressor"),
            _opt("l-ac-compressor"),
        ),
        "空调出风不凉，压缩机不吸合。",
    ),
    (
        "gearbox-jerk",
        "变速箱换挡顿挫",
        "car",
        ("gearbox",),
        180,
        (_req("l-gearbox-service"), _req("p-gearbox-filter"), _req("m-atf", "6")),
        "升降挡冲击明显，低速顿挫。",
    ),
    (
        "cvt-whine",
        "CVT 变速箱异响（日系）",
        "car",
        ("japanese", "gearbox"),
        180,
        (_req("l-gearbox-service"), _req("p-gearbox-filter"), _req("m-cvt-fluid", "5")),
        "加速时有嗡嗡声，转速高车速上不去。",
    ),
    (
        "hv-battery",
        "动力电池故障",
        "nev",
        ("nev-3e",),
        480,
        (
            _req("l-hv-diagnose"),
            _req("p-hv-fuse"),
            _opt("l-battery-module"),
            _opt("p-battery-module"),
            _req("m-coolant", "4"),
            _req("m-insulation-tape"),
        ),
        "仪表提示动力电池故障，续航骤降或无法上高压。",
    ),
    (
        "motor-noise",
        "驱动电机异响",
        "nev",
        ("nev-3e",),
        300,
        (_req("l-hv-diagnose"), _req("l-motor-service"), _req("p-motor-bearing"), _req("m-grease")),
        "行驶中电机有啸叫或金属声。",
    ),
    (
        "12v-battery",
        "蓄电池亏电无法启动",
        "car",
        ("electrical",),
        30,
        (_req("l-12v-battery"), _req("p-12v-battery"), _req("m-terminal-protect")),
        "打不着火，仪表灯暗，需要搭电。",
    ),
    (
        "pulling",
        "车辆跑偏",
        "car",
        ("alignment",),
        60,
        (_req("l-alignment"), _opt("p-tie-rod-end", "2"), _req("m-grease")),
        "松开方向盘车辆向一侧偏，轮胎偏磨。",
    ),
    (
        "body-scratch",
        "车身刮擦",
        "car",
        ("bodywork",),
        1440,
        (_req("l-panel"), _req("l-paint"), _opt("p-clips", "4"), _req("m-paint")),
        "车身漆面刮花或凹陷，按面计价。",
    ),
)
# Model-specific platform prices (German pads and the EV's module cost more).
AUTO_MODEL_PRICES: tuple[tuple[str, str, int], ...] = (
    ("deman-d5", "p-brake-pad-front", 520),
    ("deman-x3", "p-brake-pad-front", 580),
    ("laiyin-r7", "p-brake-pad-front", 560),
    ("lanjing-e7", "p-battery-module", 7600),
    ("lanjing-h5", "p-battery-module", 5200),
)
SPECIALTIES: dict[str, tuple[str, ...]] = {
    "general": ("engine", "car-ac", "electrical", "alignment", "gearbox"),
    "german": ("german", "engine", "gearbox", "electrical"),
    "japanese": ("japanese", "gearbox", "engine", "car-ac"),
    "nev": ("nev-3e", "electrical", "car-ac"),
    "bodywork": ("bodywork", "alignment"),
}
# code, name, district, street address, specialty, tier, bays
AUTO_MERCHANTS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("kxyc-jinjiang", "锦江车之道汽车维修", "锦江区", "锦华路一段88号", "general", AUTHORISED, 6),
    ("kxyc-qingyang", "青羊德工汽车服务", "青羊区", "清江东路216号", "german", FLAGSHIP, 8),
    ("kxyc-jinniu", "金牛驰远汽修厂", "金牛区", "金府路555号", "general", PARTNER, 5),
    ("kxyc-wuhou", "武侯电驰新能源汽车服务", "武侯区", "武侯大道铁佛段128号", "nev", FLAGSHIP, 6),
    ("kxyc-chenghua", "成华老杨汽修", "成华区", "双林路312号", "general", PARTNER, 3),
    ("kxyc-gaoxin", "高新精工汽车服务中心", "高新区", "府城大道西段399号", "german", AUTHORISED, 8),
    (
        "kxyc-longquanyi",
        "龙泉驿速达养车",
        "龙泉驿区",
        "驿都大道中路666号",
        "japanese",
        AUTHORISED,
        4,
    ),
    ("kxyc-shuangliu", "双流航港汽修", "双流区", "西航港大道二段108号", "general", PARTNER, 4),
    ("kxyc-pidu", "郫都安途钣喷中心", "郫都区", "望丛中路266号", "bodywork", PARTNER, 3),
    ("kxyc-wenjiang", "温江蓉城车护", "温江区", "凤凰北大街188号", "japanese", AUTHORISED, 4),
    ("kxyc-xindu", "新都顺风新能源汽修", "新都区", "新都大道南段77号", "nev", AUTHORISED, 5),
)
AUTO_CUSTOMERS = 22


def _build_auto(w: _Writer, customer_user: User, superuser: User) -> None:
    rng = random.Random(SEEDS["auto"])
    platform = w.organization("kuaixiu", "快修养车", OrganizationKind.PLATFORM, "400-000-3001")
    categories = w.categories(platform, AUTO_CATEGORIES)
    brands = {
        code: w.ensure(Brand, organization=platform, code=code, defaults={"name": name})
        for code, name, _wmi in AUTO_BRANDS
    }
    car_models = {
        code: w.ensure(
            ProductModel,
            organization=platform,
            code=code,
            defaults={
                "name": name,
                "brand": brands[brand],
                "category": categories[category],
                "warranty_months": warranty,
            },
        )
        for code, name, brand, category, warranty in AUTO_MODELS
    }
    w.service_types(platform, AUTO_SERVICES)
    platform_skills = w.skills(platform, AUTO_SKILLS)
    w.faults(platform, categories, platform_skills, AUTO_FAULTS)
    specs = {spec[0]: spec for spec in AUTO_PRICES}
    rows = _priced(rng, AUTO_PRICES)
    rows += [
        (specs[item], _yuan(price), car_models[model]) for model, item, price in AUTO_MODEL_PRICES
    ]
    w.price_list(platform, rows)
    w.grant(superuser, platform, Role.ADMIN)

    by_specialty_brands = {
        "german": ("deman", "laiyin"),
        "japanese": ("yingye",),
        "nev": ("lanjing", "yuanhang"),
    }
    by_specialty_categories = {
        "german": ("car", "sedan", "suv"),
        "japanese": ("car", "sedan", "suv"),
        "nev": ("car", "nev", "bev", "phev"),
    }
    phones = _mobiles(rng, "1363000", 4 * len(AUTO_MERCHANTS))
    for index, (code, name, district, address, specialty, tier, bays) in enumerate(AUTO_MERCHANTS):
        merchant = w.organization(
            code,
            name,
            OrganizationKind.MERCHANT,
            f"028-{rng.randint(8000, 8799)}{rng.randint(1000, 9999)}",
            parent=platform,
        )
        # The workshop's own price list: the platform's codes at its own rates.
        w.price_list(merchant, _priced(rng, AUTO_PRICES, rng.uniform(0.85, 1.2), 0.05))
        # Its mechanics' skills are its own tags, mirroring the platform's.
        skills = w.skills(merchant, AUTO_SKILLS)
        _d, lat, lon, _streets = _district(CHENGDU, district)
        latitude, longitude = _near(rng, lat, lon, 0.012)
        outlet = w.outlet(
            merchant,
            "main",
            hours=HOURS_WORKSHOP,
            # Matched by the platform, so the outlet serves the platform's categories and brands.
            categories=[
                categories[c]
                for c in by_specialty_categories.get(specialty, [row[0] for row in AUTO_CATEGORIES])
            ],
            brands=[brands[b] for b in by_specialty_brands.get(specialty, list(brands))],
            name=name,
            phone=merchant.contact_phone,
            province="四川省",
            city="成都市",
            district=district,
            address=address,
            latitude=latitude,
            longitude=longitude,
            certification_tier=tier,
            service_bays=bays,
        )
        pool = SPECIALTIES[specialty]
        for mechanic in range(2 + (bays >= 5) + (bays >= 8)):
            levels = {pool[mechanic % len(pool)]: rng.randint(3, 5)}
            for extra in rng.sample(SPECIALTIES["general"], rng.randint(1, 2)):
                levels.setdefault(extra, rng.randint(2, 5))
            w.technician(
                merchant,
                phone=phones[index * 4 + mechanic],
                name=_person_name(rng),
                home=_near(rng, lat, lon, 0.05),
                outlet=outlet,
                skills={skills[skill]: level for skill, level in levels.items()},
            )
        if index == 0:
            w.grant(w.login_user("merchant_admin"), merchant, Role.ADMIN)

    wmi = {code: prefix for code, _name, prefix in AUTO_BRANDS}
    model_codes = [row[0] for row in AUTO_MODELS]
    for phone, name, user in _people(rng, "1373000", AUTO_CUSTOMERS, customer_user):
        customer = w.customer(platform, phone=phone, name=name, user=user)
        _customer_addresses(w, rng, customer, province="四川省", city="成都市", districts=CHENGDU)
        owned = ["lanjing-e7"] if user else rng.sample(model_codes, rng.choice((1, 1, 1, 2)))
        for model_code in owned:
            model = car_models[model_code]
            purchased = _day_between(rng, dt.date(2019, 1, 1), dt.date(2026, 6, 30))
            brand_code = next(row[2] for row in AUTO_MODELS if row[0] == model_code)
            category_code = next(row[3] for row in AUTO_MODELS if row[0] == model_code)
            w.asset(
                customer,
                key="vin",
                vin=_vin(rng, wmi[brand_code], purchased.year),
                category_id=model.category_id,
                brand=brands[brand_code],
                product_model=model,
                plate_number=_plate(rng, category_code),
                purchased_on=purchased,
            )


# --- work orders: every order driven through the services, so each has a real timeline --------

S = WorkOrderStatus
SUBMITTED, ACCEPTED, ASSIGNED, SCHEDULED = S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.SCHEDULED
IN_SERVICE, ON_HOLD, COMPLETED, CLOSED, CANCELLED = (
    S.IN_SERVICE,
    S.ON_HOLD,
    S.COMPLETED,
    S.CLOSED,
    S.CANCELLED,
)
WEB, WECHAT, CALL, APP = Channel.WEB, Channel.WECHAT, Channel.PHONE, Channel.APP
NORMAL, HIGH, URGENT = Priority.NORMAL, Priority.HIGH, Priority.URGENT

# How far along the usual path each status is (on hold and cancelled depend on the order).
_STAGE: dict[str, int] = {
    SUBMITTED: 0,
    ACCEPTED: 1,
    ASSIGNED: 2,
    SCHEDULED: 3,
    IN_SERVICE: 4,
    COMPLETED: 5,
    CLOSED: 6,
}


@dataclass(frozen=True)
class _OrderSpec:
    """One demo work order: where its path through the services stops, and what it is about.

    ``where`` is the outlet (phone), the workshop (car) or who serves it (appliance: "T" for the
    demo technician, else an organisation code). ``at`` is the preferred window, which becomes
    the appointment of scheduled orders: "today" / "today2" (later today) or "d<days>-<hour>".
    ``variant``: "declined" (a first engineer gives it back), "absent" (the customer was not in;
    rebooked), "hospital" (an urgent order at a hospital), "held-early" (on hold before
    dispatch), "cancel-accepted" (cancelled after acceptance), "mechanic" (a mechanic assigned).
    ``reason`` is the hold, cancellation or decline reason.
    """

    status: str
    fault: str
    channel: str
    text: str
    where: str = ""
    priority: str = NORMAL
    customer: str = ""  # "demo": the demo customer; otherwise a stranger owning a fitting device
    models: tuple[str, ...] = ()  # only devices of these models (and the model when no device)
    at: str = ""
    urged: bool = False
    reason: str = ""
    rating: tuple[int, int, int, int] | None = None
    comment: str = ""
    variant: str = ""


PHONE_ORDERS: tuple[_OrderSpec, ...] = (
    _OrderSpec(
        SUBMITTED,
        "screen-cracked",
        APP,
        "早上出门摔了一下，屏幕右上角碎了，触摸有时候失灵。",
        "sz-huaqiangbei",
        at="d1-19",
    ),
    _OrderSpec(
        SUBMITTED,
        "battery-swelling",
        WECHAT,
        "手机后盖被顶起来一条缝，充电的时候发烫，不敢再充了。",
        "sz-longgang",
        priority=HIGH,
        at="d1-10",
        urged=True,
    ),
    _OrderSpec(
        ACCEPTED,
        "no-power",
        CALL,
        "昨晚还好好的，今天早上按电源键没反应，插充电器也不亮。",
        "sz-huaqiangbei",
        at="d1-14",
    ),
    _OrderSpec(
        ASSIGNED,
        "water-damage",
        WEB,
        "手机掉进洗手池，捞出来后黑屏，已经关机，没有再充电。",
        "sz-nanshan",
        priority=HIGH,
        at="d1-10",
    ),
    _OrderSpec(
        ASSIGNED,
        "camera-blurry",
        APP,
        "后置摄像头拍照一直模糊，对焦来回拉不停。",
        "sz-huaqiangbei",
        at="d2-15",
    ),
    _OrderSpec(
        SCHEDULED,
        "screen-cracked",
        WECHAT,
        "屏幕摔裂了，今天下班想直接去店里换屏。",
        "sz-huaqiangbei",
        at="today",
    ),
    _OrderSpec(
        SCHEDULED,
        "fold-screen",
        APP,
        "内屏折痕位置出现一条亮线，那一块触摸失灵。",
        "sz-huaqiangbei",
        priority=HIGH,
        at="d2-11",
    ),
    _OrderSpec(
        IN_SERVICE,
        "no-charging",
        WEB,
        "充电线要压着一个角度才能充进去，一松手就断。",
        "sz-futian-cbd",
    ),
    _OrderSpec(
        IN_SERVICE,
        "system-lag",
        APP,
        "升级系统后一直反复重启，卡在开机画面。",
        "sz-huaqiangbei",
    ),
    _OrderSpec(
        ON_HOLD,
        "screen-cracked",
        CALL,
        "屏幕花屏，下半部分有几条绿色竖线。",
        "sz-huaqiangbei",
        reason="屏幕总成缺货，已向深圳总仓调货，预计 2 天到店",
    ),
    _OrderSpec(
        COMPLETED,
        "battery-swelling",
        WECHAT,
        "电池越来越不耐用，最近发现后盖有点鼓。",
        "sz-baoan",
    ),
    _OrderSpec(
        CLOSED,
        "battery-swelling",
        APP,
        "电池续航明显下降，半天就没电了，背面有点鼓。",
        "sz-huaqiangbei",
        customer="demo",
        rating=(5, 5, 5, 5),
        comment="换电池很快，店员很耐心，还帮我清理了充电口。",
    ),
    _OrderSpec(
        CLOSED,
        "no-sound",
        CALL,
        "打电话听不清对方说话，听筒声音很小。",
        "sz-luohu",
        rating=(1, 2, 2, 1),
        comment="排队一个多小时，修完听筒声音还是偏小，体验很差。",
    ),
    _OrderSpec(
        CANCELLED,
        "no-power",
        WEB,
        "手机突然关机后再也开不了机。",
        "sz-longhua",
        reason="数据已经备份好了，决定换新手机，不修了",
    ),
)
APPLIANCE_ORDERS: tuple[_OrderSpec, ...] = (
    _OrderSpec(
        SUBMITTED,
        "ac-no-cooling",
        CALL,
        "医院住院部三楼护士站的柜机不制冷，病区温度已经 30 度，请尽快派人。",
        priority=URGENT,
        models=("kfr-72lw",),
        urged=True,
        variant="hospital",
    ),
    _OrderSpec(SUBMITTED, "washer-no-drain", WECHAT, "洗完衣服不排水，面板显示 E21。", at="d1-09"),
    _OrderSpec(
        SUBMITTED,
        "heater-no-ignition",
        APP,
        "燃气热水器打火咔咔响但就是点不着，家里没热水洗澡。",
        priority=HIGH,
        models=("jsq25",),
        at="d1-14",
        urged=True,
    ),
    _OrderSpec(
        ACCEPTED,
        "fridge-no-cooling",
        WEB,
        "冰箱一直在响，但冷藏室不冷，菜放一天就坏了。",
        at="d2-09",
    ),
    _OrderSpec(
        ACCEPTED,
        "ac-error-code",
        CALL,
        "空调显示 E1 然后自己关机，重新开也一样。",
        at="d1-14",
    ),
    _OrderSpec(
        ASSIGNED,
        "ac-outdoor-noise",
        APP,
        "外机一开就嗡嗡响，还带着振动，邻居都来敲门了。",
        "T",
        at="d1-09",
    ),
    _OrderSpec(
        ASSIGNED,
        "washer-noise",
        WEB,
        "滚筒洗衣机脱水时整台机器在跳，声音特别大。",
        "anjia",
        at="d2-14",
        reason="今天片区在滨江，赶不过去",
        variant="declined",
    ),
    _OrderSpec(
        SCHEDULED,
        "ac-no-cooling",
        WECHAT,
        "空调开了一个小时还是不凉，外机好像不转。",
        "T",
        priority=HIGH,
        at="today",
    ),
    _OrderSpec(
        SCHEDULED,
        "ac-leaking",
        APP,
        "客厅空调室内机往下滴水，地板上接了一盆。",
        "T",
        at="today2",
    ),
    _OrderSpec(
        SCHEDULED,
        "fridge-frost",
        APP,
        "冰箱冷冻室结了厚厚一层霜，抽屉都快拉不开了。",
        "qingfeng",
        customer="demo",
        models=("bcd-460",),
        at="d1-14",
        urged=True,
    ),
    _OrderSpec(
        SCHEDULED,
        "ac-no-cooling",
        CALL,
        "次卧空调制冷很弱，开一晚上屋里还是闷热。",
        "T",
        at="d2-09",
        variant="absent",
    ),
    _OrderSpec(
        SCHEDULED,
        "heater-no-heat",
        WEB,
        "电热水器加热指示灯不亮，洗澡水一直是凉的。",
        "suxiu",
        models=("f6030",),
        at="d1-10",
    ),
    _OrderSpec(
        IN_SERVICE,
        "ac-no-cooling",
        CALL,
        "家里有八十多岁的老人，空调突然不制冷，屋里已经 35 度了。",
        "T",
        priority=URGENT,
    ),
    _OrderSpec(
        IN_SERVICE,
        "fridge-no-cooling",
        APP,
        "冰箱压缩机一直响，冷冻室的肉都化了。",
        "anjia",
        priority=HIGH,
    ),
    _OrderSpec(
        ON_HOLD,
        "ac-outdoor-noise",
        APP,
        "空调外机运转时咯噔咯噔响，声音越来越大。",
        "T",
        reason="室外风机电机损坏，已申请配件，到货后预约二次上门",
    ),
    _OrderSpec(
        ON_HOLD,
        "washer-door-leak",
        CALL,
        "洗衣服的时候门口往外渗水，门封圈有个破口。",
        reason="已过保修期，等待客户确认维修费用（约 230 元）",
        variant="held-early",
    ),
    _OrderSpec(
        COMPLETED,
        "ac-no-cooling",
        APP,
        "书房空调制冷效果很差，出风是温的。",
        "T",
        customer="demo",
        models=("kfr-35gw",),
    ),
    _OrderSpec(
        CLOSED,
        "ac-leaking",
        WECHAT,
        "主卧挂机一直往下滴水，墙面都湿了。",
        "T",
        rating=(5, 5, 4, 5),
        comment="师傅准时上门，讲解很清楚，还顺手清洗了滤网。",
    ),
    _OrderSpec(
        CLOSED,
        "washer-noise",
        WEB,
        "洗衣机脱水时有很响的金属摩擦声。",
        "suxiu",
        rating=(2, 2, 1, 2),
        comment="修完第二天又开始响，收费也没有提前说清楚。",
    ),
    _OrderSpec(
        CANCELLED,
        "heater-no-heat",
        APP,
        "电热水器通电后水温一直上不去。",
        models=("f6030",),
        reason="已经买了新热水器，不需要维修了",
        variant="cancel-accepted",
    ),
)
GERMAN_CARS = ("deman-d5", "deman-x3", "laiyin-r7")
JAPANESE_CARS = ("yingye-lingfeng", "yingye-shanlan")
ELECTRIC_CARS = ("lanjing-e7", "lanjing-h5")
AUTO_ORDERS: tuple[_OrderSpec, ...] = (
    _OrderSpec(
        SUBMITTED,
        "brake-wear",
        APP,
        "刹车时有吱吱的金属摩擦声，仪表提示刹车片磨损。",
        "kxyc-jinjiang",
        at="d1-10",
    ),
    _OrderSpec(
        SUBMITTED,
        "ac-no-cooling",
        WECHAT,
        "空调出风是热的，开了二十分钟都不凉。",
        "kxyc-jinjiang",
        priority=HIGH,
        at="d1-14",
        urged=True,
    ),
    _OrderSpec(
        ACCEPTED,
        "engine-light",
        CALL,
        "发动机故障灯亮了，起步的时候车有点抖。",
        "kxyc-gaoxin",
        models=GERMAN_CARS,
        at="d2-09",
    ),
    _OrderSpec(
        ACCEPTED,
        "pulling",
        WEB,
        "上高速松开方向盘车就往右跑，轮胎内侧磨得厉害。请就近安排门店。",
        at="d2-14",
    ),
    _OrderSpec(
        ASSIGNED,
        "oil-leak",
        APP,
        "车位地上每天早上都有一小滩油。",
        "kxyc-jinjiang",
        at="d1-09",
        variant="mechanic",
    ),
    _OrderSpec(
        ASSIGNED,
        "timing-chain",
        WEB,
        "冷车启动时发动机哗啦哗啦响几秒钟。",
        "kxyc-qingyang",
        models=GERMAN_CARS,
        at="d3-10",
    ),
    _OrderSpec(
        SCHEDULED,
        "gearbox-jerk",
        WECHAT,
        "低速换挡顿挫很明显，像被人从后面推了一下。",
        "kxyc-jinjiang",
        at="today",
    ),
    _OrderSpec(
        SCHEDULED,
        "body-scratch",
        APP,
        "倒车时右后门被柱子刮了一道，漆掉了一块。",
        "kxyc-pidu",
        at="d1-10",
    ),
    _OrderSpec(
        IN_SERVICE,
        "ac-no-cooling",
        APP,
        "空调只吹自然风，一点都不凉，车里特别闷。",
        "kxyc-jinjiang",
        customer="demo",
        models=("lanjing-e7",),
    ),
    _OrderSpec(
        IN_SERVICE,
        "cvt-whine",
        WEB,
        "加速时有嗡嗡声，转速上去了车速却上不去。",
        "kxyc-longquanyi",
        models=JAPANESE_CARS,
    ),
    _OrderSpec(
        ON_HOLD,
        "hv-battery",
        APP,
        "仪表提示动力电池故障，续航一下子少了一半。",
        "kxyc-wuhou",
        priority=HIGH,
        models=ELECTRIC_CARS,
        reason="动力电池模组需向厂家订货，预计 5 个工作日到店",
    ),
    _OrderSpec(COMPLETED, "brake-wear", WECHAT, "刹车踩下去软软的，还有异响。", "kxyc-jinjiang"),
    _OrderSpec(
        CLOSED,
        "engine-light",
        CALL,
        "发动机故障灯亮，怠速时方向盘抖。",
        "kxyc-jinjiang",
        rating=(5, 4, 5, 5),
        comment="检测很仔细，报价透明，没有乱推销项目。",
    ),
    _OrderSpec(
        CLOSED,
        "motor-noise",
        APP,
        "车速到六十公里以上电机有啸叫声。",
        "kxyc-xindu",
        models=ELECTRIC_CARS,
        rating=(4, 5, 3, 4),
        comment="修好了，就是等配件多等了一天。",
    ),
    _OrderSpec(
        CLOSED,
        "gearbox-jerk",
        WEB,
        "自动挡升挡时冲击感明显，堵车时更难受。",
        "kxyc-chenghua",
        rating=(2, 1, 1, 2),
        comment="说好半天取车，结果拖到第二天，也没人主动通知。",
    ),
    _OrderSpec(
        CANCELLED,
        "12v-battery",
        CALL,
        "早上车打不着火，仪表灯很暗。",
        "kxyc-jinniu",
        priority=URGENT,
        reason="已叫道路救援搭电，车辆能正常启动了",
    ),
)
# What the technician found and did, per vertical and fault.
ORDER_REPORTS: dict[str, dict[str, tuple[str, str]]] = {
    "phone": {
        "no-charging": ("尾插小板触点氧化松动，充电接触不良。", "更换尾插小板，充电测试正常。"),
        "system-lag": (
            "系统分区损坏，升级包校验失败。",
            "备份数据后刷入最新稳定版系统，不再反复重启。",
        ),
        "screen-cracked": ("屏幕总成破损，显示异常。", "更换原装屏幕总成并重新打防水胶。"),
        "battery-swelling": (
            "电池鼓包，健康度 71%。",
            "更换原装电池并重新贴易拉胶，续航测试正常。",
        ),
        "no-sound": (
            "听筒防尘网堵塞，听筒本体音量偏低。",
            "更换听筒并清理防尘网，通话测试正常。",
        ),
    },
    "appliance": {
        "ac-no-cooling": (
            "低压管焊点渗漏，冷媒不足。",
            "补焊漏点，抽真空后加注 R32 冷媒，出风温度 12℃。",
        ),
        "ac-outdoor-noise": ("室外风机电机轴承磨损，运行异响。", "更换室外风机电机，运行平稳。"),
        "ac-leaking": ("排水管被异物堵塞，坡度不足。", "疏通排水管并重新调整坡度，试机不再滴水。"),
        "fridge-no-cooling": (
            "压缩机启动困难，系统内有杂质。",
            "更换压缩机和干燥过滤器，加注 R600a 冷媒。",
        ),
        "washer-noise": ("滚筒轴承磨损，脱水时晃动异响。", "更换滚筒轴承套件，脱水测试正常。"),
    },
    "auto": {
        "ac-no-cooling": (
            "空调冷媒压力不足，膨胀阀处有渗漏痕迹。",
            "更换膨胀阀，抽真空后加注冷媒，出风口温度 8℃。",
        ),
        "cvt-whine": ("CVT 油液发黑，钢带有轻微异响。", "更换 CVT 专用油和滤芯，路试异响消失。"),
        "hv-battery": ("3 号电池模组电压偏低，高压保险正常。", ""),
        "brake-wear": ("前刹车片剩余 2 mm，刹车盘有划痕。", "更换前刹车片并补充刹车油，路试正常。"),
        "engine-light": (
            "故障码 P0301，1 缸失火，火花塞积碳严重。",
            "更换四个火花塞并清洗积碳，故障灯熄灭。",
        ),
        "motor-noise": (
            "驱动电机轴承磨损，高速啸叫。",
            "更换驱动电机轴承并加注润滑脂，路试无异响。",
        ),
        "gearbox-jerk": ("变速箱油老化，阀体脏污。", "更换变速箱滤芯和 ATF 油，并做自适应学习。"),
    },
}
READY_NOTES = {"phone": "已修好，请凭取件码到店取机。", "auto": "车辆已修好，可以到店提车。"}
# The numbers of the demo's customers (+86137…) and engineers (+86136…): see _mobiles() calls.
DEMO_CUSTOMER_PREFIX, DEMO_TECHNICIAN_PREFIX = "+86137", "+86136"
# The demo logins working the counter of an outlet (by outlet code) or workshop (by merchant).
COUNTER_LOGINS = {"sz-huaqiangbei": "outlet_manager", "kxyc-jinjiang": "merchant_admin"}
ABSENT_NOTE = "按约上门，客户不在家，电话未接通，已改约。"
HOSPITAL_ADDRESS = "庆春路 88 号杭州清和医院住院部 3 楼"
HOSPITAL: dict[str, Any] = {
    "label": "单位",
    "province": "浙江省",
    "city": "杭州市",
    "district": "上城区",
    "latitude": Decimal("30.259000"),
    "longitude": Decimal("120.176000"),
}


def _signature_png() -> bytes:
    """A tiny drawn "signature" (the services require one to complete an on-site visit)."""
    image = Image.new("RGBA", (160, 60), (255, 255, 255, 0))
    points = [(12, 40), (28, 14), (42, 44), (60, 18), (78, 42), (104, 16), (148, 34)]
    ImageDraw.Draw(image).line(points, fill=(24, 24, 64, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def order_window(
    at: str, *, now: dt.datetime, length: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """The window an order spec's ``at`` means, seen from ``now`` (see ``_OrderSpec``)."""
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if at.startswith("today"):
        # Later today, on the half hour; never before now (the service refuses the past)
        # and still today when the demo is built late in the evening.
        later = 1 if at == "today2" else 0
        soon = local + dt.timedelta(hours=2, minutes=29)
        soon = soon.replace(minute=0 if soon.minute < 30 else 30, second=0, microsecond=0)
        soon += dt.timedelta(minutes=90 * later)
        latest = midnight + dt.timedelta(hours=21, minutes=30 * later)
        start = max(local.replace(second=0, microsecond=0), min(soon, latest))
        return start, start + length
    days, hour = at[1:].split("-")
    start = midnight + dt.timedelta(days=int(days), hours=int(hour))
    return start, start + length


@dataclass
class _OrderPlan:
    """Everything an order needs, decided (with the seeded random numbers) before any write."""

    number: int
    spec: _OrderSpec
    customer: Customer
    asset: Asset | None
    product_model: ProductModel | None
    outlet: Outlet | None
    technician: Technician | None
    decliner: Technician | None
    check_in: tuple[Decimal, Decimal] | None


class _Orders:
    """Plans and drives the demo work orders of one vertical through the services."""

    def __init__(
        self,
        w: _Writer,
        vertical: str,
        organization: Organization,
        *,
        staff: User,
        service_type: str,
        mode: str,
    ) -> None:
        self.w = w
        self.vertical = vertical
        self.organization = organization
        self.staff = Actor(user=staff, role="agent")
        self.mode = mode
        self.rng = random.Random(SEEDS[vertical] + 1000)  # its own stream: the rest is unchanged
        self.service_types = {
            service.code: service
            for service in ServiceType.objects.filter(organization=organization)
        }
        self.default_service = service_type
        self.faults = {
            fault.code: fault
            for fault in FaultType.objects.filter(organization=organization).select_related(
                "category"
            )
        }
        self.models = {
            model.code: model for model in ProductModel.objects.filter(organization=organization)
        }
        parents = dict(
            ProductCategory.objects.filter(organization=organization).values_list("pk", "parent_id")
        )
        self.ancestors: dict[int, set[int]] = {}
        for pk in parents:
            chain, current = set(), pk
            while current is not None:
                chain.add(current)
                current = parents[current]
            self.ancestors[pk] = chain
        # Only the demo's own people (by their numbers), so customers or engineers added by
        # hand since the last build never change which orders are still to be made.
        demo_phone = _LOGIN["customer"].e164
        demo_people = models.Q(phone__startswith=DEMO_CUSTOMER_PREFIX) | models.Q(phone=demo_phone)
        customers = Customer.objects.filter(demo_people, organization=organization).order_by(
            "phone"
        )
        self.demo_customer = next(c for c in customers if c.phone == demo_phone)
        self.strangers = [c for c in customers if c.phone != demo_phone]
        self.assets = sorted(
            Asset.objects.filter(customer__in=customers).select_related(
                "customer", "product_model"
            ),
            key=lambda a: (a.customer.phone, a.imei, a.vin, a.serial_number),
        )
        self.used: set[int] = set()
        self.counter_staff: dict[str, User] = {}
        self.signature = b""
        network = serving_organization_ids(organization)
        demo_engineers = models.Q(user__phone__startswith=DEMO_TECHNICIAN_PREFIX) | models.Q(
            user__phone=_LOGIN["technician"].e164
        )
        self.technicians = list(
            Technician.objects.filter(demo_engineers, organization_id__in=network)
            .select_related("user", "outlet", "organization")
            .order_by("user__phone")
        )
        self.skills: dict[int, set[str]] = {}
        for technician_id, code in TechnicianSkill.objects.filter(
            technician__organization_id__in=network
        ).values_list("technician_id", "skill__code"):
            self.skills.setdefault(technician_id, set()).add(code)
        # An outlet by its code, a workshop's only outlet ("main") by the merchant's code.
        self.outlets = {
            outlet.organization.code if outlet.code == "main" else outlet.code: outlet
            for outlet in Outlet.objects.filter(organization_id__in=network).select_related(
                "organization"
            )
        }
        faults = {"phone": PHONE_FAULTS, "appliance": APPLIANCE_FAULTS, "auto": AUTO_FAULTS}
        self.fault_skills = {row[0]: row[3] for row in faults[vertical]}

    # planning: only reads and random draws, the same whatever the database already holds

    def _device(self, spec: _OrderSpec) -> tuple[Customer, Asset | None, ProductModel | None]:
        fault = self.faults[spec.fault]
        if spec.variant == "hospital":
            customer = self.rng.choice([c for c in self.strangers if c.pk not in self.used])
            self.used.add(customer.pk)
            return customer, None, self.models[spec.models[0]]
        candidates = [
            asset
            for asset in self.assets
            if (asset.customer_id == self.demo_customer.pk) == (spec.customer == "demo")
            and fault.category_id in self.ancestors[asset.category_id]
            and (not spec.models or getattr(asset.product_model, "code", "") in spec.models)
        ]
        fresh = [asset for asset in candidates if asset.customer_id not in self.used]
        if not candidates:
            raise RuntimeError(f"No demo device fits {self.vertical} {spec.fault} {spec.models}")
        asset = self.rng.choice(fresh or candidates)
        self.used.add(asset.customer_id)
        return asset.customer, asset, asset.product_model

    def _engineer(self, pool: Sequence[Technician], fault_code: str) -> Technician:
        """One of ``pool`` with the fault's skills (else its main skill, else anyone)."""
        wanted = self.fault_skills[fault_code]
        fitting = [t for t in pool if set(wanted) <= self.skills.get(t.pk, set())]
        if not fitting and wanted:
            fitting = [t for t in pool if wanted[0] in self.skills.get(t.pk, set())]
        return self.rng.choice(fitting or list(pool))

    def plan(self, specs: Sequence[_OrderSpec]) -> list[_OrderPlan]:
        plans = []
        for number, spec in enumerate(specs, start=1):
            customer, asset, model = self._device(spec)
            outlet = technician = decliner = None
            if self.mode == FulfilmentMode.CARRY_IN:
                if spec.where:
                    outlet = self.outlets[spec.where]
                    staff_pool = [t for t in self.technicians if t.outlet_id == outlet.pk]
                    technician = self._engineer(staff_pool, spec.fault)
            elif spec.where == "T":
                technician = next(
                    t for t in self.technicians if t.user.phone == _LOGIN["technician"].e164
                )
            elif spec.where:
                pool = [
                    t
                    for t in self.technicians
                    if t.organization.code == spec.where
                    and t.user.phone != _LOGIN["technician"].e164
                ]
                technician = self._engineer(pool, spec.fault)
                if spec.variant == "declined":
                    # A mobile engineer of the brand (no outlet): declining keeps the outlet
                    # an assignment brought, and the provider's engineer should not inherit it.
                    brand_pool = [
                        t
                        for t in self.technicians
                        if t.organization_id == self.organization.pk
                        and t.outlet_id is None
                        and t.user.phone != _LOGIN["technician"].e164
                    ]
                    decliner = self._engineer(brand_pool, spec.fault)
            check_in = None
            if self.mode == FulfilmentMode.ON_SITE:
                check_in = (
                    Decimal(f"{self.rng.uniform(-0.0004, 0.0004):.6f}"),
                    Decimal(f"{self.rng.uniform(-0.0004, 0.0004):.6f}"),
                )
            plans.append(
                _OrderPlan(
                    number, spec, customer, asset, model, outlet, technician, decliner, check_in
                )
            )
        return plans

    # driving: each order once, through the services, in the order a real one would go

    def key(self, number: int) -> str:
        return f"demo-{self.vertical}-{number:02d}"

    def build(self, specs: Sequence[_OrderSpec], now: dt.datetime) -> None:
        plans = self.plan(specs)
        existing = set(
            WorkOrder.objects.filter(
                organization=self.organization,
                idempotency_key__in=[self.key(plan.number) for plan in plans],
            ).values_list("idempotency_key", flat=True)
        )
        for plan in plans:
            if self.key(plan.number) not in existing:
                self._drive(plan, now)
        self._staff()

    def _staff(self) -> None:
        """Shifts and duty for the network's engineers, so dispatch has people to suggest.

        By weekday only (never by date), in phone order: most work Monday to Sunday 08:00–20:00,
        every fourth Monday to Friday 09:00–18:00; every eighth is off duty, the rest available
        unless a visit has them on the way or on site. Writes only what differs (idempotent).
        """
        new_shifts = []
        with_shifts = set(
            Shift.objects.filter(technician__in=self.technicians).values_list(
                "technician_id", flat=True
            )
        )
        statuses = dict(
            Technician.objects.filter(pk__in=[t.pk for t in self.technicians]).values_list(
                "pk", "status"
            )
        )
        for index, technician in enumerate(self.technicians):
            if technician.pk not in with_shifts:
                office = index % 4 == 1
                start, end = (dt.time(9), dt.time(18)) if office else (dt.time(8), dt.time(20))
                new_shifts += [
                    Shift(technician=technician, weekday=day, starts_at=start, ends_at=end)
                    for day in range(5 if office else 7)
                ]
            status = statuses[technician.pk]
            if status in (TechnicianStatus.EN_ROUTE, TechnicianStatus.ON_SITE):
                continue
            wanted = TechnicianStatus.OFF_DUTY if index % 8 == 7 else TechnicianStatus.AVAILABLE
            if status != wanted:
                Technician.objects.filter(pk=technician.pk).update(
                    status=wanted, updated_at=timezone.now()
                )
        Shift.objects.bulk_create(new_shifts)

    def _window(self, at: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        if not at:
            return None
        hours = 2 if self.mode == FulfilmentMode.ON_SITE else 1
        return order_window(at, now=now, length=dt.timedelta(hours=hours))

    def _customer_actor(self, plan: _OrderPlan) -> Actor:
        return Actor(user=plan.customer.user, role="customer")

    def _outlet_actor(self, plan: _OrderPlan) -> Actor:
        """Who works the counter: the demo outlet manager / workshop admin, else the mechanic."""
        assert plan.outlet is not None and plan.technician is not None
        login = COUNTER_LOGINS.get(plan.outlet.code) or COUNTER_LOGINS.get(
            plan.outlet.organization.code
        )
        if login is None:
            return Actor(user=plan.technician.user, role="technician")
        if login not in self.counter_staff:
            self.counter_staff[login] = self.w.login_user(login)
        return Actor(user=self.counter_staff[login], role="agent")

    def _drive(self, plan: _OrderPlan, now: dt.datetime) -> None:
        spec = plan.spec
        status = spec.status
        stage = _STAGE.get(status, 0)
        if status == ON_HOLD:
            stage = 1 if spec.variant == "held-early" else 4
        elif status == CANCELLED:
            stage = 1 if spec.variant == "cancel-accepted" else 0
        window = self._window(spec.at, now)
        customer_actor = self._customer_actor(plan)
        by_phone = spec.channel == CALL
        address = None
        if self.mode == FulfilmentMode.ON_SITE:
            if spec.variant == "hospital":
                address = self.w.address(plan.customer, address=HOSPITAL_ADDRESS, **HOSPITAL)
            else:
                address = plan.customer.addresses.get(is_default=True)
        order = workorder_create(
            organization=self.organization,
            customer=plan.customer,
            service_type=self.service_types[
                "bodywork" if spec.fault == "body-scratch" else self.default_service
            ],
            description=spec.text,
            channel=spec.channel,
            fulfilment_mode=self.mode,
            actor=self.staff if by_phone else customer_actor,
            asset=plan.asset,
            product_model=plan.product_model if plan.asset is None else None,
            fault_type=self.faults[spec.fault],
            # Agents set the priority on the phone; otherwise it is raised when accepting.
            priority=spec.priority if by_phone or stage == 0 else NORMAL,
            address=address,
            outlet=plan.outlet,
            preferred_start=window[0] if window else None,
            preferred_end=window[1] if window else None,
            idempotency_key=self.key(plan.number),
            notify_customer=False,
        ).work_order
        if stage >= 1:
            order = workorder_accept(
                work_order=order,
                actor=self.staff,
                priority=spec.priority if spec.priority != order.priority else None,
            )
        if stage >= 2:
            order = self._dispatch(plan, order, stage)
        if status == SCHEDULED:
            order = self._schedule(plan, order, window)
        if stage >= 4:
            order = self._start(plan, order)
        if status == ON_HOLD:
            order = self._hold(plan, order, stage)
        if stage >= 5:
            order = self._finish(plan, order)
        if stage >= 6:
            order = self._close(plan, order)
        if status == CANCELLED:
            order = workorder_cancel(work_order=order, actor=customer_actor, reason=spec.reason)
        if spec.rating is not None:
            attitude, professionalism, responsiveness, transparency = spec.rating
            rating_submit(
                work_order=order,
                actor=customer_actor,
                attitude=attitude,
                professionalism=professionalism,
                responsiveness=responsiveness,
                transparency=transparency,
                comment=spec.comment,
            )
        if spec.urged:
            workorder_urge(work_order=order, actor=customer_actor)
        if order.status != status:  # a mistake in the tables above, not a user error
            raise RuntimeError(f"{self.key(plan.number)} ended {order.status}, not {status}")

    def _dispatch(self, plan: _OrderPlan, order: WorkOrder, stage: int) -> WorkOrder:
        assert plan.technician is not None
        if self.mode == FulfilmentMode.CARRY_IN:
            assert plan.outlet is not None
            order = workorder_assign_outlet(work_order=order, outlet=plan.outlet, actor=self.staff)
            if stage >= 4 or plan.spec.variant == "mechanic":
                order = workorder_assign_technician(
                    work_order=order, technician=plan.technician, actor=self.staff
                )
            return order
        if plan.decliner is not None:
            order = workorder_assign_technician(
                work_order=order, technician=plan.decliner, actor=self.staff
            )
            order = workorder_decline_assignment(
                work_order=order,
                technician=plan.decliner,
                actor=Actor(user=plan.decliner.user, role="technician"),
                reason=plan.spec.reason,
            )
        return workorder_assign_technician(
            work_order=order, technician=plan.technician, actor=self.staff
        )

    def _schedule(
        self,
        plan: _OrderPlan,
        order: WorkOrder,
        window: tuple[dt.datetime, dt.datetime] | None,
    ) -> WorkOrder:
        assert window is not None and plan.technician is not None
        if self.mode == FulfilmentMode.CARRY_IN:
            order = workorder_schedule(
                work_order=order, actor=self.staff, start=window[0], end=window[1]
            )
            # The drop-off takes a bay of the outlet's slot, so the workshops' slot lists show
            # bays already booked. Times that are not one of the outlet's future slots (a
            # window that started earlier today) simply hold no bay.
            with contextlib.suppress(DomainError):
                slot_book(work_order=order, start=window[0])
            return order
        technician = plan.technician
        actor = Actor(user=technician.user, role="technician")
        order = workorder_accept_assignment(work_order=order, technician=technician, actor=actor)
        if plan.spec.variant == "absent":
            visit_set_en_route(work_order=order, technician=technician, actor=actor)
            order = visit_finish(
                work_order=order,
                technician=technician,
                actor=actor,
                outcome=VisitOutcome.CUSTOMER_ABSENT,
                note=ABSENT_NOTE,
            )
        return workorder_schedule(work_order=order, actor=actor, start=window[0], end=window[1])

    def _report(self, plan: _OrderPlan) -> tuple[str, str]:
        return ORDER_REPORTS[self.vertical][plan.spec.fault]

    def _start(self, plan: _OrderPlan, order: WorkOrder) -> WorkOrder:
        technician = plan.technician
        assert technician is not None
        actor = Actor(user=technician.user, role="technician")
        if self.mode == FulfilmentMode.CARRY_IN:
            order = workorder_receive_device(work_order=order, actor=self._outlet_actor(plan))
        else:
            order = workorder_accept_assignment(
                work_order=order, technician=technician, actor=actor
            )
            visit_set_en_route(work_order=order, technician=technician, actor=actor)
            assert order.latitude is not None and order.longitude is not None
            assert plan.check_in is not None
            visit_check_in(
                work_order=order,
                technician=technician,
                actor=actor,
                latitude=order.latitude + plan.check_in[0],
                longitude=order.longitude + plan.check_in[1],
            )
        return workorder_report(work_order=order, actor=actor, diagnosis=self._report(plan)[0])

    def _hold(self, plan: _OrderPlan, order: WorkOrder, stage: int) -> WorkOrder:
        reason = plan.spec.reason
        if stage < 4:
            return workorder_hold(work_order=order, actor=self.staff, reason=reason)
        technician = plan.technician
        assert technician is not None
        if self.mode == FulfilmentMode.CARRY_IN:
            return workorder_hold(work_order=order, actor=self._outlet_actor(plan), reason=reason)
        return visit_finish(
            work_order=order,
            technician=technician,
            actor=Actor(user=technician.user, role="technician"),
            outcome=VisitOutcome.NEEDS_PARTS,
            note=reason,
        )

    def _finish(self, plan: _OrderPlan, order: WorkOrder) -> WorkOrder:
        technician = plan.technician
        assert technician is not None
        actor = Actor(user=technician.user, role="technician")
        work_done = self._report(plan)[1]
        order = workorder_report(work_order=order, actor=actor, work_done=work_done)
        if self.mode == FulfilmentMode.CARRY_IN:
            return workorder_ready_for_pickup(
                work_order=order,
                actor=self._outlet_actor(plan),
                note=READY_NOTES[self.vertical],
            )
        if not self.signature:
            self.signature = _signature_png()
        workorder_sign(work_order=order, actor=actor, signature=self.signature)
        assert order.latitude is not None and order.longitude is not None
        assert plan.check_in is not None
        return visit_finish(
            work_order=order,
            technician=technician,
            actor=actor,
            outcome=VisitOutcome.FIXED,
            latitude=order.latitude + plan.check_in[1],
            longitude=order.longitude + plan.check_in[0],
        )

    def _close(self, plan: _OrderPlan, order: WorkOrder) -> WorkOrder:
        if self.mode == FulfilmentMode.CARRY_IN:
            return workorder_hand_over(work_order=order, actor=self._outlet_actor(plan))
        return workorder_confirm_completion(work_order=order, actor=self._customer_actor(plan))


def _build_orders(w: _Writer, vertical: str, now: dt.datetime) -> None:
    if vertical == "phone":
        orders = _Orders(
            w,
            vertical,
            Organization.objects.get(code="xingchen"),
            staff=w.login_user("phone_admin"),
            service_type="store-repair",
            mode=FulfilmentMode.CARRY_IN,
        )
        orders.build(PHONE_ORDERS, now)
    elif vertical == "appliance":
        orders = _Orders(
            w,
            vertical,
            Organization.objects.get(code="qingfeng"),
            staff=w.login_user("agent"),
            service_type="home-repair",
            mode=FulfilmentMode.ON_SITE,
        )
        orders.build(APPLIANCE_ORDERS, now)
    else:
        orders = _Orders(
            w,
            vertical,
            Organization.objects.get(code="kuaixiu"),
            staff=w.login_user("superuser"),
            service_type="repair",
            mode=FulfilmentMode.CARRY_IN,
        )
        orders.build(AUTO_ORDERS, now)


# (organisation, service type code or "", priority or "", name, response, arrival, resolution
# minutes, warn at %) per vertical: what each demo organisation promises (docs/sla.md).
SlaSpec = tuple[str, str, str, str, int, int, int, int]
SLA_POLICIES: dict[str, tuple[SlaSpec, ...]] = {
    "phone": (
        ("xingchen", "", "", "到店/寄修标准时效", 60, 24 * 60, 72 * 60, 80),
        ("xingchen", "", "urgent", "加急维修", 30, 8 * 60, 24 * 60, 75),
    ),
    "appliance": (
        ("qingfeng", "", "", "上门服务标准时效", 120, 24 * 60, 72 * 60, 80),
        ("qingfeng", "home-repair", "urgent", "加急上门维修", 30, 4 * 60, 24 * 60, 75),
        ("qingfeng", "install", "", "新机安装", 240, 48 * 60, 72 * 60, 80),
    ),
    "auto": (
        ("kuaixiu", "", "", "门店维修标准时效", 60, 8 * 60, 48 * 60, 80),
        ("kuaixiu", "rescue", "", "道路救援", 10, 60, 4 * 60, 70),
    ),
}


def _build_sla_policies(w: _Writer, wanted: set[str]) -> None:
    for vertical in VERTICALS:
        if vertical not in wanted:
            continue
        for code, service, priority, name, response, arrival, resolution, warn in SLA_POLICIES[
            vertical
        ]:
            organization = Organization.objects.get(code=code)
            w.ensure(
                SlaPolicy,
                organization=organization,
                service_type=(
                    ServiceType.objects.get(organization=organization, code=service)
                    if service
                    else None
                ),
                priority=priority,
                defaults={
                    "name": name,
                    "response_minutes": response,
                    "arrival_minutes": arrival,
                    "resolution_minutes": resolution,
                    "warn_at_percent": warn,
                },
            )


# --- entry point -----------------------------------------------------------------------------


def build_demo(*, verticals: Iterable[str]) -> list[DemoLogin]:
    """Build the demo data of ``verticals`` (any of phone, appliance, auto) in one transaction.

    Returns the demo logins of what was built (the superuser and the customer always).
    """
    wanted = set(verticals)
    unknown = wanted - set(VERTICALS)
    if unknown:
        raise ValueError(f"Unknown demo vertical(s): {', '.join(sorted(unknown))}")
    with transaction.atomic():
        writer = _Writer()
        superuser = writer.login_user("superuser")
        customer = writer.login_user("customer")
        if "phone" in wanted:
            _build_phone(writer, customer)
        if "appliance" in wanted:
            _build_appliance(writer, customer)
        if "auto" in wanted:
            _build_auto(writer, customer, superuser)
        # SLA policies before the orders, so the orders' clocks follow them.
        _build_sla_policies(writer, wanted)
        # Work orders last, once every vertical's people and catalog exist.
        now = timezone.now()
        for vertical in VERTICALS:
            if vertical in wanted:
                _build_orders(writer, vertical, now)
        # Dispatch modes last, so the demo's orders above keep their hand-made assignments;
        # from now on the appliance brand offers on-site jobs to its best technician and the
        # auto platform puts roadside rescue in the job pool (workshop jobs stay manual).
        if "appliance" in wanted:
            writer.ensure(
                DispatchPolicy,
                organization=Organization.objects.get(code="qingfeng"),
                defaults={"mode": DispatchMode.OFFER},
            )
        if "auto" in wanted:
            platform = Organization.objects.get(code="kuaixiu")
            writer.ensure(
                DispatchModeOverride,
                organization=platform,
                service_type=ServiceType.objects.get(organization=platform, code="rescue"),
                defaults={"mode": DispatchMode.POOL},
            )
    return [
        spec.as_login() for spec in LOGIN_SPECS if spec.vertical is None or spec.vertical in wanted
    ]
