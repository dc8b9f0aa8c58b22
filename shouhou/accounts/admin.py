from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import Membership, OpeningHours, Organization, Outlet, User
from shouhou.accounts.services import user_get_or_create_by_phone
from shouhou.core.admin import TenantInline, TenantModelAdmin
from shouhou.core.phone import normalize_phone
from shouhou.core.tenancy import forget_memberships

admin.site.site_header = _("Shouhou administration")
admin.site.site_title = _("Shouhou")
admin.site.index_title = _("Configuration")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Platform staff only: organisation admins manage their people through memberships."""

    ordering = ["phone"]
    list_display = ["phone", "display_name", "email", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["phone", "display_name", "email"]
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Profile"), {"fields": ("display_name", "email", "preferred_language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "password1", "password2")}),)
    filter_horizontal = ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Organization)
class OrganizationAdmin(TenantModelAdmin):
    tenant_field = "pk"
    list_display = ["name", "code", "kind", "contact_phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["code", "kind", "is_active"]


class OpeningHoursInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = OpeningHours
    extra = 0


@admin.register(Outlet)
class OutletAdmin(TenantModelAdmin):
    list_display = [
        "name",
        "code",
        "organization",
        "city",
        "district",
        "certification_tier",
        "is_active",
    ]
    list_filter = ["certification_tier", "is_active", "city"]
    search_fields = ["name", "code", "address"]
    filter_horizontal = ["categories", "authorised_brands"]
    inlines = [OpeningHoursInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "name",
                    "code",
                    "phone",
                    "certification_tier",
                    "service_bays",
                    "is_active",
                )
            },
        ),
        (
            _("Location"),
            {"fields": ("province", "city", "district", "address", "latitude", "longitude")},
        ),
        (_("Capabilities"), {"fields": ("categories", "authorised_brands")}),
    )


class MembershipForm(forms.ModelForm):  # type: ignore[type-arg]
    """Add a member by mobile number: the account is created if the number has none yet."""

    phone = forms.CharField(label=_("mobile number"), max_length=32)
    display_name = forms.CharField(label=_("display name"), max_length=64, required=False)

    class Meta:
        model = Membership
        fields = ["organization", "role", "outlet", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["phone"].initial = self.instance.user.national_phone
            self.fields["phone"].disabled = True
            self.fields["display_name"].initial = self.instance.user.display_name

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outlet, organization = cleaned.get("outlet"), cleaned.get("organization")
        if outlet and organization and outlet.organization_id != organization.pk:
            self.add_error("outlet", _("The outlet must belong to the same organisation."))
        phone = cleaned.get("phone")
        if phone and organization and cleaned.get("role") and not self.instance.pk:
            exists = Membership.objects.filter(
                user__phone=phone, organization=organization, role=cleaned["role"]
            ).exists()
            if exists:
                self.add_error("role", _("This person already has this role here."))
        return cleaned

    def save(self, commit: bool = True) -> Membership:
        if not self.instance.pk:
            self.instance.user = user_get_or_create_by_phone(
                phone=self.cleaned_data["phone"],
                display_name=self.cleaned_data.get("display_name", ""),
            )
        user = self.instance.user
        name = self.cleaned_data.get("display_name")
        if name and name != user.display_name:
            user.display_name = name
            user.save(update_fields=["display_name"])
        if self.cleaned_data.get("role") == "admin" and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        membership: Membership = super().save(commit=commit)
        forget_memberships(user)
        return membership


@admin.register(Membership)
class MembershipAdmin(TenantModelAdmin):
    form = MembershipForm
    list_display = ["user", "organization", "role", "outlet", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__phone", "user__display_name"]
    list_select_related = ["user", "organization", "outlet"]
    fields = ["phone", "display_name", "organization", "role", "outlet", "is_active"]
