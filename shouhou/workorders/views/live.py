"""Server-Sent Event streams behind the live pages (docs/live.md).

Each stream checks access exactly as its page does (another tenant's order answers 404), then
streams ``text/event-stream``: the events missed since ``Last-Event-ID`` (or ``?last=``) from
the database, then live ones, with a keep-alive comment every ``LIVE_KEEPALIVE_SECONDS``. Under
WSGI the body is a plain generator (one server thread per open stream); under ASGI an async
generator, so one process holds many streams.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shouhou.core.console import console_view
from shouhou.workorders import live
from shouhou.workorders.selectors import (
    technician_profiles_of,
    workorder_get_by_token,
    workorder_get_for_customer,
)


def event_stream(request: HttpRequest, scope: live.Scope) -> StreamingHttpResponse:
    last_id = live.parse_last_id(request.headers.get("Last-Event-ID"), request.GET.get("last"))
    body = live.stream_body(scope, last_id, asynchronous=isinstance(request, ASGIRequest))
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@never_cache
@require_GET
def track_stream(request: HttpRequest, token: str) -> HttpResponseBase:
    """/t/<token>/stream/: the order behind a tracking link, as its customer sees it."""
    order = workorder_get_by_token(token=token)
    return event_stream(request, live.customer_scope(order))


@never_cache
@login_required
@require_GET
def my_order_stream(request: HttpRequest, number: str) -> HttpResponseBase:
    """/my/orders/<number>/stream/: the signed-in customer's own order."""
    order = workorder_get_for_customer(user=request.user, number=number)
    return event_stream(request, live.customer_scope(order))


@never_cache
@login_required
@require_GET
def technician_stream(request: HttpRequest) -> HttpResponseBase:
    """/tech/jobs/stream/: every job of the signed-in technician's profiles."""
    technician_ids = list(technician_profiles_of(user=request.user).values_list("pk", flat=True))
    if not technician_ids:
        raise Http404
    return event_stream(request, live.technician_scope(technician_ids))


@never_cache
@require_GET
@console_view  # type: ignore[arg-type]
def console_stream(request: HttpRequest, organization: int) -> HttpResponseBase:
    """/console/work-orders/stream/: the active organisation's orders (owned or served)."""
    return event_stream(request, live.organization_scope(organization))
