"""A small world for SLA tests: organisation A with a service type, a technician (Tom) and a
customer with an address; orders are made and moved through the real work-order services; the
time is a hand-turned clock (``now``) so due times are exact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from shouhou.accounts.models import Organization, Outlet
from shouhou.catalog.models import ServiceType
from shouhou.core.testing.factories import (
    AddressFactory,
    CustomerFactory,
    OutletFactory,
    ServiceTypeFactory,
    TechnicianFactory,
)
from shouhou.customers.models import Address, Customer
from shouhou.dispatch.models import Technician
from shouhou.workorders import services
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor

# Monday 2026-11-23 09:00 in Beijing.
START = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


class Clock:
    """The time every ``timezone.now()`` answers; ``advance(minutes=...)`` turns it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(START)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@dataclass
class World:
    org: Organization
    repair: ServiceType
    install: ServiceType
    customer: Customer
    address: Address
    technician: Technician
    outlet: Outlet

    def order(self, **overrides: Any) -> WorkOrder:
        values: dict[str, Any] = {
            "organization": self.org,
            "customer": self.customer,
            "service_type": self.repair,
            "description": "空调不制冷",
            "channel": "phone",
            "fulfilment_mode": "on_site",
            "address": self.address,
            "actor": Actor.system(),
            "notify_customer": False,
        }
        values.update(overrides)
        return services.workorder_create(**values).work_order


@pytest.fixture
def world(org_a, technician, agent) -> World:
    customer = CustomerFactory(organization=org_a, name="王芳", phone="+8613800001111")
    return World(
        org=org_a,
        repair=ServiceTypeFactory(organization=org_a, kind="repair", name="维修"),
        install=ServiceTypeFactory(organization=org_a, kind="installation", name="安装"),
        customer=customer,
        address=AddressFactory(customer=customer),
        technician=TechnicianFactory(organization=org_a, user=technician),
        outlet=OutletFactory(organization=org_a, name="西湖服务中心"),
    )


STAFF = Actor(user=None, role="agent")
