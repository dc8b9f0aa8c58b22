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


class PeriodicJobState(models.Model):
    """One row per periodic job: when it runs next and who holds its lease.

    The lease is what lets any number of workers run the scheduler: a worker runs a job only
    after a conditional UPDATE that moves ``locked_until`` into the future while the job is due
    and unleased, so one tick of a job runs on one worker at a time (``core.scheduler``).
    """

    name = models.CharField(_("name"), max_length=100, primary_key=True)
    next_run_at = models.DateTimeField(_("next run at"))
    locked_by = models.CharField(_("locked by"), max_length=64, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self) -> str:
        return self.name
