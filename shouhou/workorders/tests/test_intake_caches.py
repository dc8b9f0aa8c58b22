"""The short-lived caches on the intake path: fewer queries, and a change is seen at once in
the process that made it (other processes see it when the entry expires)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test.utils import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shouhou.accounts.models import Membership
from shouhou.api.authentication import organizations, principals
from shouhou.catalog.models import FaultType, PriceListItem, ServiceType
from shouhou.catalog.selectors import catalog_cache, catalog_row, fault_type_estimate_range
from shouhou.core.cache import TtlCache
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.tests.test_api import create_payload

pytestmark = pytest.mark.django_db

CACHED = override_settings(API_TOKEN_CACHE_SECONDS=10, CATALOG_CACHE_SECONDS=60)


@pytest.fixture(autouse=True)
def _empty_caches():
    for cache in (principals, organizations, catalog_cache):
        cache.clear()
    yield
    for cache in (principals, organizations, catalog_cache):
        cache.clear()


def token_client(user) -> APIClient:
    key = Token.objects.create(user=user).key
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en")


def test_ttl_cache_expires_and_zero_turns_it_off(monkeypatch):
    cache: TtlCache[int] = TtlCache("SOME_CACHE_SECONDS")
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with override_settings(SOME_CACHE_SECONDS=0):
        assert [cache.get_or_compute("k", compute) for _ in range(3)] == [1, 2, 3]
    clock = [1000.0]
    monkeypatch.setattr("shouhou.core.cache.time.monotonic", lambda: clock[0])
    with override_settings(SOME_CACHE_SECONDS=5):
        assert cache.get_or_compute("k", compute) == 4
        clock[0] += 4.9
        assert cache.get_or_compute("k", compute) == 4  # still fresh
        clock[0] += 0.2
        assert cache.get_or_compute("k", compute) == 5  # expired, computed again
        cache.clear()
        assert cache.get_or_compute("k", compute) == 6


def test_ttl_cache_never_grows_past_its_limit():
    cache: TtlCache[int] = TtlCache("SOME_CACHE_SECONDS", max_entries=3)
    with override_settings(SOME_CACHE_SECONDS=60):
        for key in range(10):
            cache.get_or_compute(key, lambda key=key: key)
            assert len(cache) <= 3


@CACHED
def test_cached_token_saves_the_principal_queries(world, agent, django_assert_max_num_queries):
    api = token_client(agent)
    first = api.post("/api/v1/work-orders/", create_payload(world), format="json")
    assert first.status_code == 201
    payload = create_payload(world, customer={"name": "王女士", "phone": "13800138001"})
    # token, memberships, organisation, service type, fault type and the estimate are all
    # remembered: what is left is the order itself
    with django_assert_max_num_queries(11) as captured:
        second = api.post("/api/v1/work-orders/", payload, format="json")
    assert second.status_code == 201
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "authtoken_token" not in sql
    assert "accounts_membership" not in sql
    assert "catalog_" not in sql
    assert WorkOrder.objects.filter(organization=world.org).count() == 2


@CACHED
def test_deleted_token_stops_working_at_once_in_this_process(world, agent):
    api = token_client(agent)
    assert api.get("/api/v1/work-orders/").status_code == 200
    Token.objects.filter(user=agent).delete()
    response = api.get("/api/v1/work-orders/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@CACHED
def test_removed_membership_is_seen_at_once_in_this_process(world, agent):
    api = token_client(agent)
    assert api.post("/api/v1/work-orders/", create_payload(world), format="json").status_code == 201
    Membership.objects.filter(user=agent).delete()
    response = api.post(
        "/api/v1/work-orders/",
        create_payload(world, customer={"name": "李先生", "phone": "13800138002"}),
        format="json",
    )
    assert response.status_code == 403
    assert WorkOrder.objects.filter(organization=world.org).count() == 1


@CACHED
def test_catalog_row_is_scoped_and_forgotten_on_change(world, org_b):
    row = catalog_row(ServiceType, pk=world.service_type.pk, organization_ids={world.org.pk})
    assert row == world.service_type
    # the cached row is still refused to another organisation
    assert catalog_row(ServiceType, pk=world.service_type.pk, organization_ids={org_b.pk}) is None
    assert catalog_row(ServiceType, pk=10**9, organization_ids={world.org.pk}) is None
    ServiceType.objects.filter(pk=world.service_type.pk).update(name="stale")  # no signal
    cached = catalog_row(ServiceType, pk=world.service_type.pk, organization_ids={world.org.pk})
    assert cached is not None and cached.name == world.service_type.name
    world.service_type.name = "安装"
    world.service_type.save()  # a save in this process forgets the cache
    fresh = catalog_row(ServiceType, pk=world.service_type.pk, organization_ids={world.org.pk})
    assert fresh is not None and fresh.name == "安装"


@CACHED
def test_estimate_follows_a_price_change_made_in_this_process(world):
    day = dt.date(2026, 11, 22)
    fault = FaultType.objects.get(pk=world.fault_type.pk)
    assert fault_type_estimate_range(fault_type=fault, on=day, product_model_id=None) == (
        Decimal("80.00"),
        Decimal("230.00"),
    )
    labour = PriceListItem.objects.get(organization=world.org, code="labour-ac")
    labour.unit_price = Decimal("100.00")
    labour.save()
    assert fault_type_estimate_range(fault_type=fault, on=day, product_model_id=None) == (
        Decimal("100.00"),
        Decimal("250.00"),
    )
