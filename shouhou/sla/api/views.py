"""SLA API: an order's clocks, and the organisation's SLA policies (admins change them).

Clocks are for the people who work the order (its organisation's staff, its technician);
anybody else — another organisation, the customer — gets 404. Policies are read by the
organisation's console roles and written by its admins; another organisation's policy is 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.choices import CONSOLE_ROLES
from shouhou.accounts.models import Organization
from shouhou.catalog.models import ServiceType
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.sla import services
from shouhou.sla.choices import CLOCK_STATES, SlaTarget
from shouhou.sla.models import SlaClock, SlaPolicy
from shouhou.sla.selectors import (
    clocks_for_order,
    sla_policy_admin_organization_ids,
    sla_policy_list_for_user,
)
from shouhou.workorders.access import workorder_visible_to
from shouhou.workorders.models import WorkOrder

# --- clocks ----------------------------------------------------------------------------------


class SlaClockSerializer(serializers.ModelSerializer[SlaClock]):
    target_label = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(
        help_text="running, warning, overdue, paused, met, met_late or cancelled."
    )
    state_label = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField(
        help_text="Seconds left before due (negative: overdue); frozen while paused; "
        "null once met or cancelled."
    )
    is_paused = serializers.SerializerMethodField()

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "target",
            "target_label",
            "policy",
            "target_minutes",
            "started_at",
            "warn_at",
            "due_at",
            "state",
            "state_label",
            "remaining_seconds",
            "is_paused",
            "paused_at",
            "paused_seconds",
            "warned_at",
            "breached_at",
            "met_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    def _now(self) -> Any:
        return self.context.get("now") or timezone.now()

    def get_target_label(self, clock: SlaClock) -> str:
        return str(SlaTarget(clock.target).label)

    def get_state(self, clock: SlaClock) -> str:
        return clock.state(self._now())

    def get_state_label(self, clock: SlaClock) -> str:
        return str(CLOCK_STATES[clock.state(self._now())])

    def get_remaining_seconds(self, clock: SlaClock) -> int | None:
        if not clock.is_open:
            return None
        return int(clock.remaining(self._now()).total_seconds())

    def get_is_paused(self, clock: SlaClock) -> bool:
        return clock.paused_at is not None


class WorkOrderSlaSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    clocks = SlaClockSerializer(many=True)


CLOCKS_EXAMPLE = {
    "number": "WX2611220042",
    "clocks": [
        {
            "id": 101,
            "target": "response",
            "target_label": "响应",
            "policy": 3,
            "target_minutes": 30,
            "started_at": "2026-11-22T09:00:00+08:00",
            "warn_at": "2026-11-22T09:24:00+08:00",
            "due_at": "2026-11-22T09:30:00+08:00",
            "state": "met",
            "state_label": "已达成",
            "remaining_seconds": None,
            "is_paused": False,
            "paused_at": None,
            "paused_seconds": 0,
            "warned_at": None,
            "breached_at": None,
            "met_at": "2026-11-22T09:12:00+08:00",
            "cancelled_at": None,
        },
        {
            "id": 102,
            "target": "arrival",
            "target_label": "上门/开始服务",
            "policy": 3,
            "target_minutes": 240,
            "started_at": "2026-11-22T09:12:00+08:00",
            "warn_at": "2026-11-22T12:24:00+08:00",
            "due_at": "2026-11-22T13:42:00+08:00",
            "state": "paused",
            "state_label": "已暂停（挂起）",
            "remaining_seconds": 4680,
            "is_paused": True,
            "paused_at": "2026-11-22T12:24:00+08:00",
            "paused_seconds": 1800,
            "warned_at": None,
            "breached_at": None,
            "met_at": None,
            "cancelled_at": None,
        },
    ],
}


def _order_for_sla(user: Any, number: str) -> WorkOrder:
    """The order if ``user`` is staff of an organisation that owns or serves it, or its
    technician; 404 for everybody else (customers included: the clocks are internal)."""
    order = get_object_or_404(
        workorder_visible_to(user).select_related("technician"), number=number
    )
    if sees_everything(user):
        return order
    staff_of = organization_ids_for(user, roles=CONSOLE_ROLES)
    if staff_of & {order.organization_id, order.service_organization_id}:
        return order
    if order.technician is not None and order.technician.user_id == user.pk:
        return order
    raise Http404


class WorkOrderSlaView(APIView):
    """GET /api/v1/work-orders/{number}/sla/"""

    @extend_schema(
        responses=WorkOrderSlaSerializer,
        examples=[
            OpenApiExample(
                "Accepted in time; on hold while waiting for parts",
                response_only=True,
                value=CLOCKS_EXAMPLE,
            )
        ],
    )
    def get(self, request: Request, number: str) -> Response:
        """The order's SLA clocks — response, arrival/start, resolution — with due times,
        time left and state. Staff of the owning or serving organisation and the order's
        technician; anybody else gets 404."""
        order = _order_for_sla(request.user, number)
        now = timezone.now()
        data = {"number": order.number, "clocks": clocks_for_order(work_order=order)}
        return Response(WorkOrderSlaSerializer(data, context={"now": now}).data)


# --- policies --------------------------------------------------------------------------------


class SlaPolicySerializer(serializers.ModelSerializer[SlaPolicy]):
    organization: serializers.PrimaryKeyRelatedField[Organization] = (
        serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    )
    service_type: serializers.PrimaryKeyRelatedField[ServiceType] = (
        serializers.PrimaryKeyRelatedField(
            queryset=ServiceType.objects.all(), allow_null=True, required=False
        )
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "organization",
            "name",
            "service_type",
            "priority",
            "response_minutes",
            "arrival_minutes",
            "resolution_minutes",
            "warn_at_percent",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The model's full_clean (in the service) checks the constraints, with our wording.
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        # Only the caller's own organisations (admin role) and their service types exist here:
        # another organisation's id is refused like a missing one.
        ids = sla_policy_admin_organization_ids(user=request.user)
        if ids is not None:
            self.fields["organization"].queryset = Organization.objects.filter(pk__in=ids)  # type: ignore[attr-defined]
            self.fields["service_type"].queryset = ServiceType.objects.filter(  # type: ignore[attr-defined]
                organization_id__in=ids
            )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance or SlaPolicy()
        moved = self.instance is not None and "organization" in attrs
        if moved and attrs["organization"].pk != instance.organization_id:
            raise serializers.ValidationError(
                {"organization": [_("A policy cannot move to another organisation.")]}
            )
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as error:
            detail = {
                ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
                for field, messages in error.message_dict.items()
            }
            raise serializers.ValidationError(detail) from None
        return attrs


POLICY_EXAMPLE = {
    "organization": 1,
    "name": "空调维修 · 加急",
    "service_type": 4,
    "priority": "urgent",
    "response_minutes": 30,
    "arrival_minutes": 240,
    "resolution_minutes": 1440,
    "warn_at_percent": 80,
    "is_active": True,
}


@extend_schema_view(
    create=extend_schema(
        examples=[OpenApiExample("Urgent air-conditioner repairs", value=POLICY_EXAMPLE)]
    ),
    list=extend_schema(
        examples=[
            OpenApiExample(
                "One policy",
                response_only=True,
                value={
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "id": 3,
                            **POLICY_EXAMPLE,
                            "created_at": "2026-11-20T10:00:00+08:00",
                            "updated_at": "2026-11-20T10:00:00+08:00",
                        }
                    ],
                },
            )
        ]
    ),
)
class SlaPolicyViewSet(viewsets.ModelViewSet[SlaPolicy]):
    """SLA policies of your organisations: targets in minutes for response (submitted →
    accepted), arrival/start (accepted → in service) and resolution (submitted → completed),
    narrowed by service type and/or priority; the most specific active one applies to a new
    order. Staff read; administrators create, change and delete. Another organisation's policy
    answers 404."""

    serializer_class = SlaPolicySerializer
    filterset_fields = ["organization", "service_type", "priority", "is_active"]
    search_fields = ["name"]

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return sla_policy_list_for_user(user=self.request.user).order_by("pk")

    def _require_admin(self, organization_id: int) -> None:
        ids = sla_policy_admin_organization_ids(user=self.request.user)
        if ids is not None and organization_id not in ids:
            raise PermissionDenied(_("Only administrators can change SLA policies."))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if sla_policy_admin_organization_ids(user=request.user) == set():
            raise PermissionDenied(_("Only administrators can change SLA policies."))
        return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_admin(self.get_object().organization_id)
        return super().update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_admin(self.get_object().organization_id)
        return super().destroy(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[SlaPolicy]) -> None:
        policy = SlaPolicy(**serializer.validated_data)
        serializer.instance = services.sla_policy_save(policy=policy)

    def perform_update(self, serializer: serializers.BaseSerializer[SlaPolicy]) -> None:
        policy = serializer.instance
        assert policy is not None
        for name, value in serializer.validated_data.items():
            setattr(policy, name, value)
        serializer.instance = services.sla_policy_save(policy=policy)

    def perform_destroy(self, instance: SlaPolicy) -> None:
        services.sla_policy_delete(policy=instance)
