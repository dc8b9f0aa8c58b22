from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.choices import Role
from shouhou.accounts.services import membership_grant, user_get_or_create_by_phone
from shouhou.core.admin import TenantInline, TenantModelAdmin, admin_organization_ids
from shouhou.core.phone import normalize_phone
from shouhou.dispatch.models import (
    DayOff,
    DispatchAttempt,
    DispatchModeOverride,
    DispatchPolicy,
    OutletSlot,
    RoutePlan,
    RouteStop,
    Shift,
    SlotBooking,
    Technician,
    TechnicianSkill,
)


class TechnicianForm(forms.ModelForm):  # type: ignore[type-arg]
    """Add a technician by mobile number; the login and the technician role come with it."""

    phone = forms.CharField(label=_("mobile number"), max_length=32)
    display_name = forms.CharField(label=_("display name"), max_length=64)

    class Meta:
        model = Technician
        fields = ["organization", "outlet", "home_latitude", "home_longitude", "is_active"]

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
        if (
            phone
            and organization
            and not self.instance.pk
            and Technician.objects.filter(organization=organization, user__phone=phone).exists()
        ):
            self.add_error("phone", _("This person is already a technician here."))
        return cleaned


class TechnicianSkillInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = TechnicianSkill
    extra = 1


class ShiftInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = Shift
    extra = 0


class DayOffInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = DayOff
    extra = 0


@admin.register(Technician)
class TechnicianAdmin(TenantModelAdmin):
    list_display = ["user", "organization", "outlet", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["user__phone", "user__display_name"]
    list_select_related = ["user", "organization", "outlet"]
    inlines = [TechnicianSkillInline, ShiftInline, DayOffInline]
    form = TechnicianForm
    fields = [
        "phone",
        "display_name",
        "organization",
        "outlet",
        "home_latitude",
        "home_longitude",
        "is_active",
    ]

    def save_model(self, request: HttpRequest, obj: Technician, form: Any, change: bool) -> None:
        # Runs only once the form and every inline are valid, inside the admin's transaction.
        data = form.cleaned_data
        if change:
            user = obj.user
            if data["display_name"] != user.display_name:
                user.display_name = data["display_name"]
                user.save(update_fields=["display_name"])
        else:
            obj.user = user_get_or_create_by_phone(
                phone=data["phone"], display_name=data["display_name"]
            )
            membership_grant(
                user=obj.user,
                organization=obj.organization,
                role=Role.TECHNICIAN,
                outlet=obj.outlet,
            )
        super().save_model(request, obj, form, change)


@admin.register(DispatchPolicy)
class DispatchPolicyAdmin(TenantModelAdmin):
    """An organisation's dispatch mode, offer and pool times, and weights for ranking
    technicians: one row per organisation."""

    list_display = [
        "organization",
        "mode",
        "offer_timeout_seconds",
        "weight_travel",
        "weight_load",
        "weight_rating",
        "weight_first_time_fix",
        "weight_skill_level",
    ]
    list_select_related = ["organization"]
    fields = [
        "organization",
        "mode",
        "offer_timeout_seconds",
        "pool_timeout_seconds",
        "weight_travel",
        "weight_load",
        "weight_rating",
        "weight_first_time_fix",
        "weight_skill_level",
        "road_factor",
        "speed_kmh",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # One policy per organisation: adding is offered while one of the admin's
        # organisations has none (without one, the default weights apply).
        if not super().has_add_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        ids = admin_organization_ids(request)
        return DispatchPolicy.objects.filter(organization_id__in=ids).count() < len(ids)


class RouteStopInline(TenantInline, admin.TabularInline):  # type: ignore[type-arg]
    model = RouteStop
    extra = 0
    can_delete = False
    fields = (
        "sequence",
        "work_order",
        "eta",
        "planned_start",
        "planned_end",
        "travel_seconds",
        "distance_m",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoutePlan)
class RoutePlanAdmin(TenantModelAdmin):
    """Route plans for looking only: they are built by the solver (route_plan_build)."""

    list_display = [
        "technician",
        "day",
        "computed_at",
        "total_travel_minutes",
        "total_distance_m",
    ]
    list_filter = ["day"]
    list_select_related = ["technician__user"]
    date_hierarchy = "day"
    fields = (
        "organization",
        "technician",
        "day",
        "computed_at",
        "starts_at",
        "ends_at",
        "total_travel_seconds",
        "total_distance_m",
        "unassigned",
        "solver",
        "solve_seconds",
    )
    readonly_fields = fields
    inlines = [RouteStopInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DispatchModeOverrideForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DispatchModeOverride
        fields = ["organization", "service_type", "mode"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        service_type, organization = cleaned.get("service_type"), cleaned.get("organization")
        if service_type and organization and service_type.organization_id != organization.pk:
            self.add_error(
                "service_type", _("The service type must belong to the same organisation.")
            )
        return cleaned


@admin.register(DispatchModeOverride)
class DispatchModeOverrideAdmin(TenantModelAdmin):
    """A service type dispatched differently from the organisation's mode."""

    form = DispatchModeOverrideForm
    list_display = ["service_type", "mode", "organization"]
    list_filter = ["mode"]
    list_select_related = ["service_type", "organization"]


@admin.register(DispatchAttempt)
class DispatchAttemptAdmin(TenantModelAdmin):
    """Offers, pool entries and assignments with their outcomes: read only (the services
    write them)."""

    list_display = [
        "work_order",
        "sequence",
        "mode",
        "technician",
        "offered_at",
        "expires_at",
        "outcome",
    ]
    list_filter = ["mode", "outcome"]
    list_select_related = ["work_order", "technician__user"]
    search_fields = ["work_order__number"]
    date_hierarchy = "offered_at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OutletSlotForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = OutletSlot
        fields = ["capacity"]

    def clean_capacity(self) -> int:
        capacity: int = self.cleaned_data["capacity"]
        if capacity < self.instance.booked:
            raise forms.ValidationError(
                _("%(booked)s bays are already booked in this slot; move those bookings first.")
                % {"booked": self.instance.booked}
            )
        return capacity


@admin.register(OutletSlot)
class OutletSlotAdmin(TenantModelAdmin):
    """Bay counters of outlet slots. Rows appear with the first booking; only the capacity
    may be changed here (close a bay for one slot, or open one more), never below what is
    booked. Bookings change only through the booking services."""

    tenant_field = "outlet__organization"
    form = OutletSlotForm
    list_display = ["outlet", "start", "end", "booked", "capacity"]
    list_select_related = ["outlet"]
    search_fields = ["outlet__name", "outlet__code"]
    date_hierarchy = "start"
    readonly_fields = ["outlet", "start", "end", "booked"]
    fields = ["outlet", "start", "end", "booked", "capacity"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SlotBooking)
class SlotBookingAdmin(TenantModelAdmin):
    """Which order holds a bay when (read-only: book, move and free through the services)."""

    tenant_field = "outlet__organization"
    list_display = ["outlet", "start", "end", "work_order", "created_at"]
    list_select_related = ["outlet", "work_order"]
    date_hierarchy = "start"
    search_fields = ["work_order__number", "outlet__name", "outlet__code"]
    readonly_fields = ["slot", "outlet", "work_order", "start", "end", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
