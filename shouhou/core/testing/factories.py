"""factory_boy factories for tests: valid, minimal rows; override what a test cares about."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from shouhou.accounts.models import Membership, OpeningHours, Organization, Outlet, User
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
from shouhou.customers.models import Address, Asset, Customer
from shouhou.dispatch.models import Technician
from shouhou.workorders.models import WorkOrder

PASSWORD = "correct-horse-battery"  # noqa: S105 - test fixture


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["phone"]

    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"组织{n}")
    code = factory.Sequence(lambda n: f"org-{n}")
    kind = "brand"


class OutletFactory(DjangoModelFactory[Outlet]):
    class Meta:
        model = Outlet

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"服务网点{n}")
    code = factory.Sequence(lambda n: f"outlet-{n}")
    city = "深圳市"
    district = "南山区"
    address = factory.Sequence(lambda n: f"科技园路{n}号")
    latitude = Decimal("22.543100")
    longitude = Decimal("114.057900")


class OpeningHoursFactory(DjangoModelFactory[OpeningHours]):
    class Meta:
        model = OpeningHours

    outlet = factory.SubFactory(OutletFactory)
    weekday = 0
    opens_at = dt.time(9, 0)
    closes_at = dt.time(18, 0)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = "agent"


class CategoryFactory(DjangoModelFactory[ProductCategory]):
    class Meta:
        model = ProductCategory

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"品类{n}")
    code = factory.Sequence(lambda n: f"category-{n}")


class BrandFactory(DjangoModelFactory[Brand]):
    class Meta:
        model = Brand

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"品牌{n}")
    code = factory.Sequence(lambda n: f"brand-{n}")


class ProductModelFactory(DjangoModelFactory[ProductModel]):
    class Meta:
        model = ProductModel

    organization = factory.SubFactory(OrganizationFactory)
    brand = factory.SubFactory(BrandFactory, organization=factory.SelfAttribute("..organization"))
    category = factory.SubFactory(
        CategoryFactory, organization=factory.SelfAttribute("..organization")
    )
    name = factory.Sequence(lambda n: f"型号{n}")
    code = factory.Sequence(lambda n: f"model-{n}")
    warranty_months = 12


class ServiceTypeFactory(DjangoModelFactory[ServiceType]):
    class Meta:
        model = ServiceType

    organization = factory.SubFactory(OrganizationFactory)
    kind = "repair"
    name = "维修"
    code = factory.Sequence(lambda n: f"service-{n}")


class SkillFactory(DjangoModelFactory[SkillTag]):
    class Meta:
        model = SkillTag

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"技能{n}")
    code = factory.Sequence(lambda n: f"skill-{n}")


class FaultTypeFactory(DjangoModelFactory[FaultType]):
    class Meta:
        model = FaultType

    organization = factory.SubFactory(OrganizationFactory)
    category = factory.SubFactory(
        CategoryFactory, organization=factory.SelfAttribute("..organization")
    )
    name = factory.Sequence(lambda n: f"故障{n}")
    code = factory.Sequence(lambda n: f"fault-{n}")
    typical_duration_minutes = 60


class FaultTypeLineFactory(DjangoModelFactory[FaultTypeLine]):
    class Meta:
        model = FaultTypeLine

    fault_type = factory.SubFactory(FaultTypeFactory)
    item_code = factory.Sequence(lambda n: f"item-{n}")
    quantity = Decimal("1")


class PriceListItemFactory(DjangoModelFactory[PriceListItem]):
    class Meta:
        model = PriceListItem

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"item-{n}")
    name = factory.Sequence(lambda n: f"项目{n}")
    kind = "labour"
    unit = "job"
    unit_price = Decimal("100.00")
    valid_from = dt.date(2026, 1, 1)


class CustomerFactory(DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"客户{n}")
    phone = factory.Sequence(lambda n: f"+86137{n:08d}")


class AddressFactory(DjangoModelFactory[Address]):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    city = "杭州市"
    address = factory.Sequence(lambda n: f"文三路{n}号")


class AssetFactory(DjangoModelFactory[Asset]):
    class Meta:
        model = Asset

    customer = factory.SubFactory(CustomerFactory)
    category = factory.SubFactory(
        CategoryFactory, organization=factory.SelfAttribute("..customer.organization")
    )


class TechnicianFactory(DjangoModelFactory[Technician]):
    class Meta:
        model = Technician

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    home_latitude = Decimal("30.274100")
    home_longitude = Decimal("120.155100")


class WorkOrderFactory(DjangoModelFactory[WorkOrder]):
    class Meta:
        model = WorkOrder

    number = factory.Sequence(lambda n: f"WX261122{n:04d}")
    tracking_token = factory.Sequence(lambda n: f"tracking-token-{n:012d}")
    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    service_type = factory.SubFactory(
        ServiceTypeFactory, organization=factory.SelfAttribute("..organization")
    )
    description = "空调不制冷"
    channel = "web"
    fulfilment_mode = "on_site"
    submitted_at = factory.LazyFunction(timezone.now)
