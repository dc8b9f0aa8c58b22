"""Webhook pages of the staff console, mounted at /console/webhooks/ ("webhooks_console").

The endpoints of the active organisation with their newest delivery, create and edit, rotate
the signing secret (the new one is shown once, on the answer to the POST, never again), enable
and disable, delete (an endpoint with deliveries is only disabled, so its log stays), the
deliveries log with a state filter, one delivery with what was sent and answered, "Send again"
and "Send test event".

Only organisation administrators see these pages: other console roles get 403 (the link is
not in their menu). Another organisation's endpoint or delivery answers 404 on every URL.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from shouhou.accounts.models import Organization
from shouhou.core.console import console_view
from shouhou.core.errors import DomainError
from shouhou.webhooks import selectors, services
from shouhou.webhooks.choices import PING, WebhookDeliveryState
from shouhou.webhooks.forms import DeliveryFilterForm, WebhookEndpointForm
from shouhou.webhooks.models import WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.tasks import send_webhook
from shouhou.workorders.choices import EventType

PAGE_SIZE = 50
STATE_COLOURS: dict[str, str] = {
    WebhookDeliveryState.PENDING: "grey",
    WebhookDeliveryState.RUNNING: "blue",
    WebhookDeliveryState.RETRYING: "orange",
    WebhookDeliveryState.DELIVERED: "green",
    WebhookDeliveryState.FAILED: "red",
}


def event_type_label(value: str) -> str:
    if value == PING:
        return _("Test event (ping)")
    try:
        return str(EventType(value).label)
    except ValueError:
        return value


def _require_manager(request: HttpRequest, organization: int) -> None:
    if not selectors.webhook_is_manager(request.user, organization):
        raise PermissionDenied(_("Only organisation administrators manage webhooks."))


def _endpoint(request: HttpRequest, organization: int, pk: int) -> WebhookEndpoint:
    _require_manager(request, organization)
    return selectors.webhook_endpoint_get(user=request.user, pk=pk, organization_id=organization)


def _delivery(request: HttpRequest, organization: int, pk: int) -> WebhookDelivery:
    _require_manager(request, organization)
    return selectors.webhook_delivery_get(user=request.user, pk=pk, organization_id=organization)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, *, created: bool) -> HttpResponse:
    """The only page that shows a secret: the answer to the create or rotate POST, not cached."""
    response = render(
        request,
        "webhooks/console/secret.html",
        {"endpoint": endpoint, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- pages -----------------------------------------------------------------------------------


@console_view
def endpoint_list(request: HttpRequest, organization: int) -> HttpResponse:
    _require_manager(request, organization)
    endpoints = list(
        selectors.webhook_endpoint_list(user=request.user, organization_id=organization)
    )
    for endpoint in endpoints:
        endpoint.last_colour = STATE_COLOURS.get(endpoint.last_state, "")  # type: ignore[attr-defined]
        endpoint.last_state_label = (  # type: ignore[attr-defined]
            WebhookDeliveryState(endpoint.last_state).label if endpoint.last_state else ""  # type: ignore[attr-defined]
        )
    return render(request, "webhooks/console/endpoint_list.html", {"endpoints": endpoints})


@console_view
def endpoint_create(request: HttpRequest, organization: int) -> HttpResponse:
    _require_manager(request, organization)
    status = 200
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    organization=Organization.objects.get(pk=organization),
                    **form.cleaned_data,
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                return _secret_page(request, endpoint, created=True)
        status = 400
    else:
        form = WebhookEndpointForm()
    return render(
        request,
        "webhooks/console/endpoint_form.html",
        {"form": form, "endpoint": None},
        status=status,
    )


@console_view
def endpoint_detail(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    """The endpoint's settings and actions, and its deliveries log (filtered by state)."""
    endpoint = _endpoint(request, organization, pk)
    filters = DeliveryFilterForm(request.GET or None)
    deliveries = selectors.webhook_delivery_list(
        user=request.user, organization_id=organization
    ).filter(endpoint=endpoint)
    if filters.is_valid() and filters.cleaned_data["state"]:
        deliveries = deliveries.filter(state=filters.cleaned_data["state"])
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_delivery_row(delivery) for delivery in page]
    return render(
        request,
        "webhooks/console/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "event_type_labels": [event_type_label(v) for v in endpoint.event_types],
            "page": page,
            "rows": rows,
            "states": WebhookDeliveryState.choices,
            "shown": filters.cleaned_data.get("state", "") if filters.is_valid() else "",
        },
    )


