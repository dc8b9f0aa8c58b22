"""Reads of webhook endpoints and deliveries, scoped to the organisations the user administers.

Only organisation administrators manage webhooks (console and API); every other role, and every
other organisation, sees nothing: a lookup outside that scope raises ``Http404``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MANAGER_ROLES = frozenset({"admin"})


def webhook_manager_organization_ids(user: Any) -> set[int] | None:
    """The organisations whose webhooks ``user`` manages; None means every one (superuser)."""
    if sees_everything(user):
        return None
    return organization_ids_for(user, roles=MANAGER_ROLES)


def webhook_is_manager(user: Any, organization_id: int) -> bool:
    ids = webhook_manager_organization_ids(user)
    return ids is None or organization_id in ids


def webhook_endpoint_list(*, user: Any, organization_id: int | None = None) -> QuerySet[Any]:
    """The endpoints the user manages (in one organisation if given), each annotated with its
    newest delivery's ``last_state``, ``last_code`` and ``last_at`` (one query in all)."""
    endpoints = WebhookEndpoint.objects.all()
    ids = webhook_manager_organization_ids(user)
    if ids is not None:
        endpoints = endpoints.filter(organization_id__in=ids)
    if organization_id is not None:
        endpoints = endpoints.filter(organization_id=organization_id)
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-pk")
    return endpoints.annotate(
        last_state=Subquery(newest.values("state")[:1]),
        last_code=Subquery(newest.values("last_status_code")[:1]),
        last_at=Subquery(newest.values("created_at")[:1]),
        last_event_type=Subquery(newest.values("event_type")[:1]),
    ).order_by("url", "pk")


def webhook_endpoint_get(
    *, user: Any, pk: object, organization_id: int | None = None
) -> WebhookEndpoint:
    """One endpoint the user manages, or ``Http404``."""
    try:
        return webhook_endpoint_list(user=user, organization_id=organization_id).get(pk=pk)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def webhook_delivery_list(*, user: Any, organization_id: int | None = None) -> QuerySet[Any]:
    """Deliveries to endpoints the user manages, newest first, with the last attempt's
    ``last_duration_ms`` annotated."""
    deliveries = WebhookDelivery.objects.select_related("endpoint", "event__work_order")
    ids = webhook_manager_organization_ids(user)
    if ids is not None:
        deliveries = deliveries.filter(endpoint__organization_id__in=ids)
    if organization_id is not None:
        deliveries = deliveries.filter(endpoint__organization_id=organization_id)
    last_attempt = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by(
        "-started_at", "-pk"
    )
    return deliveries.annotate(
        last_duration_ms=Subquery(last_attempt.values("duration_ms")[:1])
    ).order_by("-created_at", "-pk")


def webhook_delivery_get(
    *, user: Any, pk: object, organization_id: int | None = None
) -> WebhookDelivery:
    """One delivery to an endpoint the user manages, or ``Http404``."""
    try:
        return webhook_delivery_list(user=user, organization_id=organization_id).get(pk=pk)
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
