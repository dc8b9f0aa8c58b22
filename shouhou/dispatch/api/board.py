"""The dispatch API: run the peak batch, read the dispatch board.

Both act for one organisation: the caller must be staff of it (operators to run the batch,
any console role to read the board); another organisation's id answers 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.choices import CONSOLE_ROLES
from shouhou.accounts.models import Organization
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.dispatch.api import serializers as io
from shouhou.dispatch.selectors import dispatch_board
from shouhou.dispatch.services import batch_dispatch
from shouhou.workorders.access import OPERATOR_ROLES
from shouhou.workorders.services import Actor


def _organization_for(request: Request, requested: int | None, roles: Any) -> Organization:
    """The organisation to act for: the one asked for (404 unless the caller is its staff in
    one of ``roles``), or the caller's only one."""
    user = request.user
    if sees_everything(user):
        ids = visible = set(Organization.objects.values_list("pk", flat=True))
    else:
        ids = organization_ids_for(user, roles=roles)
        visible = organization_ids_for(user, roles=CONSOLE_ROLES)
    if requested is None:
        if len(ids) != 1:
            if not ids and visible:
                raise PermissionDenied(_("Only operators can dispatch work orders."))
            raise serializers.ValidationError({"organization": [_("Choose the organisation.")]})
        (requested,) = ids
    if requested not in visible:
        raise Http404
    if requested not in ids:
        raise PermissionDenied(_("Only operators can dispatch work orders."))
    return Organization.objects.get(pk=requested)


def _board_rows(board: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for order in [*board["waiting"], *board["at_risk"]]:
        rows.append(
            {
                "number": order.number,
                "status": order.status,
                "priority": order.priority,
                "fulfilment_mode": order.fulfilment_mode,
                "fault_type": order.fault_type.name if order.fault_type else None,
                "latitude": float(order.latitude) if order.latitude is not None else None,
                "longitude": float(order.longitude) if order.longitude is not None else None,
                "window_start": order.appointment_start or order.preferred_start,
                "window_end": order.appointment_end
                if order.appointment_start
                else order.preferred_end,
                "unassigned": order.technician_id is None,
                "risk": board["risks"].get(order.pk, ""),
                "technician_id": order.technician_id,
                "technician": str(order.technician) if order.technician else "",
            }
        )
    return rows


class DispatchBatchView(APIView):
    """POST /api/v1/dispatch/batch/ (the per-order suggestions are on work orders)."""

    @extend_schema(
        operation_id="dispatch_batch",
        request=io.OrganizationInput,
        responses=io.BatchResultSerializer,
    )
    def post(self, request: Request) -> Response:
        """Peak batch: give every waiting order (accepted, no technician, on site or remote)
        to the network's technicians in one min-cost matching that respects each technician's
        remaining capacity and every hard constraint. Each assignment is an event with its
        explanation; orders that cannot be assigned stay waiting, with the reason."""
        parsed = io.OrganizationInput(data=request.data)
        parsed.is_valid(raise_exception=True)
        organization = _organization_for(
            request, parsed.validated_data.get("organization"), OPERATOR_ROLES
        )
        result = batch_dispatch(
            organization=organization,
            actor=Actor(user=request.user, role="agent"),  # type: ignore[arg-type]
        )
        return Response(io.BatchResultSerializer(result).data)


class DispatchBoardView(APIView):
    """GET /api/v1/dispatch/board/."""

    @extend_schema(
        operation_id="dispatch_board",
        parameters=[
            OpenApiParameter(
                "organization",
                int,
                required=False,
                description="The organisation; may be left out when the caller is staff of one.",
            )
        ],
        responses=io.BoardSerializer,
    )
    def get(self, request: Request) -> Response:
        """The dispatch board's data: orders waiting for a technician and orders at risk
        (window started or within two hours, nobody on the way), the network's technicians
        with live status, position and today's load."""
        raw = request.query_params.get("organization")
        try:
            requested = int(raw) if raw else None
        except ValueError:
            raise Http404 from None
        organization = _organization_for(request, requested, CONSOLE_ROLES)
        board = dispatch_board(organization_id=organization.pk)
        body = {
            "at": board["at"],
            "organization": organization.pk,
            "orders": _board_rows(board),
            "technicians": board["technicians"],
        }
        return Response(io.BoardSerializer(body).data)
