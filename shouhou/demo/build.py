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
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models, transaction

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
from shouhou.customers.models import Address, Asset, Customer, add_months
from shouhou.dispatch.models import Technician, TechnicianSkill
from shouhou.dispatch.services import technician_onboard

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
            defaults={"name": name, "kind": kind, "contact_phone": contact_phone,
                      "parent": parent},
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
    return [
        spec.as_login() for spec in LOGIN_SPECS if spec.vertical is None or spec.vertical in wanted
    ]
