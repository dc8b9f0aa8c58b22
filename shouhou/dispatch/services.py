"""Writes for technicians."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shouhou.accounts.choices import Role
from shouhou.accounts.models import Organization, Outlet
from shouhou.accounts.services import membership_grant, user_get_or_create_by_phone
from shouhou.catalog.models import SkillTag
from shouhou.dispatch.models import Technician, TechnicianSkill, TechnicianStatus


@transaction.atomic
def technician_onboard(
    *,
    organization: Organization,
    phone: str,
    display_name: str,
    home_latitude: Decimal,
    home_longitude: Decimal,
    outlet: Outlet | None = None,
    skills: dict[SkillTag, int] | None = None,
) -> Technician:
    """Create (or return) the technician with this number in ``organization``.

    Creates the login if the number has none, grants the ``technician`` role and records the
    skills with their levels. Idempotent: a second call changes nothing that exists.
    """
    user = user_get_or_create_by_phone(phone=phone, display_name=display_name)
    membership_grant(user=user, organization=organization, role=Role.TECHNICIAN, outlet=outlet)
    technician, _created = Technician.objects.get_or_create(
        organization=organization,
        user=user,
        defaults={
            "outlet": outlet,
            "home_latitude": home_latitude,
            "home_longitude": home_longitude,
        },
    )
    for skill, level in (skills or {}).items():
        if skill.organization_id != organization.pk:
            continue
        TechnicianSkill.objects.get_or_create(
            technician=technician, skill=skill, defaults={"level": level}
        )
    return technician


def technician_set_status(
    *,
    technician: Technician,
    status: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Technician:
    """Set the technician's live status (off duty, available, on the way, on site) and, when a
    position comes with it, their last known location. Writes only those columns."""
    if status not in TechnicianStatus.values:
        raise ValueError(f"unknown technician status {status!r}")
    technician.status = status
    fields = ["status", "updated_at"]
    if latitude is not None and longitude is not None:
        technician.last_latitude, technician.last_longitude = latitude, longitude
        technician.last_seen_at = timezone.now()
        fields += ["last_latitude", "last_longitude", "last_seen_at"]
    technician.save(update_fields=fields)
    return technician
