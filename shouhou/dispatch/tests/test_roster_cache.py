"""What ranking reads with the per-process caches on (``DISPATCH_CACHE_SECONDS`` > 0): live
state is always fresh, roster changes made in this process are seen at once, a technician
added or deactivated anywhere is seen at once, and other roster changes within the lifetime."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from shouhou.catalog.selectors import catalog_cache
from shouhou.core.testing.factories import OrganizationFactory, UserFactory
from shouhou.dispatch.models import (
    DayOff,
    DispatchMode,
    DispatchModeOverride,
    Technician,
    TechnicianSkill,
)
from shouhou.dispatch.offers import dispatch_settings_for
from shouhou.dispatch.roster import ROSTER_CACHE
from shouhou.dispatch.selectors import policy_cache, technician_pool, technician_suggestions
from shouhou.dispatch.tests.conftest import make_ready
from shouhou.workorders import services
from shouhou.workorders.services import Actor, network_cache, network_ids

pytestmark = pytest.mark.django_db

CACHED = override_settings(DISPATCH_CACHE_SECONDS=30, CATALOG_CACHE_SECONDS=60)
CACHES = (ROSTER_CACHE, policy_cache, network_cache, catalog_cache)


@pytest.fixture(autouse=True)
def _empty_caches():
    for cache in CACHES:
        cache.clear()
    yield
    for cache in CACHES:
        cache.clear()


def ranked(order, at) -> list[int]:
    return [c.technician_id for c in technician_suggestions(work_order=order, at=at).candidates]


def now_local() -> dt.datetime:
    from django.utils import timezone

    return timezone.localtime()


def test_cached_pool_matches_an_uncached_one_and_reads_less(crew):
    order = crew.order(status="accepted")
    at = now_local()
    uncached = technician_pool(organization_ids={crew.world.org.pk}, at=at)
    with CACHED:
        technician_pool(organization_ids={crew.world.org.pk}, at=at)  # fills the roster
        with CaptureQueriesContext(connection) as queries:
            cached = technician_pool(organization_ids={crew.world.org.pk}, at=at)
        assert len(queries) == 1  # only the live read
        assert ranked(order, at) == [crew.tom.pk, crew.ted.pk, crew.tina.pk]
    assert cached.ids.tolist() == uncached.ids.tolist()
    assert cached.names == uncached.names
    for name in ("latitudes", "load", "capacity", "rating", "on_shift", "on_duty", "skills"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(uncached, name), name)
    assert cached.skill_codes == uncached.skill_codes


def test_live_state_is_never_cached(crew):
    order = crew.order(status="accepted")
    at = now_local()
    with CACHED:
        assert ranked(order, at)[0] == crew.tom.pk
        # Tom goes off duty and Ted moves right onto the job: seen on the next ranking.
        Technician.objects.filter(pk=crew.tom.pk).update(status="off_duty")
        Technician.objects.filter(pk=crew.ted.pk).update(
            last_latitude=Decimal("30.280000"), last_longitude=Decimal("120.130000")
        )
        assert ranked(order, at)[0] == crew.ted.pk
        # Ted reaches his capacity: load is counted fresh every time.
        Technician.objects.filter(pk=crew.ted.pk).update(daily_capacity=1)
        crew.order(status="assigned", technician=crew.ted)
        assert ranked(order, at) == [crew.tina.pk]


def test_roster_changes_in_this_process_are_seen_at_once(crew):
    order = crew.order(status="accepted")
    at = now_local()
    with CACHED:
        assert crew.tom.pk in ranked(order, at)
        TechnicianSkill.objects.filter(technician=crew.tom).delete()  # signal per row
        assert crew.tom.pk not in ranked(order, at)
        TechnicianSkill.objects.create(technician=crew.tom, skill=crew.skill, level=5)
        assert crew.tom.pk in ranked(order, at)
        DayOff.objects.create(technician=crew.tom, day=at.date())
        assert crew.tom.pk not in ranked(order, at)


def test_a_new_or_deactivated_technician_is_seen_at_once_even_without_signals(crew):
    order = crew.order(status="accepted")
    at = now_local()
    with CACHED:
        assert ranked(order, at) == [crew.tom.pk, crew.ted.pk, crew.tina.pk]
        # Another process deactivates Ted (no signal here): the live read drops him.
        Technician.objects.filter(pk=crew.ted.pk).update(is_active=False)
        assert ranked(order, at) == [crew.tom.pk, crew.tina.pk]
        # And adds a technician with the skill: the roster no longer matches and is rebuilt.
        Technician.objects.filter(pk=crew.ted.pk).update(is_active=True)
        newcomer = make_ready(
            Technician.objects.create(
                organization=crew.world.org,
                user=UserFactory(display_name="Nia"),
                home_latitude=Decimal("30.28"),
                home_longitude=Decimal("120.13"),
            ),
            crew.skill,
            north_km=0.1,
        )
        assert ranked(order, at)[0] == newcomer.pk


def test_roster_changes_without_signals_are_seen_when_the_entry_expires(crew, monkeypatch):
    order = crew.order(status="accepted")
    at = now_local()
    clock = [1000.0]
    monkeypatch.setattr("shouhou.core.cache.time.monotonic", lambda: clock[0])
    with CACHED:
        assert crew.tom.pk in ranked(order, at)
        # A bulk insert sends no signal (as a change in another process would not).
        DayOff.objects.bulk_create([DayOff(technician=crew.tom, day=at.date())])
        clock[0] += 29
        assert crew.tom.pk in ranked(order, at)  # still the remembered roster
        clock[0] += 2
        assert crew.tom.pk not in ranked(order, at)  # expired: the day off is seen


def test_policy_and_override_changes_are_seen_at_once(crew):
    order = crew.order(status="accepted")
    with CACHED:
        assert dispatch_settings_for(order).mode == crew.policy.mode
        crew.policy.mode = DispatchMode.POOL
        crew.policy.save()
        assert dispatch_settings_for(order).mode == DispatchMode.POOL
        DispatchModeOverride.objects.create(
            organization=crew.world.org,
            service_type=crew.world.service_type,
            mode=DispatchMode.MANUAL,
        )
        assert dispatch_settings_for(order).mode == DispatchMode.MANUAL


def test_network_changes_in_this_process_are_seen_at_once(crew):
    with CACHED:
        assert network_ids(crew.world.org.pk) == {crew.world.org.pk}
        partner = OrganizationFactory(parent=crew.world.org, kind="provider")
        assert network_ids(crew.world.org.pk) == {crew.world.org.pk, partner.pk}
        partner.is_active = False
        partner.save()
        assert network_ids(crew.world.org.pk) == {crew.world.org.pk}


def test_auto_accept_with_caches_assigns_the_best_and_respects_capacity(crew):
    crew.policy.mode = DispatchMode.AUTO
    crew.policy.save()
    Technician.objects.filter(pk=crew.tom.pk).update(daily_capacity=1)
    actor = Actor(user=None, role="agent")
    with CACHED:
        first = services.workorder_accept(work_order=crew.order(), actor=actor)
        second = services.workorder_accept(work_order=crew.order(), actor=actor)
    assert first.technician_id == crew.tom.pk  # the object returned is current
    assert first.status == "assigned"
    first.refresh_from_db()
    assert (first.status, first.technician_id) == ("assigned", crew.tom.pk)
    assert second.technician_id == crew.ted.pk  # Tom is at capacity now
