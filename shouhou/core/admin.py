"""Tenant-scoped Django admin: an organisation's admin manages only their organisation's rows.

Platform superusers see everything. For everybody else the changelist, the change/delete/
history pages, every foreign-key and many-to-many choice, and the organisation field are
limited to the organisations where the user has the ``admin`` role; an object outside that
scope answers 404 like anywhere else in Shouhou.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from shouhou.core.models import PeriodicJobState
from shouhou.core.tenancy import organization_ids_for

ADMIN_ROLES = ("admin",)


def admin_organization_ids(request: HttpRequest) -> set[int]:
    return organization_ids_for(request.user, roles=ADMIN_ROLES)


def _is_platform(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def _tenant_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its organisation, or None if it has no tenant."""
    if model._meta.label_lower == "accounts.organization":
        return "pk"
    names = {field.name for field in model._meta.get_fields()}
    if "organization" in names:
        return "organization"
    if "customer" in names:
        return "customer__organization"
    if "outlet" in names:
        return "outlet__organization"
    return None


def scope_choices(queryset: models.QuerySet[Any], request: HttpRequest) -> models.QuerySet[Any]:
    if _is_platform(request):
        return queryset
    if queryset.model is get_user_model():
        # A person belongs to no organisation: offer the members of the admin's organisations
        # (not every user of the platform, with other organisations' names and numbers).
        members = apps.get_model("accounts", "Membership").objects.filter(
            organization_id__in=admin_organization_ids(request), is_active=True
        )
        return queryset.filter(pk__in=members.values("user_id"))
    path = _tenant_path(queryset.model)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": admin_organization_ids(request)})


class TenantAdminMixin:
    """Mix into a ModelAdmin or an inline. ``tenant_field`` is the lookup to the organisation."""

    tenant_field = "organization"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if _is_platform(request):
            return queryset
        return queryset.filter(**{f"{self.tenant_field}__in": admin_organization_ids(request)})

    def _may(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if _is_platform(request):
            return True
        ids = admin_organization_ids(request)
        if not ids:
            return False
        if obj is None or obj.pk is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        kwargs.setdefault(
            "queryset", scope_choices(db_field.remote_field.model._default_manager.all(), request)
        )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        kwargs.setdefault(
            "queryset", scope_choices(db_field.remote_field.model._default_manager.all(), request)
        )
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


def _is_relation(model: type[models.Model], item: Any) -> bool:
    if not isinstance(item, str):
        return False
    try:
        return bool(get_fields_from_path(model, item)[-1].is_relation)
    except (FieldDoesNotExist, NotRelationField):
        return False


class TenantModelAdmin(TenantAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin for tenant rows; other tenants' objects answer 404 on every page."""

    def get_list_filter(self, request: HttpRequest) -> Any:
        # Django's default filter on a relation lists every row of the related model, which
        # would print other organisations' names (their brands, outlets...) in the sidebar.
        return [
            (item, admin.RelatedOnlyFieldListFilter) if _is_relation(self.model, item) else item
            for item in super().get_list_filter(request)
        ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        ids = sorted(admin_organization_ids(request))
        if self.tenant_field == "organization" and len(ids) == 1:
            initial.setdefault("organization", ids[0])
        return initial

    def _ensure_visible(self, request: HttpRequest, object_id: str | None) -> None:
        if object_id is None:
            return
        try:
            exists = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, TypeError):
            exists = False
        if not exists:
            raise Http404

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)


class TenantInline(TenantAdminMixin):
    """Inlines are reached through their parent, which is already scoped."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return super(TenantAdminMixin, self).get_queryset(request)  # type: ignore[misc]

    def _may(self, request: HttpRequest, obj: models.Model | None) -> bool:
        return _is_platform(request) or bool(admin_organization_ids(request))


@admin.register(PeriodicJobState)
class PeriodicJobStateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The scheduler's jobs for platform operators: when each ran, when it runs next, errors."""

    list_display = ["name", "next_run_at", "last_started_at", "last_finished_at", "runs"]
    readonly_fields = [
        "name",
        "next_run_at",
        "locked_by",
        "locked_until",
        "last_started_at",
        "last_finished_at",
        "last_error",
        "runs",
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_platform(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
