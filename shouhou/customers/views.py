"""The customer's workspace (我的服务) on a phone-sized page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shouhou.customers.selectors import asset_list_of_person


@login_required
def customer_home(request: HttpRequest) -> HttpResponse:
    assets = list(asset_list_of_person(user=request.user))
    today = timezone.localdate()
    rows = [(asset, asset.is_under_warranty(today)) for asset in assets]
    return render(request, "customers/home.html", {"rows": rows})
