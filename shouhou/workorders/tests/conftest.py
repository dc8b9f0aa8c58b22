"""A small service world for work-order tests: organisation A with a catalog, an outlet, a
technician (Tom) and a customer (Carol), plus organisation B with its own order."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PIL import Image

from shouhou.accounts.models import Organization, Outlet, User
from shouhou.catalog.models import FaultType, ProductModel, ServiceType
from shouhou.core.testing.factories import (
    AddressFactory,
    CustomerFactory,
    FaultTypeFactory,
    FaultTypeLineFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    WorkOrderFactory,
)
from shouhou.customers.models import Address, Customer
from shouhou.dispatch.models import Technician
from shouhou.workorders.models import WorkOrder


@dataclass
class World:
    org: Organization
    service_type: ServiceType
    fault_type: FaultType
    product_model: ProductModel
    outlet: Outlet
    technician: Technician
    customer: Customer
    address: Address
    other_order: WorkOrder


@pytest.fixture
def world(org_a, org_b, technician, customer) -> World:
    service_type = ServiceTypeFactory(organization=org_a, kind="repair", name="维修")
    product_model = ProductModelFactory(organization=org_a, name="KFR-35GW", warranty_months=12)
    fault_type = FaultTypeFactory(
        organization=org_a, category=product_model.category, name="不制冷"
    )
    FaultTypeLineFactory(fault_type=fault_type, item_code="labour-ac", quantity=Decimal("1"))
    FaultTypeLineFactory(
        fault_type=fault_type, item_code="gas", quantity=Decimal("1"), is_optional=True
    )
    PriceListItemFactory(
        organization=org_a,
        code="labour-ac",
        unit_price=Decimal("80.00"),
        valid_from=dt.date(2020, 1, 1),
    )
    PriceListItemFactory(
        organization=org_a,
        code="gas",
        kind="material",
        unit_price=Decimal("150.00"),
        valid_from=dt.date(2020, 1, 1),
    )
    outlet = OutletFactory(organization=org_a, name="西湖服务中心")
    tech = TechnicianFactory(organization=org_a, user=technician, outlet=outlet)
    carol = CustomerFactory(organization=org_a, name="Carol", phone=customer.phone, user=customer)
    address = AddressFactory(customer=carol, latitude=Decimal("30.28"), longitude=Decimal("120.13"))
    other_order = WorkOrderFactory(organization=org_b, number="WX2611229999")
    return World(
        org_a, service_type, fault_type, product_model, outlet, tech, carol, address, other_order
    )


def png_bytes(colour: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG that carries EXIF with a GPS block, to prove it is stripped."""
    image = Image.new("RGB", (64, 48), "blue")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 16.0, 0.0), 3: "E", 4: (120.0, 9.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def signature_data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes("black", (200, 80))).decode()


@pytest.fixture
def tom_technician(world) -> Technician:
    return world.technician


@pytest.fixture
def carol(customer) -> User:
    return customer
