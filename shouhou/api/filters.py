"""The API's filter backend: a relation filter accepts only rows the caller may know about.

django-filter builds the choices of a relation filter (``?organization=``, ``?brand=``) from
every row of the related model, so another organisation's id quietly matched nothing (200, an
empty list) while an id that does not exist was refused (400): the answer told the two apart.
Here the choices are the caller's own organisations' rows plus the rows that the list itself
already shows (an order served by a partner's outlet), so another organisation's unrelated row is
refused exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q
from django_filters import rest_framework as filters

from shouhou.core.tenancy import organization_ids_for, sees_everything


def _tenant_field(model: type[Model]) -> str | None:
    if model._meta.label_lower == "accounts.organization":
        return "pk"
    if any(field.name == "organization" for field in model._meta.get_fields()):
        return "organization"
    return None


class TenantFilterBackend(filters.DjangoFilterBackend):
    def get_filterset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None or sees_everything(request.user):
            return filterset
        own = organization_ids_for(request.user)
        for filter_ in filterset.filters.values():
            if not isinstance(
                filter_, filters.ModelChoiceFilter | filters.ModelMultipleChoiceFilter
            ):
                continue
            choices = filter_.get_queryset(request)
            tenant_field = _tenant_field(choices.model) if choices is not None else None
            if tenant_field is None:
                continue
            filter_.queryset = choices.filter(
                Q(**{f"{tenant_field}__in": own}) | Q(pk__in=queryset.values(filter_.field_name))
            )
        return filterset
