"""Base model pieces shared by every app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds ``created_at`` and ``updated_at`` (timezone-aware, set by the database layer)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def require_same_organization(instance: models.Model, messages: dict[str, object]) -> None:
    """Refuse related rows of another organisation: ``{field name: message}`` per field.

    Cross-tenant links are the easiest way to leak data between organisations, so every
    model whose foreign keys point at tenant rows checks them in ``clean()`` with this.
    """
    from django.core.exceptions import ValidationError

    organization_id = getattr(instance, "organization_id", None)
    errors = {}
    for name, message in messages.items():
        if getattr(instance, f"{name}_id", None) is None:
            continue
        related = getattr(instance, name)
        if related.organization_id != organization_id:
            errors[name] = message
    if errors:
        raise ValidationError(errors)
