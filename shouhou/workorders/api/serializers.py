"""Input and output serializers of the work-order API (input ones are separate, per STYLE)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers

from shouhou.api.inputs import SharedFields
from shouhou.core.phone import mask_phone, normalize_phone
from shouhou.workorders.choices import (
    CUSTOMER_LABELS,
    AttachmentKind,
    Channel,
    FulfilmentMode,
    Priority,
    VisitOutcome,
)
from shouhou.workorders.models import Attachment, Visit, WorkOrder, WorkOrderEvent


class PhoneField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class VisitSerializer(serializers.ModelSerializer[Visit]):
    class Meta:
        model = Visit
        fields = [
            "id",
            "technician",
            "status",
            "planned_start",
            "planned_end",
            "en_route_at",
            "arrived_at",
            "checked_in_at",
            "checked_out_at",
            "diagnosis",
            "work_done",
            "outcome",
        ]


class WorkOrderSerializer(serializers.ModelSerializer[WorkOrder]):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_phone = serializers.SerializerMethodField()
    customer_status = serializers.SerializerMethodField()
    technician_name = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()
    visits = VisitSerializer(many=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "number",
            "status",
            "customer_status",
            "organization",
            "service_organization",
            "customer",
            "customer_name",
            "customer_phone",
            "asset",
            "category",
            "brand",
            "product_model",
            "device_identifier",
            "service_type",
            "fault_type",
            "description",
            "channel",
            "priority",
            "fulfilment_mode",
            "latitude",
            "longitude",
            "preferred_start",
            "preferred_end",
            "appointment_start",
            "appointment_end",
            "outlet",
            "technician",
            "technician_name",
            "assignment_accepted_at",
            "is_under_warranty",
            "estimate_low",
            "estimate_high",
            "hold_reason",
            "cancellation_reason",
            "submitted_at",
            "accepted_at",
            "assigned_at",
            "scheduled_at",
            "started_at",
            "completed_at",
            "closed_at",
            "cancelled_at",
            "urge_count",
            "last_urged_at",
            "tracking_url",
            "visits",
        ]
        read_only_fields = fields

    def get_customer_phone(self, obj: WorkOrder) -> str:
        return mask_phone(obj.customer.phone)

    def get_customer_status(self, obj: WorkOrder) -> str:
        return str(CUSTOMER_LABELS[obj.status])

    def get_technician_name(self, obj: WorkOrder) -> str:
        return str(obj.technician) if obj.technician_id else ""

    def get_tracking_url(self, obj: WorkOrder) -> str:
        request = self.context.get("request")
        path = f"/t/{obj.tracking_token}/"
        return request.build_absolute_uri(path) if request else path


class WorkOrderCreatedSerializer(serializers.Serializer[Any]):
    """The answer to a create: what a caller needs at once, kept small because intake is the
    hottest path (the full order is one GET away)."""

    number = serializers.CharField()
    status = serializers.CharField()
    customer_status = serializers.CharField()
    organization = serializers.IntegerField()
    service_organization = serializers.IntegerField(allow_null=True)
    customer = serializers.IntegerField()
    estimate_low = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    estimate_high = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    is_under_warranty = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    tracking_url = serializers.CharField()

    @staticmethod
    def represent(order: WorkOrder, request: Any) -> dict[str, Any]:
        """Build the answer without DRF's per-field machinery (measured: 7 ms → 0.1 ms)."""
        path = f"/t/{order.tracking_token}/"
        return {
            "number": order.number,
            "status": order.status,
            "customer_status": str(CUSTOMER_LABELS[order.status]),
            "organization": order.organization_id,
            "service_organization": order.service_organization_id,
            "customer": order.customer_id,
            "estimate_low": None if order.estimate_low is None else f"{order.estimate_low:.2f}",
            "estimate_high": (
                None if order.estimate_high is None else f"{order.estimate_high:.2f}"
            ),
            "is_under_warranty": order.is_under_warranty,
            "submitted_at": serializers.DateTimeField().to_representation(order.submitted_at),
            "tracking_url": request.build_absolute_uri(path) if request else path,
        }


class SuggestionSerializer(serializers.Serializer[Any]):
    technician = serializers.IntegerField()
    name = serializers.CharField()
    score = serializers.FloatField(help_text="Lower is better: the weighted sum of the terms.")
    breakdown = serializers.JSONField()


class AddressInput(SharedFields, serializers.Serializer[Any]):
    province = serializers.CharField(max_length=32, required=False, allow_blank=True)
    city = serializers.CharField(max_length=32)
    district = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, min_value=-180, max_value=180
    )


class CustomerInput(SharedFields, serializers.Serializer[Any]):
    name = serializers.CharField(max_length=64)
    phone = PhoneField(max_length=32)


class WorkOrderCreateInput(SharedFields, serializers.Serializer[Any]):
    """The body of a create (the hottest write: its fields are bound once, see SharedFields)."""

    organization = serializers.IntegerField(required=False, min_value=1)
    customer = CustomerInput(required=False)
    address = AddressInput(required=False)
    asset = serializers.IntegerField(required=False, min_value=1)
    category = serializers.IntegerField(required=False, min_value=1)
    brand = serializers.IntegerField(required=False, min_value=1)
    product_model = serializers.IntegerField(required=False, min_value=1)
    device_identifier = serializers.CharField(max_length=64, required=False, allow_blank=True)
    service_type = serializers.IntegerField(min_value=1)
    fault_type = serializers.IntegerField(required=False, min_value=1)
    description = serializers.CharField(max_length=2000)
    fulfilment_mode = serializers.ChoiceField(choices=FulfilmentMode.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    outlet = serializers.IntegerField(required=False, min_value=1)
    preferred_start = serializers.DateTimeField(required=False)
    preferred_end = serializers.DateTimeField(required=False)


class ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class TriageInput(serializers.Serializer[Any]):
    fault_type = serializers.IntegerField(required=False, min_value=1)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class AssignOutletInput(serializers.Serializer[Any]):
    outlet = serializers.IntegerField(min_value=1)


class AssignTechnicianInput(serializers.Serializer[Any]):
    technician = serializers.IntegerField(min_value=1)


class NoteInput(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000)


class WindowInput(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class LocationInput(serializers.Serializer[Any]):
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, min_value=-180, max_value=180
    )


class ReportInput(serializers.Serializer[Any]):
    diagnosis = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    work_done = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SignInput(serializers.Serializer[Any]):
    signature = serializers.CharField(help_text="A data URL: data:image/png;base64,...")


class CompleteInput(LocationInput):
    outcome = serializers.ChoiceField(choices=VisitOutcome.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RatingInput(serializers.Serializer[Any]):
    attitude = serializers.IntegerField(min_value=1, max_value=5)
    professionalism = serializers.IntegerField(min_value=1, max_value=5)
    responsiveness = serializers.IntegerField(min_value=1, max_value=5)
    transparency = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class AttachmentInput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField()


class EventSerializer(serializers.ModelSerializer[WorkOrderEvent]):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrderEvent
        fields = [
            "id",
            "type",
            "actor_role",
            "actor_name",
            "from_status",
            "to_status",
            "reason",
            "data",
            "is_internal",
            "created_at",
        ]

    def get_actor_name(self, obj: WorkOrderEvent) -> str:
        return str(obj.actor) if obj.actor_id else ""


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "file",
            "thumbnail",
            "content_type",
            "size",
            "width",
            "height",
            "created_at",
        ]
