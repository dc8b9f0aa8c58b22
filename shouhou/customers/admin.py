from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shouhou.core.admin import TenantInline, TenantModelAdmin
from shouhou.customers.models import Address, Asset, Customer


class AddressInline(TenantInline, admin.StackedInline):  # type: ignore[type-arg]
    model = Address
    extra = 0


class AssetInline(TenantInline, admin.StackedInline):  # type: ignore[type-arg]
    model = Asset
    extra = 0


@admin.register(Customer)
class CustomerAdmin(TenantModelAdmin):
    list_display = ["name", "masked_phone", "organization", "created_at"]
    search_fields = ["name", "phone"]
    raw_id_fields = ["user"]
    inlines = [AddressInline, AssetInline]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Linking a login is a platform task: the user picker would list every user.
        return [] if request.user.is_superuser else ["user"]
