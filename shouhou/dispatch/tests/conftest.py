import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from shouhou.catalog.models import SkillTag
from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.dispatch.models import (
    DispatchMode,
    DispatchPolicy,
    Shift,
    Technician,
    TechnicianSkill,
)
from shouhou.dispatch.services import technician_onboard
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.tests.conftest import World, world  # noqa: F401 - shared fixture


@dataclass
class Crew:
    """Three technicians of organisation A who can all fix the air conditioner: Tom nearest
    the job, then Ted, then Tina; the policy in ``mode`` with a 3-minute offer time."""

    world: World
    policy: DispatchPolicy
    tom: Technician
    ted: Technician
    tina: Technician
    skill: SkillTag

    def order(self, **overrides) -> WorkOrder:
        values = {
            "organization": self.world.org,
            "customer": self.world.customer,
            "address": self.world.address,
            "service_type": self.world.service_type,
            "fault_type": self.world.fault_type,
            "status": "submitted",
            "latitude": Decimal("30.280000"),
            "longitude": Decimal("120.130000"),
        }
        values.update(overrides)
        return WorkOrderFactory(**values)


def make_ready(technician: Technician, skill: SkillTag, *, north_km: float) -> Technician:
    """On duty, on shift all day every day, with the skill, ``north_km`` north of the job."""
    technician.status = "available"
    technician.home_latitude = Decimal("30.280000")
    technician.home_longitude = Decimal("120.130000")
    technician.last_latitude = Decimal(str(round(30.28 + north_km / 111.2, 6)))
    technician.last_longitude = Decimal("120.130000")
    technician.save()
    TechnicianSkill.objects.get_or_create(technician=technician, skill=skill, defaults={"level": 3})
    for weekday in range(7):
        Shift.objects.create(
            technician=technician, weekday=weekday, starts_at=dt.time(0), ends_at=dt.time(23, 59)
        )
    return technician


@pytest.fixture
def crew(world) -> Crew:  # noqa: F811 - the fixture above
    skill = SkillTag.objects.create(organization=world.org, name="空调制冷", code="cooling")
    world.fault_type.required_skills.add(skill)
    tom = make_ready(world.technician, skill, north_km=1)

    def onboard(phone: str, name: str, north_km: float) -> Technician:
        technician = technician_onboard(
            organization=world.org,
            phone=phone,
            display_name=name,
            home_latitude=Decimal("30.28"),
            home_longitude=Decimal("120.13"),
        )
        return make_ready(technician, skill, north_km=north_km)

    ted = onboard("13900000021", "Ted", 3)
    tina = onboard("13900000022", "Tina", 6)
    policy = DispatchPolicy.objects.create(organization=world.org, mode=DispatchMode.OFFER)
    return Crew(world, policy, tom, ted, tina, skill)