def _delivery_row(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery": delivery,
        "event_label": event_type_label(delivery.event_type),
        "colour": STATE_COLOURS.get(delivery.state, ""),
        "waiting": delivery.state in (WebhookDeliveryState.PENDING, WebhookDeliveryState.RETRYING),
    }


@console_view
def endpoint_edit(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, organization, pk)
    status = 200
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_endpoint_update(endpoint=endpoint, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The endpoint is saved."))
                return redirect("webhooks_console:detail", pk=endpoint.pk)
        status = 400
    else:
        form = WebhookEndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "is_active": endpoint.is_active,
            }
        )
    return render(
        request,
        "webhooks/console/endpoint_form.html",
        {"form": form, "endpoint": endpoint},
        status=status,
    )


@console_view
def endpoint_rotate(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, organization, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    endpoint = services.webhook_secret_rotate(endpoint=endpoint)
    return _secret_page(request, endpoint, created=False)


@console_view
def endpoint_set_active(
    request: HttpRequest, organization: int, pk: int, *, is_active: bool
) -> HttpResponse:
    endpoint = _endpoint(request, organization, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    services.webhook_endpoint_set_active(endpoint=endpoint, is_active=is_active)
    messages.success(
        request, _("The endpoint is enabled.") if is_active else _("The endpoint is disabled.")
    )
    return redirect("webhooks_console:detail", pk=endpoint.pk)


@console_view
def endpoint_delete(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes (or, with deliveries logged, only disables)."""
    endpoint = _endpoint(request, organization, pk)
    has_deliveries = endpoint.deliveries.exists()
    if request.method == "POST":
        if services.webhook_endpoint_delete(endpoint=endpoint):
            messages.success(request, _("The endpoint is deleted."))
            return redirect("webhooks_console:list")
        messages.warning(
            request,
            _("The endpoint has deliveries in its log, so it is disabled instead of deleted."),
        )
        return redirect("webhooks_console:detail", pk=endpoint.pk)
    return render(
        request,
        "webhooks/console/endpoint_delete.html",
        {"endpoint": endpoint, "has_deliveries": has_deliveries},
    )


@console_view
def endpoint_test(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, organization, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("webhooks_console:detail", pk=endpoint.pk)
    messages.success(request, _("A test event is on its way."))
    return redirect("webhooks_console:delivery", pk=delivery.pk)


@console_view
def delivery_detail(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    """What was sent (body, headers with the signature) and answered, attempt by attempt.
    While the delivery waits, the page refreshes its body every few seconds (htmx)."""
    delivery = _delivery(request, organization, pk)
    attempts = []
    for attempt in delivery.attempt_log.order_by("-started_at", "-pk"):
        try:
            body = json.dumps(json.loads(attempt.request_body), indent=2, ensure_ascii=False)
        except ValueError:
            body = attempt.request_body
        attempts.append({"attempt": attempt, "body": body})
    context = {
        **_delivery_row(delivery),
        "attempts": attempts,
        "polling": delivery.state in (WebhookDeliveryState.PENDING, WebhookDeliveryState.RUNNING)
        and delivery.next_attempt_at is not None,
        "can_replay": delivery.endpoint.is_active,
    }
    if getattr(request, "htmx", False):
        return render(request, "webhooks/partials/_delivery_body.html", context)
    return render(request, "webhooks/console/delivery_detail.html", context)


@console_view
def delivery_replay(request: HttpRequest, organization: int, pk: int) -> HttpResponse:
    delivery = _delivery(request, organization, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        services.webhook_delivery_replay(delivery=delivery)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        send_webhook.enqueue(delivery.pk)
        messages.success(request, _("The delivery is sent again."))
    return redirect(reverse("webhooks_console:delivery", args=[delivery.pk]))
