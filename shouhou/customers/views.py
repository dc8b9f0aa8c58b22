"""The customer's workspace (我的服务) on a phone-sized page: my orders and my devices."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shouhou.customers.selectors import asset_list_of_person

RECENT_ORDERS = 5


@login_required
def customer_home(request: HttpRequest) -> HttpResponse:
    # Imported here: workorders depends on customers, not the other way round.
    from shouhou.workorders.choices import CUSTOMER_LABELS, STATUS_COLOURS
    from shouhou.workorders.selectors import workorder_list_for_customer
    from shouhou.workorders.views.customer import organizations_accepting_reports

    orders = workorder_list_for_customer(user=request.user).order_by("-submitted_at", "-pk")
    order_rows = [
        (order, CUSTOMER_LABELS[order.status], STATUS_COLOURS[order.status])
        for order in orders[: RECENT_ORDERS + 1]
    ]
    assets = list(asset_list_of_person(user=request.user))
    today = timezone.localdate()
    rows = [(asset, asset.is_under_warranty(today)) for asset in assets]
    return render(
        request,
        "customers/home.html",
        {
            "rows": rows,
            "order_rows": order_rows[:RECENT_ORDERS],
            "more_orders": len(order_rows) > RECENT_ORDERS,
            "organizations": organizations_accepting_reports(),
        },
    )
