from __future__ import annotations

from django.contrib import admin

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
from shouhou.core.admin import TenantInline, TenantModelAdmin


@admin.register(ProductCategory)
class ProductCategoryAdmin(TenantModelAdmin):
    list_display = ["__str__", "code", "organization", "sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["organization", "parent__parent"]


@admin.register(Brand)
class BrandAdmin(TenantModelAdmin):
    list_display = ["name", "code", "organization", "is_active"]
    search_fields = ["name", "code"]


@admin.register(ProductModel)
class ProductModelAdmin(TenantModelAdmin):
    list_display = ["name", "code", "brand", "category", "warranty_months", "is_active"]
    list_filter = ["brand", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["brand", "category__parent"]


@admin.register(ServiceType)
class ServiceTypeAdmin(TenantModelAdmin):
    list_display = ["name", "code", "kind", "organization", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(SkillTag)
class SkillTagAdmin(TenantModelAdmin):
    list_display = ["name", "code", "organization"]
    search_fields = ["name", "code"]


class FaultTypeLineInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = FaultTypeLine
    extra = 1


@admin.register(FaultType)
class FaultTypeAdmin(TenantModelAdmin):
    list_display = ["name", "code", "category", "typical_duration_minutes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["required_skills"]
    inlines = [FaultTypeLineInline]
    list_select_related = ["category__parent"]


@admin.register(PriceListItem)
class PriceListItemAdmin(TenantModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "unit_price",
        "unit",
        "product_model",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["kind", "valid_from"]
    search_fields = ["code", "name"]
    date_hierarchy = "valid_from"
    list_select_related = ["product_model__brand"]
