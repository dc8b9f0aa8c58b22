"""The webhooks API: an organisation's endpoints (CRUD, rotate the secret, send a test event)
and their deliveries (list with filters, one with its attempts, replay).

Only organisation administrators: anyone else gets 403, and another organisation's endpoint or
delivery answers 404. The signing secret is in the answer to create and rotate only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from shouhou.accounts.models import Organization
from shouhou.api.filters import TenantFilterBackend
from shouhou.webhooks import selectors, services
from shouhou.webhooks.choices import WebhookDeliveryState, WebhookDisabledReason
from shouhou.webhooks.models import WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.tasks import send_webhook

# --- serializers -----------------------------------------------------------------------------


class LastDeliverySerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=WebhookDeliveryState.choices)
    status_code = serializers.IntegerField(allow_null=True)
    event_type = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    last_delivery = serializers.SerializerMethodField(
        help_text="The newest delivery to this endpoint, or null."
    )
    disabled_reason = serializers.ChoiceField(
        choices=WebhookDisabledReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why it is disabled: `manual` (an administrator) or `failing` (every attempt "
        "failed for WEBHOOK_DISABLE_AFTER_SECONDS); empty while active.",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(), help_text="Empty: every event type."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organization",
            "url",
            "description",
            "event_types",
            "is_active",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "disabled_detail",
            "previous_secret_expires_at",
            "last_delivery",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LastDeliverySerializer(allow_null=True))
    def get_last_delivery(self, endpoint: WebhookEndpoint) -> dict[str, Any] | None:
        state = getattr(endpoint, "last_state", None)
        if state is None:
            return None
        return {
            "state": state,
            "status_code": endpoint.last_code,  # type: ignore[attr-defined]
            "event_type": endpoint.last_event_type,  # type: ignore[attr-defined]
            "created_at": endpoint.last_at,  # type: ignore[attr-defined]
        }


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret. Only in the answer to create and rotate-secret: store it.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInput(serializers.Serializer[Any]):
    organization = serializers.IntegerField(
        required=False,
        help_text="Needed only when you administer more than one organisation.",
    )
    url = serializers.URLField(max_length=500, help_text="Must start with https://.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=services.webhook_event_type_choices()),
        required=False,
        help_text="Event types to send; empty or absent sends every type.",
    )
    is_active = serializers.BooleanField(required=False, default=True)

    def validate_url(self, value: str) -> str:
        try:
            return services.webhook_url_check(value)
        except services.WebhookUrlInvalid as error:
            raise serializers.ValidationError(str(error)) from error


class WebhookAttemptSerializer(serializers.Serializer[Any]):
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response_excerpt = serializers.CharField(help_text="The first 500 characters of the answer.")
    request_headers = serializers.DictField(
        child=serializers.CharField(), help_text="As sent, with Shouhou-Signature."
    )
    request_body = serializers.CharField(help_text="The JSON body as sent.")


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    key = serializers.CharField(read_only=True, help_text="The Shouhou-Delivery header.")
    work_order = serializers.SerializerMethodField()
    last_duration_ms = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "key",
            "endpoint",
            "event_type",
            "work_order",
            "state",
            "attempts",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_work_order(self, delivery: WebhookDelivery) -> str | None:
        return delivery.event.work_order.number if delivery.event_id else None  # type: ignore[union-attr]


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "attempt_log"]
        read_only_fields = fields


# --- permissions and filters -----------------------------------------------------------------


class IsWebhookManager(BasePermission):
    """Organisation administrators (of at least one organisation) and platform superusers."""

    message = "Only organisation administrators manage webhooks."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return False
        ids = selectors.webhook_manager_organization_ids(request.user)
        if ids is None or ids:
            return True
        self.message = _("Only organisation administrators manage webhooks.")
        return False


class WebhookDeliveryFilter(filters.FilterSet):
    endpoint = filters.NumberFilter(field_name="endpoint_id")
    state = filters.ChoiceFilter(choices=WebhookDeliveryState.choices)
    event_type = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "state", "event_type"]


ENDPOINT_EXAMPLE = {
    "url": "https://erp.example.com/hooks/shouhou",
    "description": "ERP: order status",
    "event_types": ["status_changed", "completed"],
    "is_active": True,
}
CREATED_EXAMPLE = {
    "id": 7,
    "organization": 1,
    **ENDPOINT_EXAMPLE,
    "failing_since": None,
    "disabled_at": None,
    "disabled_reason": "",
    "disabled_detail": "",
    "previous_secret_expires_at": None,
    "last_delivery": None,
    "created_at": "2026-11-22T13:05:00+08:00",
    "updated_at": "2026-11-22T13:05:00+08:00",
    "secret": "whsec_5Jc0m9Zb2v8WfQy1Xo3nLk4Tq6Rp7Sd8Ue9Vf0Wg1Hi",
}


# --- views -----------------------------------------------------------------------------------


def _merged(current: dict[str, Any], given: Any) -> Any:
    """PATCH: the fields given over the current ones (JSON or form data)."""
    if isinstance(given, QueryDict):
        merged = given.copy()
        for key, value in current.items():
            if key not in merged:
                if isinstance(value, list):
                    merged.setlist(key, value)
                else:
                    merged[key] = value
        return merged
    return {**current, **given}


@extend_schema_view(
    list=extend_schema(summary="The webhook endpoints of the organisations I administer"),
    retrieve=extend_schema(summary="One webhook endpoint (without its secret)"),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[WebhookEndpoint]
):
    """Webhook endpoints: the URLs your systems receive work-order events on, signed."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsWebhookManager]
    lookup_value_regex = r"\d+"
    filterset_fields = ["is_active"]
    search_fields = ["url", "description"]
    ordering_fields = ["url", "created_at"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.webhook_endpoint_list(user=self.request.user)

    def _fresh(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        return self.get_queryset().get(pk=endpoint.pk)

    def _organization(self, requested: int | None) -> Organization:
        ids = selectors.webhook_manager_organization_ids(self.request.user)
        if requested is None:
            if ids is not None and len(ids) == 1:
                return Organization.objects.get(pk=min(ids))
            raise serializers.ValidationError({"organization": [_("Choose the organisation.")]})
        if ids is not None and requested not in ids:
            raise Http404
        try:
            return Organization.objects.get(pk=requested)
        except Organization.DoesNotExist:
            raise Http404 from None

    @extend_schema(
        summary="Add an endpoint; the answer carries its signing secret, this once",
        request=WebhookEndpointInput,
        responses={201: WebhookEndpointWithSecretSerializer},
        examples=[
            OpenApiExample("An ERP endpoint", value=ENDPOINT_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created", value=CREATED_EXAMPLE, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        data = WebhookEndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organization = self._organization(values.pop("organization", None))
        endpoint = services.webhook_endpoint_create(organization=organization, **values)
        return Response(
            WebhookEndpointWithSecretSerializer(self._fresh(endpoint)).data,
            status=status.HTTP_201_CREATED,
        )

    def _update(self, request: Request, *, partial: bool) -> Response:
        endpoint = self.get_object()
        current = {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "is_active": endpoint.is_active,
        }
        data = WebhookEndpointInput(
            data=_merged(current, request.data) if partial else request.data
        )
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("organization", None)  # an endpoint stays with its organisation
        values.setdefault("description", "")
        values.setdefault("event_types", [])
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **values)
        return Response(WebhookEndpointSerializer(self._fresh(endpoint)).data)

    @extend_schema(
        summary="Replace an endpoint's settings (enabling clears why it was disabled)",
        request=WebhookEndpointInput,
        responses=WebhookEndpointSerializer,
        examples=[OpenApiExample("Settings", value=ENDPOINT_EXAMPLE, request_only=True)],
    )
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some settings, e.g. enable or disable",
        request=WebhookEndpointInput(partial=True),
        responses=WebhookEndpointSerializer,
        examples=[OpenApiExample("Enable again", value={"is_active": True}, request_only=True)],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        summary="Delete an endpoint (one with deliveries is only disabled, keeping its log)",
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted: it had no deliveries."),
            200: OpenApiResponse(
                WebhookEndpointSerializer,
                description="Kept, disabled: it has deliveries in its log.",
            ),
        },
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        if services.webhook_endpoint_delete(endpoint=endpoint):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(WebhookEndpointSerializer(self._fresh(endpoint)).data)

    @extend_schema(
        summary="Make a new signing secret; the previous one keeps signing for the grace period",
        description="For WEBHOOK_SECRET_GRACE_SECONDS (24 h) every delivery carries two `v1` "
        "signatures, one per secret, so the receiver can switch at any moment.",
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
        examples=[
            OpenApiExample(
                "Rotated",
                value={
                    **CREATED_EXAMPLE,
                    "previous_secret_expires_at": "2026-11-23T13:05:00+08:00",
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        endpoint = services.webhook_secret_rotate(endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(self._fresh(endpoint)).data)

    @extend_schema(
        summary="Send a signed `ping` test event to the endpoint (tried once)",
        description="The answer is the queued delivery; follow it at "
        "/api/v1/webhooks/deliveries/{id}/. 409 if the endpoint is disabled.",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.webhook_endpoint_send_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Deliveries to my organisations' endpoints, newest first"),
    retrieve=extend_schema(
        summary="One delivery with every attempt: body and headers sent, the answer",
        responses=WebhookDeliveryDetailSerializer,
    ),
)
class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[WebhookDelivery]
):
    """The delivery log: each event sent to each endpoint, its attempts, and replay."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsWebhookManager]
    lookup_value_regex = r"\d+"
    filterset_class = WebhookDeliveryFilter
    filter_backends = [TenantFilterBackend, OrderingFilter]
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        deliveries = selectors.webhook_delivery_list(user=self.request.user)
        if self.action == "retrieve":
            deliveries = deliveries.prefetch_related("attempt_log")
        return deliveries

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "retrieve":
            return WebhookDeliveryDetailSerializer
        return WebhookDeliverySerializer

    @extend_schema(
        summary="Send a delivery again, with the same Shouhou-Delivery id",
        description="409 while it is being sent, or when its endpoint is disabled.",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.webhook_delivery_replay(delivery=self.get_object())
        send_webhook.enqueue(delivery.pk)
        return Response(
            WebhookDeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )
