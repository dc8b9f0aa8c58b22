"""API for organisations, outlets and signing in (token by password or SMS code)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from shouhou.accounts.models import OpeningHours, Organization, Outlet
from shouhou.accounts.selectors import organization_list_for_user, outlet_list_for_user
from shouhou.accounts.services import sms_code_request
from shouhou.core.phone import normalize_phone


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "name", "code", "kind", "contact_phone"]


class OpeningHoursSerializer(serializers.ModelSerializer[OpeningHours]):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]


class OutletSerializer(serializers.ModelSerializer[Outlet]):
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)
    categories: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    authorised_brands: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Outlet
        fields = [
            "id",
            "organization",
            "name",
            "code",
            "phone",
            "province",
            "city",
            "district",
            "address",
            "latitude",
            "longitude",
            "certification_tier",
            "service_bays",
            "categories",
            "authorised_brands",
            "opening_hours",
            "is_active",
        ]


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet[Organization]):
    """Organisations the caller is a member of."""

    serializer_class = OrganizationSerializer
    filterset_fields = ["kind"]
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[Organization]:
        return organization_list_for_user(user=self.request.user).order_by("name")


class OutletFilter(filters.FilterSet):
    category = filters.NumberFilter(field_name="categories")
    brand = filters.NumberFilter(field_name="authorised_brands")

    class Meta:
        model = Outlet
        fields = ["organization", "city", "district", "certification_tier", "is_active"]


class OutletViewSet(viewsets.ReadOnlyModelViewSet[Outlet]):
    """Outlets (service points) of the caller's organisations."""

    serializer_class = OutletSerializer
    filterset_class = OutletFilter
    search_fields = ["name", "code", "address"]
    ordering_fields = ["name", "code", "city"]

    def get_queryset(self) -> QuerySet[Outlet]:
        return outlet_list_for_user(user=self.request.user).order_by("pk").distinct()


class SmsCodeThrottle(AnonRateThrottle):
    scope = "sms_code"


class SmsCodeRequestSerializer(serializers.Serializer[Any]):
    phone = serializers.CharField(max_length=32, help_text=_("Mobile number, e.g. 13800138000"))

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class SmsCodeRequestView(APIView):
    """Send a 6-digit login code by SMS (1 a minute, 5 an hour per number)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [SmsCodeThrottle]

    @extend_schema(
        request=SmsCodeRequestSerializer,
        responses={202: inline_serializer("SmsCodeSent", {"detail": serializers.CharField()})},
        examples=[
            OpenApiExample("Request a code", value={"phone": "13800138000"}, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = SmsCodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sms_code_request(phone=serializer.validated_data["phone"])
        return Response({"detail": _("The code was sent.")}, status=status.HTTP_202_ACCEPTED)


class TokenRequestSerializer(serializers.Serializer[Any]):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(
        required=False, style={"input_type": "password"}, trim_whitespace=False
    )
    code = serializers.RegexField(r"^\d{6}$", required=False)

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("password")) == bool(attrs.get("code")):
            raise serializers.ValidationError(_("Give either a password or an SMS code."))
        return attrs


class TokenView(APIView):
    """Exchange a password or an SMS code for an API token (``Authorization: Token ...``)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenIssued", {"token": serializers.CharField()})},
        examples=[
            OpenApiExample(
                "With a password",
                value={"phone": "13800138000", "password": "secret"},
                request_only=True,
            ),
            OpenApiExample(
                "With an SMS code",
                value={"phone": "13800138000", "code": "123456"},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("password"):
            user = authenticate(request._request, phone=data["phone"], password=data["password"])
        else:
            user = authenticate(request._request, phone=data["phone"], sms_code=data["code"])
        if user is None:
            return Response(
                {
                    "detail": _("The mobile number or password is not correct."),
                    "code": "invalid_login",
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
