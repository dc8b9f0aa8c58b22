"""Route plans in the API: read a technician's day, ask for a re-plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.dispatch.models import RoutePlan, RouteStop, Technician
from shouhou.dispatch.routes import (
    UNASSIGNED_REASONS,
    route_plan_build,
    route_plan_get,
    route_technicians_visible_to,
)


class RouteStopSerializer(serializers.ModelSerializer[RouteStop]):
    work_order = serializers.CharField(source="work_order.number", read_only=True)

    class Meta:
        model = RouteStop
        fields = [
            "sequence",
            "work_order",
            "visit",
            "eta",
            "planned_start",
            "planned_end",
            "travel_seconds",
            "distance_m",
        ]
        read_only_fields = fields


class UnassignedSerializer(serializers.Serializer[Any]):
    work_order = serializers.CharField()
    reason = serializers.ChoiceField(choices=sorted(UNASSIGNED_REASONS))
    message = serializers.CharField()


class RoutePlanSerializer(serializers.ModelSerializer[RoutePlan]):
    stops = RouteStopSerializer(many=True, read_only=True)
    unassigned = serializers.SerializerMethodField()

    class Meta:
        model = RoutePlan
        fields = [
            "technician",
            "day",
            "computed_at",
            "starts_at",
            "ends_at",
            "total_travel_seconds",
            "total_distance_m",
            "solver",
            "stops",
            "unassigned",
        ]
        read_only_fields = fields

    @extend_schema_field(UnassignedSerializer(many=True))
    def get_unassigned(self, plan: RoutePlan) -> list[dict[str, str]]:
        return [
            {**row, "message": str(UNASSIGNED_REASONS.get(row.get("reason", ""), ""))}
            for row in plan.unassigned
        ]


class ReplanInput(serializers.Serializer[Any]):
    seconds = serializers.FloatField(
        required=False, min_value=0.1, max_value=30, help_text="Solver time limit (default 1 s)."
    )


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({"day": "Use the form YYYY-MM-DD."}) from None


def _technician(request: Request, technician_id: int) -> Technician:
    """The technician if the caller may see their routes; another tenant's answers 404."""
    return get_object_or_404(route_technicians_visible_to(request.user), pk=technician_id)


class TechnicianRouteView(APIView):
    """GET /api/v1/technicians/{id}/routes/{day}/: the stored route plan of that day."""

    @extend_schema(
        operation_id="technician_route_retrieve",
        parameters=[
            OpenApiParameter("technician_id", int, OpenApiParameter.PATH),
            OpenApiParameter("day", str, OpenApiParameter.PATH, description="YYYY-MM-DD"),
        ],
        responses=RoutePlanSerializer,
    )
    def get(self, request: Request, technician_id: int, day: str) -> Response:
        """The technician's route for the day: stops in order with ETAs, and the jobs that do
        not fit with the reason. 404 when no plan was built yet (POST .../replan/ builds one)."""
        technician = _technician(request, technician_id)
        plan = route_plan_get(technician=technician, day=_day(day))
        if plan is None:
            raise NotFound("No route plan for this day yet.")
        return Response(RoutePlanSerializer(plan).data)


class TechnicianRouteReplanView(APIView):
    """POST /api/v1/technicians/{id}/routes/{day}/replan/: solve the day again now."""

    @extend_schema(
        operation_id="technician_route_replan",
        parameters=[
            OpenApiParameter("technician_id", int, OpenApiParameter.PATH),
            OpenApiParameter("day", str, OpenApiParameter.PATH, description="YYYY-MM-DD"),
        ],
        request=ReplanInput,
        responses=RoutePlanSerializer,
    )
    def post(self, request: Request, technician_id: int, day: str) -> Response:
        """Re-optimise the technician's route for the day from the orders as they are now
        (waits for the solver, about a second) and return the new plan."""
        technician = _technician(request, technician_id)
        date = _day(day)
        payload = ReplanInput(data=request.data)
        payload.is_valid(raise_exception=True)
        route_plan_build(
            technician=technician,
            day=date,
            **(
                {"seconds": payload.validated_data["seconds"]}
                if "seconds" in payload.validated_data
                else {}
            ),
        )
        plan = route_plan_get(technician=technician, day=date)
        return Response(RoutePlanSerializer(plan).data, status=status.HTTP_200_OK)
