"""Dispatch API: ranked outlets for a product or an order, available slots, slot booking.

The ranked outlet list for a product is public (a customer compares outlets before reporting,
like the intake page); everything about an order or an organisation's outlet answers 404 to
anyone who may not see it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.models import Organization
from shouhou.accounts.selectors import outlet_list_for_user
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.dispatch.models import SlotBooking
from shouhou.dispatch.outlets import outlet_options, outlet_options_for_order
from shouhou.dispatch.slots import (
    DEFAULT_DAYS,
    HORIZON_DAYS,
    appointment_book,
    appointment_reschedule,
    available_slots,
    outlet_slots,
)
from shouhou.workorders.access import CUSTOMER, STAFF, TECHNICIAN, relations, workorder_visible_to
from shouhou.workorders.api.serializers import WorkOrderSerializer
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor


class OutletMatchSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    organization = serializers.IntegerField()
    address = serializers.CharField()
    phone = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    certification_tier = serializers.CharField()
    service_bays = serializers.IntegerField()
    distance_km = serializers.FloatField(allow_null=True, help_text="Straight line.")
    rating = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    rating_count = serializers.IntegerField()
    is_open_now = serializers.BooleanField()
    closes_at = serializers.DateTimeField(allow_null=True)
    next_opening = serializers.DateTimeField(allow_null=True)
    price_low = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    price_high = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class OutletMatchQuery(serializers.Serializer[Any]):
    organization = serializers.CharField(
        required=False, help_text="Code of the organisation the customer reports to."
    )
    work_order = serializers.CharField(
        required=False, help_text="A work-order number you may see (instead of the product)."
    )
    category = serializers.IntegerField(required=False)
    brand = serializers.IntegerField(required=False)
    product_model = serializers.IntegerField(required=False)
    fault_type = serializers.IntegerField(required=False)
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    open_now = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("organization") and not attrs.get("work_order"):
            raise serializers.ValidationError(_("Give an organisation code or a work order."))
        return attrs


class SlotSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField(
        help_text="Bays of the outlet, or technicians free for the whole window (on-site)."
    )
    booked = serializers.IntegerField()
    free = serializers.IntegerField()


class BookSlotInput(serializers.Serializer[Any]):
    start = serializers.DateTimeField(help_text="The start of one of the offered slots.")


class SlotBookingSerializer(serializers.ModelSerializer[SlotBooking]):
    work_order: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )

    class Meta:
        model = SlotBooking
        fields = ["id", "outlet", "work_order", "start", "end", "created_at"]


def _days(request: Request) -> int:
    try:
        days = int(request.query_params.get("days", DEFAULT_DAYS))
    except ValueError:
        days = DEFAULT_DAYS
    return min(max(days, 1), HORIZON_DAYS)


DAYS_PARAMETER = OpenApiParameter(
    "days", int, description=f"How many days ahead (1–{HORIZON_DAYS}, default {DEFAULT_DAYS})."
)


def _in(model: Any, organization: Organization, pk: int | None) -> Any:
    if pk is None:
        return None
    return model.objects.filter(organization=organization, pk=pk).first()


class OutletMatchView(APIView):
    """Outlets that may repair a product, nearest first (carry-in and mail-in)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OutletMatchQuery],
        responses=OutletMatchSerializer(many=True),
        examples=[
            OpenApiExample(
                "A Huawei phone, near Shenzhen Science Park",
                response_only=True,
                value=[
                    {
                        "id": 7,
                        "code": "sz-nanshan",
                        "name": "南山授权服务中心",
                        "organization": 1,
                        "address": "广东省深圳市南山区科技园路 1 号",
                        "phone": "0755-12345678",
                        "latitude": 22.5431,
                        "longitude": 114.0579,
                        "certification_tier": "gold",
                        "service_bays": 4,
                        "distance_km": 1.2,
                        "rating": "4.80",
                        "rating_count": 31,
                        "is_open_now": True,
                        "closes_at": "2026-11-23T18:00:00+08:00",
                        "next_opening": None,
                        "price_low": "899.00",
                        "price_high": "929.00",
                    }
                ],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        """Ranked by distance from (latitude, longitude), then rating. Public for an
        organisation's product; for a ``work_order`` the caller must be able to see it."""
        query = OutletMatchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        position = {"latitude": values.get("latitude"), "longitude": values.get("longitude")}
        if position["latitude"] is None or position["longitude"] is None:
            position = {"latitude": None, "longitude": None}
        if values.get("work_order"):
            order = get_object_or_404(
                workorder_visible_to(request.user).select_related(
                    "organization", "category", "brand", "product_model", "fault_type"
                ),
                number=values["work_order"],
            )
            options = outlet_options_for_order(work_order=order, limit=values["limit"], **position)
        else:
            organization = get_object_or_404(
                Organization, code=values["organization"], is_active=True
            )
            options = outlet_options(
                organization=organization,
                category=_in(ProductCategory, organization, values.get("category")),
                brand=_in(Brand, organization, values.get("brand")),
                product_model=_in(ProductModel, organization, values.get("product_model")),
                fault_type=_in(FaultType, organization, values.get("fault_type")),
                open_now=values["open_now"],
                limit=values["limit"],
                **position,
            )
        return Response(OutletMatchSerializer([o.as_dict() for o in options], many=True).data)


class OutletSlotsView(APIView):
    """Free appointment slots of one of your organisations' outlets."""

    @extend_schema(parameters=[DAYS_PARAMETER], responses=SlotSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        """Slots with a free bay over the next days; another organisation's outlet is 404."""
        outlet = get_object_or_404(outlet_list_for_user(user=request.user), pk=pk)
        slots = outlet_slots(outlet=outlet, days=_days(request))
        return Response(SlotSerializer([s.as_dict() for s in slots], many=True).data)


def _visible_order(request: Request, number: str) -> WorkOrder:
    return get_object_or_404(
        workorder_visible_to(request.user).select_related(
            "organization", "outlet", "technician", "customer", "fault_type"
        ),
        number=number,
    )


class WorkOrderSlotsView(APIView):
    """The times a work order can be booked into."""

    @extend_schema(parameters=[DAYS_PARAMETER], responses=SlotSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        """Carry-in/mail-in: the outlet's slots with a free bay; on-site: the two-hour windows
        in which a technician who could do the job is free (travel between jobs included)."""
        order = _visible_order(request, number)
        slots = available_slots(work_order=order, days=_days(request))
        return Response(SlotSerializer([s.as_dict() for s in slots], many=True).data)


class WorkOrderBookSlotView(APIView):
    """Book (or move) the order's appointment into an available slot."""

    @extend_schema(
        request=BookSlotInput,
        responses=WorkOrderSerializer,
        examples=[
            OpenApiExample(
                "Bring the car in at ten",
                request_only=True,
                value={"start": "2026-11-24T10:00:00+08:00"},
            )
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        """Staff and the assigned technician fix the appointment; the customer reschedules.
        A full slot answers 409 and nothing changes (the old booking is kept)."""
        order = _visible_order(request, number)
        parsed = BookSlotInput(data=request.data)
        parsed.is_valid(raise_exception=True)
        start = parsed.validated_data["start"]
        mine = relations(request.user, order)
        if STAFF in mine or TECHNICIAN in mine:
            role = "agent" if STAFF in mine else "technician"
            appointment_book(work_order=order, start=start, actor=Actor(request.user, role))  # type: ignore[arg-type]
        elif CUSTOMER in mine:
            appointment_reschedule(
                work_order=order,
                start=start,
                actor=Actor(request.user, "customer"),  # type: ignore[arg-type]
            )
        else:
            raise PermissionDenied(_("You cannot do this on this work order."))
        fresh = workorder_visible_to(request.user).get(pk=order.pk)
        return Response(WorkOrderSerializer(fresh, context={"request": request}).data)


class SlotBookingViewSet(viewsets.ReadOnlyModelViewSet[SlotBooking]):
    """Bays booked at your organisations' outlets. Another organisation's booking is 404."""

    serializer_class = SlotBookingSerializer
    filterset_fields = ["outlet"]
    ordering_fields = ["start"]

    def get_queryset(self) -> QuerySet[SlotBooking]:
        queryset = SlotBooking.objects.select_related("work_order").order_by("start", "pk")
        if sees_everything(self.request.user):
            return queryset
        return queryset.filter(outlet__organization_id__in=organization_ids_for(self.request.user))
