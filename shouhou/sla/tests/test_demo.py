"""The demo (``make run``) has SLA policies, and its orders' clocks follow them."""

from __future__ import annotations

import pytest

from shouhou.demo.build import build_demo
from shouhou.sla.models import SlaClock, SlaPolicy

pytestmark = pytest.mark.django_db


def test_demo_appliance_brand_has_sla_policies_and_its_orders_have_clocks():
    # given the appliance demo, built twice (the second build changes nothing)
    build_demo(verticals=["appliance"])
    build_demo(verticals=["appliance"])
    # then the brand's three policies exist once each
    rows = SlaPolicy.objects.values_list("organization__code", "service_type__code", "priority")
    assert sorted((org, service or "", priority) for org, service, priority in rows) == [
        ("qingfeng", "", ""),
        ("qingfeng", "home-repair", "urgent"),
        ("qingfeng", "install", ""),
    ]
    # and every demo order has its response and resolution clocks, set by a demo policy
    clocks = SlaClock.objects.filter(work_order__organization__code="qingfeng")
    orders = {clock.work_order_id for clock in clocks}
    assert SlaClock.objects.filter(target="response").count() == len(orders)
    assert not clocks.filter(policy__isnull=True).exists()
    # and cancelled orders' open clocks were cancelled with them
    assert not clocks.filter(
        work_order__status="cancelled", met_at__isnull=True, cancelled_at__isnull=True
    ).exists()
