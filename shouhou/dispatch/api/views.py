"""The dispatch API: a technician's offers (accept, decline), the job pool (grab), and the
first-dispatch success rate for staff. Other tenants' offers and pool entries answer 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.choices import CONSOLE_ROLES
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.dispatch import offers as services
from shouhou.dispatch import selectors
from shouhou.dispatch.models import DispatchAttempt
from shouhou.workorders.services import Actor


def _job_summary(order: Any) -> dict[str, Any]:
    """What a technician needs to decide, before the job is theirs: no customer name, no
    phone, no street address (the district only)."""
    address = order.address
    return {
        "number": order.number,
        "service_type": str(order.service_type) if order.service_type_id else "",
        "fault_type": str(order.fault_type) if order.fault_type_id else "",
        "product": str(order.product_model or order.category or ""),
        "description": order.description,
        "priority": order.priority,
        "area": " ".join(part for part in (address.city, address.district) if part)
        if address
        else "",
        "preferred_start": order.preferred_start,
        "preferred_end": order.preferred_end,
    }


class JobSummarySerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    service_type = serializers.CharField()
    fault_type = serializers.CharField()
    product = serializers.CharField()
    description = serializers.CharField()
    priority = serializers.CharField()
    area = serializers.CharField(
        help_text="City and district only; the address comes with the job."
    )
    preferred_start = serializers.DateTimeField(allow_null=True)
    preferred_end = serializers.DateTimeField(allow_null=True)


class OfferSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    work_order = JobSummarySerializer()
    outcome = serializers.CharField()
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    seconds_left = serializers.IntegerField()
    distance_km = serializers.FloatField(allow_null=True)

    @staticmethod
    def represent(attempt: DispatchAttempt, now: dt.datetime) -> dict[str, Any]:
        assert attempt.expires_at is not None
        return {
            "id": attempt.pk,
            "work_order": _job_summary(attempt.work_order),
            "outcome": attempt.outcome,
            "offered_at": attempt.offered_at,
            "expires_at": attempt.expires_at,
            "seconds_left": max(0, int((attempt.expires_at - now).total_seconds())),
            "distance_km": attempt.explanation.get("distance_km"),
        }


class PoolJobSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    work_order = JobSummarySerializer()
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    distance_km = serializers.FloatField(allow_null=True, help_text="By road, estimated.")


class DeclineInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class WorkOrderRefSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    status = serializers.CharField()


def _actor(request: Request) -> Actor:
    return Actor(user=request.user, role="technician")  # type: ignore[arg-type]


class OfferViewSet(viewsets.ViewSet):
    """Jobs offered to me (the technician), each open for a few minutes."""

    permission_classes = [IsAuthenticated]
    lookup_value_regex = r"\d+"

    @extend_schema(responses=OfferSerializer(many=True))
    def list(self, request: Request) -> Response:
        """My open offers, soonest to expire first (due offers are expired first)."""
        now = timezone.now()
        rows = selectors.offer_list_for_technician(user=request.user, now=now)
        return Response(
            OfferSerializer([OfferSerializer.represent(a, now) for a in rows], many=True).data
        )

    @extend_schema(request=None, responses=WorkOrderRefSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Take the offered job: it is assigned to me and accepted (已接单). 409 when the offer
        is closed (answered, expired, or the order went another way)."""
        attempt = selectors.offer_get_for_technician(user=request.user, pk=int(pk))
        order = services.offer_accept(
            attempt=attempt, technician=attempt.technician, actor=_actor(request)
        )
        return Response(
            WorkOrderRefSerializer({"number": order.number, "status": order.status}).data
        )

    @extend_schema(request=DeclineInput, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        """Say no; the next ranked technician gets the offer."""
        attempt = selectors.offer_get_for_technician(user=request.user, pk=int(pk))
        parsed = DeclineInput(data=request.data)
        parsed.is_valid(raise_exception=True)
        now = timezone.now()
        closed = services.offer_decline(
            attempt=attempt,
            technician=attempt.technician,
            actor=_actor(request),
            reason=parsed.validated_data["reason"],
            now=now,
        )
        return Response(OfferSerializer(OfferSerializer.represent(closed, now)).data)


class PoolViewSet(viewsets.ViewSet):
    """The job pool (工单池): jobs I am qualified for and near enough to take; first grab wins."""

    permission_classes = [IsAuthenticated]
    lookup_value_regex = r"\d+"

    @extend_schema(responses=PoolJobSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Jobs in the pool I may grab, nearest first."""
        jobs = selectors.pool_list_for_technician(user=request.user)
        rows = [
            {
                "id": job.attempt.pk,
                "work_order": _job_summary(job.work_order),
                "offered_at": job.attempt.offered_at,
                "expires_at": job.attempt.expires_at,
                "distance_km": job.distance_km,
            }
            for job in jobs
        ]
        return Response(PoolJobSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=WorkOrderRefSerializer)
    @action(detail=True, methods=["post"])
    def grab(self, request: Request, pk: str) -> Response:
        """抢单: take the job. 409 ``pool_job_taken`` when somebody else was first, 409
        ``pool_job_not_eligible`` when the job needs skills, an area or time I lack."""
        entry, technician = selectors.pool_entry_get_for_technician(user=request.user, pk=int(pk))
        order = services.pool_grab(attempt=entry, technician=technician, actor=_actor(request))
        return Response(
            WorkOrderRefSerializer({"number": order.number, "status": order.status}).data
        )


class SuccessRateSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    orders = serializers.IntegerField(help_text="Orders first dispatched in the period, answered.")
    succeeded = serializers.IntegerField(help_text="Taken by the first technician asked.")
    declined = serializers.IntegerField()
    expired = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="succeeded ÷ orders, or null.")
    by_mode = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))


class SuccessRateView(APIView):
    """The first-dispatch success rate of my organisations (or of one of them)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", dt.datetime, description="Start (default: 30 days ago)."),
            OpenApiParameter("until", dt.datetime, description="End, exclusive (default: now)."),
            OpenApiParameter("organization", int, description="One of my organisations."),
        ],
        responses=SuccessRateSerializer,
    )
    def get(self, request: Request) -> Response:
        params = _RangeInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        until = params.validated_data.get("until") or timezone.now()
        since = params.validated_data.get("since") or until - dt.timedelta(days=30)
        if sees_everything(request.user):
            from shouhou.accounts.models import Organization

            ids = set(Organization.objects.values_list("pk", flat=True))
        else:
            ids = organization_ids_for(request.user, roles=CONSOLE_ROLES)
        wanted = params.validated_data.get("organization")
        if wanted is not None:
            if wanted not in ids:
                raise ValidationError({"organization": ["Not one of your organisations."]})
            ids = {wanted}
        result = selectors.first_dispatch_success_rate(
            organization_ids=ids, since=since, until=until
        )
        return Response(
            SuccessRateSerializer(
                {
                    "since": since,
                    "until": until,
                    "orders": result.orders,
                    "succeeded": result.succeeded,
                    "declined": result.declined,
                    "expired": result.expired,
                    "rate": result.rate,
                    "by_mode": result.by_mode,
                }
            ).data
        )


class _RangeInput(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    organization = serializers.IntegerField(required=False)
