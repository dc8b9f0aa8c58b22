"""Read API for the catalog and price lists, scoped to the caller's organisations."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from shouhou.catalog import selectors
from shouhou.catalog.models import (
    Brand,
    FaultType,
    FaultTypeLine,
    PriceListItem,
    ProductCategory,
    ProductModel,
    ServiceType,
    SkillTag,
)


class CategorySerializer(serializers.ModelSerializer[ProductCategory]):
    class Meta:
        model = ProductCategory
        fields = ["id", "organization", "parent", "name", "code", "path", "sort_order", "is_active"]


class BrandSerializer(serializers.ModelSerializer[Brand]):
    class Meta:
        model = Brand
        fields = ["id", "organization", "name", "code", "is_active"]


class ProductModelSerializer(serializers.ModelSerializer[ProductModel]):
    class Meta:
        model = ProductModel
        fields = [
            "id",
            "organization",
            "brand",
            "category",
            "name",
            "code",
            "warranty_months",
            "is_active",
        ]


class ServiceTypeSerializer(serializers.ModelSerializer[ServiceType]):
    class Meta:
        model = ServiceType
        fields = ["id", "organization", "kind", "name", "code", "is_active"]


class SkillSerializer(serializers.ModelSerializer[SkillTag]):
    class Meta:
        model = SkillTag
        fields = ["id", "organization", "name", "code"]


class FaultTypeLineSerializer(serializers.ModelSerializer[FaultTypeLine]):
    class Meta:
        model = FaultTypeLine
        fields = ["item_code", "quantity", "is_optional"]


class FaultTypeSerializer(serializers.ModelSerializer[FaultType]):
    typical_lines = FaultTypeLineSerializer(many=True, read_only=True)
    required_skills: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = FaultType
        fields = [
            "id",
            "organization",
            "category",
            "name",
            "code",
            "description",
            "required_skills",
            "typical_duration_minutes",
            "typical_lines",
            "is_active",
        ]


class PriceItemSerializer(serializers.ModelSerializer[PriceListItem]):
    class Meta:
        model = PriceListItem
        fields = [
            "id",
            "organization",
            "code",
            "name",
            "kind",
            "unit",
            "unit_price",
            "category",
            "product_model",
            "valid_from",
            "valid_to",
        ]


class EstimateLineSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_optional = serializers.BooleanField()


class EstimateSerializer(serializers.Serializer[Any]):
    low = serializers.DecimalField(max_digits=12, decimal_places=2)
    high = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(default="CNY")
    lines = EstimateLineSerializer(many=True)
    missing_codes = serializers.ListField(child=serializers.CharField())


class EstimateQuerySerializer(serializers.Serializer[Any]):
    on = serializers.DateField(required=False)
    product_model = serializers.IntegerField(required=False, min_value=1)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet[ProductCategory]):
    serializer_class = CategorySerializer
    filterset_fields = ["organization", "parent", "is_active"]
    search_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[ProductCategory]:
        return selectors.category_list_for_user(user=self.request.user).order_by("pk")


class BrandViewSet(viewsets.ReadOnlyModelViewSet[Brand]):
    serializer_class = BrandSerializer
    filterset_fields = ["organization", "is_active"]
    search_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[Brand]:
        return selectors.brand_list_for_user(user=self.request.user).order_by("pk")


class ProductModelViewSet(viewsets.ReadOnlyModelViewSet[ProductModel]):
    serializer_class = ProductModelSerializer
    filterset_fields = ["organization", "brand", "category", "is_active"]
    search_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[ProductModel]:
        return selectors.product_model_list_for_user(user=self.request.user).order_by("pk")


class ServiceTypeViewSet(viewsets.ReadOnlyModelViewSet[ServiceType]):
    serializer_class = ServiceTypeSerializer
    filterset_fields = ["organization", "kind", "is_active"]

    def get_queryset(self) -> QuerySet[ServiceType]:
        return selectors.service_type_list_for_user(user=self.request.user).order_by("pk")


class SkillViewSet(viewsets.ReadOnlyModelViewSet[SkillTag]):
    serializer_class = SkillSerializer
    filterset_fields = ["organization"]
    search_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[SkillTag]:
        return selectors.skill_list_for_user(user=self.request.user).order_by("pk")


class FaultTypeViewSet(viewsets.ReadOnlyModelViewSet[FaultType]):
    serializer_class = FaultTypeSerializer
    filterset_fields = ["organization", "category", "is_active"]
    search_fields = ["name", "code"]

    def get_queryset(self) -> QuerySet[FaultType]:
        return selectors.fault_type_list_for_user(user=self.request.user).order_by("pk")

    @extend_schema(parameters=[EstimateQuerySerializer], responses=EstimateSerializer)
    @action(detail=True, methods=["get"])
    def estimate(self, request: Request, pk: str | None = None) -> Response:
        """The expected price range of this fault from the price list in force."""
        fault_type = self.get_object()
        query = EstimateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        estimate = selectors.fault_type_estimate(
            fault_type=fault_type,
            on=query.validated_data.get("on"),
            product_model_id=query.validated_data.get("product_model"),
        )
        data = {
            "low": estimate.low,
            "high": estimate.high,
            "currency": "CNY",
            "lines": [
                {
                    "code": line.code,
                    "name": line.name,
                    "kind": line.kind,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                    "is_optional": line.is_optional,
                }
                for line in estimate.lines
            ],
            "missing_codes": list(estimate.missing_codes),
        }
        return Response(EstimateSerializer(data).data)


class PriceItemFilter(filters.FilterSet):
    on = filters.DateFilter(method="filter_on", label="In force on")

    class Meta:
        model = PriceListItem
        fields = ["organization", "code", "kind", "category", "product_model"]

    def filter_on(
        self, queryset: QuerySet[PriceListItem], name: str, value: Any
    ) -> QuerySet[PriceListItem]:
        day = value or timezone.localdate()
        return queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)


class PriceItemViewSet(viewsets.ReadOnlyModelViewSet[PriceListItem]):
    """Price-list rows; ``?on=2026-11-22`` gives those in force on a day."""

    serializer_class = PriceItemSerializer
    filterset_class = PriceItemFilter
    search_fields = ["name", "code"]
    ordering_fields = ["code", "valid_from", "unit_price"]

    def get_queryset(self) -> QuerySet[PriceListItem]:
        return selectors.price_item_list_for_user(user=self.request.user).order_by("pk")
